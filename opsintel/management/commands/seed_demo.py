from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from opsintel.demo import SIZES, DemoContext, seed_all


class Command(BaseCommand):
    help = (
        "Load deterministic demo data (idempotent: a second run leaves the same data) and one "
        "demo login per role."
    )

    def add_arguments(self, parser):
        parser.add_argument("--size", choices=list(SIZES), default="small")
        parser.add_argument("--seed", type=int, default=42)
        parser.add_argument(
            "--only",
            nargs="+",
            metavar="NAME",
            help="Load only these demo sets (e.g. users campaigns), with what they depend on.",
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="Run even with DEBUG off. Demo logins share one known password: never use "
            "this on a server holding real patient data.",
        )

    def handle(self, *args, size, seed, force, only=None, **options):
        if not settings.DEBUG and not force:
            raise CommandError(
                "seed_demo creates logins with a shared, printed password and runs only with "
                "DEBUG=1 (or --force on a throw-away database)."
            )
        try:
            ctx = seed_all(DemoContext(size=size, seed=seed), only=only)
        except ValueError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(self.style.SUCCESS(f"Demo data loaded (size {size}, seed {seed})."))
        self.stdout.write(f"\nDemo logins (password for all: {ctx.password})\n")
        width = max(len(username) for username, _ in ctx.logins)
        for username, roles in ctx.logins:
            self.stdout.write(f"  {username.ljust(width)}  {roles}")
