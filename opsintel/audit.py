"""Recording the PHI access trail.

Call `record_event` wherever a person views a patient or member record, exports, imports or
changes records in bulk. Pass the request when there is one (it supplies actor, address,
browser and path); tasks and commands pass `actor` instead.
"""

from django.db import models

from opsintel.models import AuditEvent
from opsintel.scoping import get_visible_or_404

Action = AuditEvent.Action


def client_ip(request):
    # REMOTE_ADDR only: X-Forwarded-For is set by clients as they please unless a trusted proxy
    # rewrites it, and the audit trail must not record a forged address.
    return request.META.get("REMOTE_ADDR") or None


def _object_type(model):
    if model is None:
        return ""
    meta = model._meta
    return f"{meta.app_label}.{meta.model_name}"


def record_event(
    action,
    *,
    request=None,
    actor=None,
    model=None,
    objects=None,
    object_ids=None,
    description="",
):
    """Write one AuditEvent and return it.

    `objects` may be a model instance, a list of instances or a queryset; `object_ids` may be
    given instead when the caller already holds the ids (exports stream rows and pass ids).
    """
    if request is not None and actor is None:
        user = getattr(request, "user", None)
        actor = user if user is not None and user.is_authenticated else None

    if isinstance(objects, models.Model):
        model = model or type(objects)
        object_ids = [objects.pk]
    elif isinstance(objects, models.QuerySet):
        model = model or objects.model
        object_ids = list(objects.values_list("pk", flat=True))
    elif objects is not None:
        objects = list(objects)
        if objects and model is None:
            model = type(objects[0])
        object_ids = [obj.pk for obj in objects]

    ids = [str(pk) for pk in (object_ids or [])]
    return AuditEvent.objects.create(
        actor=actor,
        actor_username=actor.get_username() if actor is not None else "",
        action=action,
        object_type=_object_type(model),
        object_ids=ids,
        object_count=len(ids),
        description=description[:255],
        ip_address=client_ip(request) if request is not None else None,
        user_agent=(request.META.get("HTTP_USER_AGENT", "") if request is not None else "")[:512],
        path=(request.get_full_path() if request is not None else "")[:2048],
    )


def view_record(request, queryset, **lookups):
    """Load one record for display: within the user's scope (else 404), and audited as a view.

    Detail pages and API retrieve actions for PHI records call this instead of
    get_object_or_404, so scoping and the audit trail cannot be forgotten one without the other.
    """
    obj = get_visible_or_404(queryset, request.user, **lookups)
    record_event(Action.VIEW, request=request, objects=obj)
    return obj
