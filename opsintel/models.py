from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
from django.utils.functional import cached_property

from opsintel.roles import APP_LABELS, PLATFORM_ADMIN, use_permission
from opsintel.scoping import ScopedQuerySet


class User(AbstractUser):
    """A person who signs in. What they may do comes from their roles (Groups)."""

    class Meta:
        ordering = ["username"]

    @cached_property
    def role_names(self):
        return frozenset(self.groups.values_list("name", flat=True))

    def has_role(self, name):
        return name in self.role_names

    @property
    def is_platform_admin(self):
        return self.is_active and (self.is_superuser or self.has_role(PLATFORM_ADMIN))

    def can_use_app(self, app_label):
        return self.is_active and self.has_perm(use_permission(app_label))


class AppAccess(models.Model):
    """Holds the "may use this app" permissions; no table of its own."""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [(f"use_{label}", f"Can use the {label} app") for label in APP_LABELS]

    def __str__(self):
        return "app access"


class AuditEventQuerySet(ScopedQuerySet):
    def scope_for(self, user):
        # Reading the audit trail is itself sensitive: people see only their own events.
        return self.filter(actor=user)


class AuditEvent(models.Model):
    """Who did what to which records, when and from where (PHI access trail)."""

    class Action(models.TextChoices):
        VIEW = "view", "View"
        CREATE = "create", "Create"
        UPDATE = "update", "Update"
        DELETE = "delete", "Delete"
        EXPORT = "export", "Export"
        IMPORT = "import", "Import"
        LOGIN = "login", "Login"
        LOGOUT = "logout", "Logout"
        LOGIN_FAILED = "login_failed", "Failed login"

    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="audit_events",
    )
    # Kept as text too, so the trail still names the person after the account is deleted.
    actor_username = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=20, choices=Action.choices, db_index=True)
    object_type = models.CharField(
        max_length=100, blank=True, help_text='"app_label.model" of the records touched'
    )
    object_ids = models.JSONField(default=list, blank=True)
    object_count = models.PositiveIntegerField(default=0)
    description = models.CharField(max_length=255, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=512, blank=True)
    path = models.CharField(max_length=2048, blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["actor", "-at"], name="audit_actor_at"),
            models.Index(fields=["object_type", "-at"], name="audit_object_type_at"),
        ]

    def __str__(self):
        who = self.actor_username or "anonymous"
        what = f" {self.object_count} {self.object_type}" if self.object_type else ""
        return f"{who} {self.action}{what} at {self.at:%Y-%m-%d %H:%M:%S}"


class NoticeQuerySet(ScopedQuerySet):
    def visible_to(self, user):
        # A notice is private to its recipient: platform admins see only their own too.
        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        return self.filter(recipient=user)

    def scope_for(self, user):
        return self.filter(recipient=user)

    def unread(self):
        return self.filter(read_at__isnull=True)


class Notice(models.Model):
    """An in-app notice for one person (an alert, a finished job), shown until they read it.

    Apps create them through opsintel.notices.notify, which also sends the email."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notices"
    )
    app_label = models.CharField(max_length=30, blank=True)
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    link = models.CharField(max_length=500, blank=True, help_text="Where to act on it")
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    objects = NoticeQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["recipient", "read_at"], name="notice_recipient_unread")]

    def __str__(self):
        return self.title
