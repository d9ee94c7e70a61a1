"""Demo data: a registry of per-app generators and the platform's own (one user per role).

An app adds `<app>/demo.py` with a function decorated by `@demo_generator("<name>")`.
`manage.py seed_demo` imports every app's demo module and runs the generators in dependency
order, each in its own transaction. Generators must be deterministic (use `ctx.rng`, never the
global random module or the clock) and idempotent (upsert on natural keys), so running the
command twice leaves the same data.
"""

import hashlib
import random
from dataclasses import dataclass, field
from functools import cached_property

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils.module_loading import autodiscover_modules

from opsintel.roles import PLATFORM_ADMIN, ROLES

SIZES = {"small": 1, "medium": 10, "large": 100}


@dataclass
class DemoContext:
    size: str = "small"
    seed: int = 42
    password: str = ""
    rng: random.Random = field(init=False)
    # What generators report back, e.g. the demo logins, for the command to print.
    logins: list = field(default_factory=list)

    def __post_init__(self):
        if self.size not in SIZES:
            raise ValueError(f"size must be one of {', '.join(SIZES)}; got {self.size!r}")
        self.password = self.password or settings.OPSINTEL_DEMO_PASSWORD
        self.rng = random.Random(self.seed)

    @cached_property
    def password_hash(self):
        salt = hashlib.sha256(f"opsintel-demo-{self.seed}".encode()).hexdigest()[:32]
        return make_password(self.password, salt=salt)

    def scale(self, small_count):
        """How many of something to make: `small_count` at size small, x10 medium, x100 large."""
        return small_count * SIZES[self.size]

    def rng_for(self, name):
        """A generator's own random stream, so adding one generator does not shift another's."""
        return random.Random(f"{self.seed}:{name}")


@dataclass(frozen=True)
class _Generator:
    name: str
    function: object
    after: tuple


_GENERATORS = {}


def demo_generator(name, *, after=()):
    def register(function):
        _GENERATORS[name] = _Generator(name, function, tuple(after))
        return function

    return register


def generators_in_order(only=None):
    """Every registered generator (or those named in `only`, with what they need), each
    after the ones it depends on."""
    autodiscover_modules("demo")
    unknown = set(only or ()) - set(_GENERATORS)
    if unknown:
        known = ", ".join(sorted(_GENERATORS))
        raise ValueError(f"unknown demo data {', '.join(sorted(unknown))}; known: {known}")
    ordered, done = [], set()

    def visit(name, path=()):
        if name in done:
            return
        if name in path:
            raise ValueError(f"demo generators depend on each other in a cycle: {path}")
        if name not in _GENERATORS:
            raise ValueError(f"demo generator {path[-1]!r} runs after unknown {name!r}")
        for dependency in _GENERATORS[name].after:
            visit(dependency, (*path, name))
        done.add(name)
        ordered.append(_GENERATORS[name])

    for name in sorted(only or _GENERATORS):
        visit(name)
    return ordered


def seed_all(ctx, only=None):
    for generator in generators_in_order(only):
        with transaction.atomic():
            generator.function(ctx)
    return ctx


# The platform's own generator ------------------------------------------------------------------

# First and last names for the demo personas, in ROLES order.
_PERSONAS = [
    ("Pat", "Admin"),
    ("Maria", "Lopez"),
    ("Devon", "Clark"),
    ("Renee", "Okafor"),
    ("Samuel", "Reyes"),
    ("Alicia", "Brandt"),
    ("Marcus", "Webb"),
    ("Priya", "Nair"),
    ("Tom", "Hale"),
    ("Jordan", "Kim"),
    ("Luis", "Ortega"),
    ("Grace", "Mbeki"),
    ("Nora", "Fischer"),
    ("Hannah", "Sato"),
    ("Omar", "Haddad"),
    ("Ivy", "Chen"),
    ("Caleb", "Ruiz"),
    ("Dana", "Price"),
    ("Felix", "Moreau"),
    ("Greta", "Lind"),
    ("Irene", "Costa"),
    ("Victor", "Ames"),
    ("Yara", "Suleiman"),
    ("Ben", "Archer"),
]


def upsert_demo_user(ctx, username, *, first_name, last_name, roles, superuser=False):
    from opsintel.models import User

    user, _ = User.objects.update_or_create(
        username=username,
        defaults={
            "first_name": first_name,
            "last_name": last_name,
            "email": f"{username}@demo.opsintel.invalid",
            "is_active": True,
            "is_staff": superuser,
            "is_superuser": superuser,
        },
    )
    # One hash per run (a fixed salt from the seed), compared as text: hashing is slow by
    # design, and a second run writes the same row.
    if user.password != ctx.password_hash:
        user.password = ctx.password_hash
        user.save(update_fields=["password"])
    user.groups.set(Group.objects.filter(name__in=roles))
    ctx.logins.append((username, ", ".join(roles)))
    return user


@demo_generator("users")
def demo_users(ctx):
    for role, (first_name, last_name) in zip(ROLES, _PERSONAS, strict=True):
        upsert_demo_user(
            ctx,
            role.slug,
            first_name=first_name,
            last_name=last_name,
            roles=[role.name],
            superuser=role.name == PLATFORM_ADMIN,
        )
    # Someone who leads in several apps at once.
    upsert_demo_user(
        ctx,
        "ops-director",
        first_name="Morgan",
        last_name="Ellis",
        roles=[
            "Care manager",
            "Market manager",
            "Operations leader",
            "AR manager",
            "Pharmacy manager",
        ],
    )
