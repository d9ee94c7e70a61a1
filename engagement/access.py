"""Who may do what in the pharmacy app (the role matrix). Every page and API view asks `can`;
which rows they then see is the scoped querysets' business (engagement/models.py)."""

from engagement.models import Role

BOOK = "book"  # search slots, book, cancel, reschedule, register patients
CARE = "care"  # check in, complete with outcome, no-shows, work follow-up tasks
COMMUNICATE = "communicate"  # reminders panel, patient contact preferences
SCHEDULE_TEAM = "schedule_team"  # see the team's schedule, decide time off
PERFORMANCE = "performance"  # manager dashboard, weekly and monthly reports
BASIC_REPORTS = "basic_reports"  # the daily operations report
SETTINGS = "settings"  # appointment types, hours, targets (admin)

MATRIX = {
    Role.PHARMACY_MANAGER: {
        BOOK, CARE, COMMUNICATE, SCHEDULE_TEAM, PERFORMANCE, BASIC_REPORTS, SETTINGS,
    },
    Role.SENIOR_PHARMACIST: {BOOK, CARE, COMMUNICATE, SCHEDULE_TEAM, PERFORMANCE, BASIC_REPORTS},
    Role.STAFF_PHARMACIST: {BOOK, CARE, BASIC_REPORTS},
    Role.PHARMACY_TECHNICIAN: {BOOK, COMMUNICATE, BASIC_REPORTS},
    Role.ADMINISTRATIVE_STAFF: {BOOK},
}  # fmt: skip


def staff_of(user):
    """The signed-in user's staff record, or None."""
    if not user.is_authenticated:
        return None
    return getattr(user, "pharmacy_staff", None)


def can(user, capability):
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_platform_admin:
        return True
    staff = staff_of(user)
    return staff is not None and staff.active and capability in MATRIX.get(staff.role, set())
