from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from opsintel.audit import Action, record_event


@receiver(user_logged_in)
def audit_login(sender, request, user, **kwargs):
    record_event(Action.LOGIN, request=request, actor=user, description="Signed in")


@receiver(user_logged_out)
def audit_logout(sender, request, user, **kwargs):
    if user is not None:
        record_event(Action.LOGOUT, request=request, actor=user, description="Signed out")


@receiver(user_login_failed)
def audit_login_failure(sender, credentials, request=None, **kwargs):
    # Django already masks the password in `credentials`; only the username is kept.
    username = str(credentials.get("username", ""))[:150]
    record_event(
        Action.LOGIN_FAILED,
        request=request,
        description=f"Failed sign-in for username {username!r}",
    )
