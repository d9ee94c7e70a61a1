"""The expected-outcome table of the access matrix (tests/security/test_access_matrix.py).

One line per named URL pattern. A new URL without a line fails `test_every_url_pattern_has_a_row`.

    "rcm:claim_detail": page("rcm", "claim"),

reads: an rcm page about the fixture object `claim` (URL kwarg `pk`). Unless the line says
otherwise:

- anonymous → redirect to the login page (API: 401);
- a signed-in persona with no role in the app → 403;
- the app's personas and the platform admin → 200 (`post(...)`: 405 to a GET, the view takes
  POST only; the IDOR check POSTs);
- with an object, the app's scoped personas asking for the out-of-scope object (`claim_out`)
  get 404 (object-id guessing), and `lists=("claim",)` on a list checks that they see `claim`
  and never `claim_out`.

`only=(...)` narrows who gets the success answer (others with a role in the app get 403);
`cells={persona: status}` states any other answer for one persona. A status may be a tuple of
acceptable answers.
"""

import re
from dataclasses import dataclass, field

LOGIN = "login"  # 302 to the site's login page
ADMIN_LOGIN = "admin login"  # 302 to the admin's login page

# Personas: who signs in, with which roles. Every signed-in persona is also `is_staff`, so the
# admin rows prove the admin is behind the platform-admin role and not behind the staff flag.
PERSONAS = {
    "anonymous": None,
    "Care manager": ("Care manager",),
    "Care coordinator": ("Care coordinator",),
    "Market manager": ("Market manager",),
    "Operations leader": ("Operations leader",),
    "Advocate": ("Advocate",),
    "AR manager": ("AR manager",),
    "General agent": ("General agent",),
    "Pharmacy manager": ("Pharmacy manager",),
    "Staff pharmacist": ("Staff pharmacist",),
    "Platform admin": ("Platform admin",),
}
ADMIN = "Platform admin"

# The personas of each app.
APP_PERSONAS = {
    "campaigns": ("Care manager", "Care coordinator"),
    "leaderhub": ("Market manager",),
    "advocacy": ("Operations leader", "Advocate"),
    "rcm": ("AR manager", "General agent"),
    "engagement": ("Pharmacy manager", "Staff pharmacist"),
}
# The personas whose rows are narrowed to a scope (their work, their markets, their location):
# they get 404 for the fixture world's `*_out` objects.
SCOPED = {
    "campaigns": ("Care coordinator",),
    "leaderhub": ("Market manager",),
    "advocacy": ("Advocate",),
    "rcm": ("General agent",),
    "engagement": ("Pharmacy manager", "Staff pharmacist"),
}


@dataclass(frozen=True)
class Row:
    app: str | None  # None: a platform URL, the same for every signed-in persona
    obj: str | None = None  # the fixture object whose id the URL takes
    kwarg: str = "pk"
    extra: dict = field(default_factory=dict)  # further URL kwargs, as they are
    query: str = ""  # may name fixture objects: "?location={location}" (their ids)
    post: bool = False  # the view takes POST only
    api: bool = False
    only: tuple | None = None  # who gets the success answer (None: the app's personas)
    ok: object = 200  # the success answer to a GET
    anon: object = LOGIN
    denied: object = 403  # the answer to a signed-in persona without a role in the app
    cells: dict = field(default_factory=dict)
    lists: tuple = ()  # fixture objects the scoped personas see listed (and not their *_out)
    hides: tuple = ()  # fixture objects whose *_out the scoped personas never see listed
    data: dict = field(default_factory=dict)  # the POST body of the IDOR check
    shared: bool = False  # the object is not scoped (reference data): no IDOR check

    def kwargs(self, world, *, out=False):
        values = dict(self.extra)
        if self.obj:
            values[self.kwarg] = world[f"{self.obj}_out" if out else self.obj].pk
        return values

    def scoped_personas(self):
        return SCOPED.get(self.app, ())

    def expected(self, persona):
        if persona in self.cells:
            return self.cells[persona]
        if PERSONAS[persona] is None:
            return self.anon
        success = 405 if self.post else self.ok
        if self.app is None:
            return success
        members = (*APP_PERSONAS[self.app], ADMIN)
        if persona not in members:
            return self.denied
        if self.post and not self.api:
            return 405  # require_POST answers before the view looks at the role
        allowed = (*self.only, ADMIN) if self.only is not None else members
        # (DRF checks permissions first, then the method.)
        return success if persona in allowed else 403


# Who holds the managing role of an app (with the platform admin).
MANAGER = ("Care manager",)
LEADER = ("Operations leader",)
AR_MANAGER = ("AR manager",)
PHARMACY_MANAGER = ("Pharmacy manager",)
SLOTS = "?type={appointment_type}&location={location}&start=2030-01-07"


def page(app, obj=None, **options):
    return Row(app, obj, **options)


def post(app, obj=None, **options):
    return Row(app, obj, post=True, **options)


def api(app, obj=None, **options):
    return Row(app, obj, api=True, anon=401, **options)


def platform(**options):
    return Row(None, **options)


# Django admin --------------------------------------------------------------------------------
# Rule: the admin's own machinery is not listed one by one: AdminSite's views (login, logout,
# password change, jsi18n, autocomplete, view_on_site, app_list, the catch-all) and each
# ModelAdmin's generated views (<app>_<model>_add/change/delete/history, and
# django-import-export's _import/_process_import). They all sit behind the same
# `AdminSite.admin_view` check as the index, which is covered, plus model permissions. What IS
# listed: the index, one changelist per app, every admin export (PHI leaves the building) and
# every custom admin view.
ADMIN_SITE_VIEWS = {
    "login",
    "logout",
    "password_change",
    "password_change_done",
    "jsi18n",
    "autocomplete",
    "view_on_site",
    "app_list",
}
_ADMIN_GENERATED = re.compile(r"^admin:\w+_(add|change|delete|history|import|process_import)$")
_ADMIN_CHANGELIST = re.compile(r"^admin:\w+_changelist$")


def excluded(name):
    """True for URL names the documented admin rule leaves out of the table."""
    if not name.startswith("admin:"):
        return False
    if name in MATRIX:
        return False
    short = name.removeprefix("admin:")
    return (
        short in ADMIN_SITE_VIEWS
        or bool(_ADMIN_GENERATED.match(name))
        or bool(_ADMIN_CHANGELIST.match(name))
    )


# Only the platform admin; every other persona (all are staff) is sent to the admin login or
# refused.
NOT_ADMIN = (ADMIN_LOGIN, 403)


def admin_page(obj=None, **options):
    cells = {name: NOT_ADMIN for name in PERSONAS if name != ADMIN}
    cells["anonymous"] = ADMIN_LOGIN
    return Row(None, obj, cells=cells, **options)


def marker(obj):
    """Text that identifies a fixture object on a page or in an API answer."""
    for attribute in ("claim_number", "member_id", "external_id", "title", "name", "reason"):
        value = getattr(obj, attribute, None)
        if value:
            return str(value)
    return f'"id":{obj.pk},'


MATRIX = {
    # platform ---------------------------------------------------------------------------------
    "home": platform(),
    "healthz": platform(anon=200),
    "login": platform(anon=200, ok=302),
    "logout": platform(anon=405, ok=405),
    "password_change": platform(),
    "password_change_done": platform(),
    "notices": platform(),
    "notices_mark_all_read": platform(post=True),
    "notice_mark_read": platform(obj="notice", post=True),
    "api:root": platform(anon=401),
    "api:me": platform(anon=401),
    "api:token_obtain": platform(anon=405, ok=405),
    "api:token_refresh": platform(anon=405, ok=405),
    "api:schema": platform(anon=401),
    "api:docs": platform(anon=401),
    # admin ------------------------------------------------------------------------------------
    "admin:index": admin_page(),
    "admin:opsintel_auditevent_changelist": admin_page(),
    "admin:opsintel_auditevent_export": admin_page(),
    "admin:campaigns_member_changelist": admin_page(),
    "admin:campaigns_measure_export": admin_page(),
    "admin:campaigns_member_export": admin_page(),
    "admin:campaigns_intervention_export": admin_page(),
    "admin:campaigns_coordinator_export": admin_page(),
    "admin:leaderhub_visit_changelist": admin_page(),
    "admin:leaderhub_marketgroup_export": admin_page(),
    "admin:leaderhub_market_export": admin_page(),
    "admin:leaderhub_provider_export": admin_page(),
    "admin:leaderhub_marketactiveprovider_export": admin_page(),
    "admin:leaderhub_leaderaccess_export": admin_page(),
    "admin:advocacy_case_changelist": admin_page(),
    "admin:advocacy_advocate_export": admin_page(),
    "admin:advocacy_patient_export": admin_page(),
    "admin:advocacy_case_export": admin_page(),
    "admin:rcm_claim_changelist": admin_page(),
    "admin:rcm_claim_export": admin_page(),
    "admin:rcm_assignmentrule_test": admin_page(obj="assignment_rule", kwarg="object_id"),
    "admin:engagement_appointment_changelist": admin_page(),
    "admin:engagement_appointmenttype_export": admin_page(),
    "admin:engagement_patient_export": admin_page(),
    "admin:engagement_appointment_export": admin_page(),
    "admin:django_celery_beat_periodictask_changelist": admin_page(),
    # campaigns --------------------------------------------------------------------------------
    "campaigns:index": page("campaigns", ok=302),
    "campaigns:dashboard": page("campaigns", only=MANAGER),
    "campaigns:build": page("campaigns", only=MANAGER),
    "campaigns:select": post("campaigns"),
    "campaigns:list": page("campaigns", lists=("campaign",)),
    "campaigns:mobile": page("campaigns"),
    "campaigns:my_list": page("campaigns"),
    "campaigns:record_outcome": post("campaigns", "assignment", data={"status": "completed"}),
    "campaigns:detail": page("campaigns", "campaign"),
    "campaigns:rebalance": post("campaigns", "campaign"),
    "campaigns:move": post("campaigns", "campaign"),
    "campaigns:archive": post("campaigns", "campaign"),
    "campaigns:export_crm": page("campaigns", "campaign"),
    "campaigns:export_call_list": page("campaigns", "campaign"),
    "campaigns:call_list": page("campaigns", "campaign"),
    "campaigns-api:api-root": api("campaigns"),
    "campaigns-api:measure-list": api("campaigns"),
    "campaigns-api:measure-detail": api("campaigns", "measure", shared=True),
    "campaigns-api:intervention-list": api("campaigns", hides=("intervention",)),
    "campaigns-api:member-list": api("campaigns", hides=("member",)),
    "campaigns-api:member-detail": api("campaigns", "member"),
    "campaigns-api:campaign-list": api("campaigns", lists=("campaign",)),
    "campaigns-api:campaign-preview": api("campaigns", post=True),
    "campaigns-api:campaign-detail": api("campaigns", "campaign"),
    "campaigns-api:campaign-assignments": api("campaigns", "campaign"),
    "campaigns-api:campaign-export-call-list": api("campaigns", "campaign"),
    "campaigns-api:campaign-export-crm": api("campaigns", "campaign"),
    "campaigns-api:campaign-rebalance": api("campaigns", "campaign", post=True),
    "campaigns-api:assignment-list": api("campaigns", lists=("assignment",)),
    "campaigns-api:assignment-detail": api("campaigns", "assignment"),
    "campaigns-api:coordinator-workload-list": api("campaigns"),
    # leaderhub --------------------------------------------------------------------------------
    "leaderhub:index": page("leaderhub", ok=302),
    "leaderhub:markets": page("leaderhub"),
    "leaderhub:me": page("leaderhub"),
    "leaderhub:provider": page("leaderhub", "provider"),
    "leaderhub:shift": page("leaderhub", "shift"),
    "leaderhub-api:api-root": api("leaderhub"),
    "leaderhub-api:market": api("leaderhub", "market", kwarg="market_id"),
    "leaderhub-api:market-providers": api("leaderhub", "market", kwarg="market_id"),
    "leaderhub-api:provider": api("leaderhub", "provider", kwarg="provider_id"),
    "leaderhub-api:provider-visits": api("leaderhub", "provider", kwarg="provider_id"),
    "leaderhub-api:provider-shifts": api("leaderhub", "provider", kwarg="provider_id"),
    "leaderhub-api:provider-shift-breakdowns": api("leaderhub", "shift", kwarg="provider_shift_id"),
    # advocacy ---------------------------------------------------------------------------------
    "advocacy:index": page("advocacy", ok=302),
    "advocacy:my_cases": page("advocacy"),
    "advocacy:case_list": page("advocacy", lists=("case",)),
    "advocacy:case_detail": page("advocacy", "case"),
    "advocacy:log_interaction": post("advocacy", "case"),
    "advocacy:change_status": post("advocacy", "case"),
    "advocacy:assign_case": post("advocacy", "case"),
    "advocacy:risk_queue": page("advocacy"),
    "advocacy:executive": page("advocacy", only=LEADER),
    "advocacy:operations": page("advocacy", only=LEADER),
    "advocacy:root_cause": page("advocacy", only=LEADER),
    "advocacy:refresh_rollups": post("advocacy"),
    "advocacy-api:api-root": api("advocacy"),
    "advocacy-api:kpis": api("advocacy"),
    "advocacy-api:bottlenecks": api("advocacy"),
    "advocacy-api:case-list": api("advocacy", lists=("case",)),
    "advocacy-api:case-detail": api("advocacy", "case"),
    "advocacy-api:case-assign": api("advocacy", "case", post=True),
    "advocacy-api:case-events": api("advocacy", "case"),
    "advocacy-api:case-feedback": api("advocacy", "case", post=True),
    "advocacy-api:case-interactions": api("advocacy", "case"),
    "advocacy-api:case-transition": api("advocacy", "case", post=True),
    "advocacy-api:caseload-list": api("advocacy"),
    "advocacy-api:risk-list": api("advocacy"),
    # rcm --------------------------------------------------------------------------------------
    "rcm:index": page("rcm", ok=302),
    "rcm:work_queue": page("rcm"),
    "rcm:claim_list": page("rcm", lists=("claim",)),
    "rcm:claim_detail": page("rcm", "claim"),
    "rcm:complete_follow_up": post("rcm", "follow_up"),
    "rcm:dashboard": page("rcm", only=AR_MANAGER),
    "rcm:run_automation": post("rcm"),
    "rcm:generate_appeal": page("rcm", "claim"),
    "rcm:generate_document": page("rcm", "claim"),
    "rcm:document_detail": page("rcm", "document"),
    "rcm:document_download": page("rcm", "document", extra={"fmt": "txt"}),
    "rcm-api:api-root": api("rcm"),
    "rcm-api:claim-list": api("rcm", lists=("claim",)),
    "rcm-api:claim-detail": api("rcm", "claim"),
    "rcm-api:claim-assignments": api("rcm", "claim"),
    "rcm-api:follow-up-list": api("rcm", lists=("follow_up",)),
    "rcm-api:follow-up-detail": api("rcm", "follow_up"),
    "rcm-api:follow-up-complete": api("rcm", "follow_up", post=True),
    "rcm-api:document-list": api("rcm", lists=("document",)),
    "rcm-api:document-detail": api("rcm", "document"),
    "automation-api:assign-claims": api("rcm", post=True, only=AR_MANAGER),
    "automation-api:generate-appeal": api("rcm", post=True),
    "automation-api:schedule-followups": api("rcm", post=True, only=AR_MANAGER),
    "automation-api:generate-document": api("rcm", post=True),
    "automation-api:metrics": api("rcm", only=AR_MANAGER),
    # engagement -------------------------------------------------------------------------------
    "engagement:index": page("engagement", ok=302),
    "engagement:schedule": page("engagement"),
    "engagement:book": page("engagement"),
    "engagement:appointment_detail": page("engagement", "appointment"),
    "engagement:appointment_action": post("engagement", "appointment", extra={"action": "confirm"}),
    "engagement:patient_list": page("engagement", lists=("pharmacy_patient",)),
    "engagement:patient_create": page("engagement"),
    "engagement:patient_detail": page("engagement", "pharmacy_patient"),
    "engagement:task_list": page("engagement", lists=("task",)),
    "engagement:task_complete": post("engagement", "task"),
    "engagement:time_off": page("engagement"),
    "engagement:time_off_decide": post("engagement", "time_off", extra={"decision": "approve"}),
    "engagement:reminders": page("engagement", only=PHARMACY_MANAGER),
    "engagement:dashboard": page("engagement", only=PHARMACY_MANAGER),
    "engagement:report_list": page("engagement"),
    "engagement:report_detail": page("engagement", "report"),
    "engagement:report_csv": page("engagement", "report"),
    "engagement-api:api-root": api("engagement"),
    "engagement-api:slots": api("engagement", query=SLOTS),
    "engagement-api:kpis": api("engagement", only=PHARMACY_MANAGER),
    "engagement-api:appointment-type-list": api("engagement"),
    "engagement-api:appointment-type-detail": api("engagement", "appointment_type", shared=True),
    "engagement-api:appointment-list": api("engagement", lists=("appointment",)),
    "engagement-api:appointment-detail": api("engagement", "appointment"),
    "engagement-api:appointment-cancel": api("engagement", "appointment", post=True),
    "engagement-api:appointment-status": api("engagement", "appointment", post=True),
    "engagement-api:appointment-reminders": api("engagement", "appointment"),
    "engagement-api:appointment-reschedule": api("engagement", "appointment", post=True),
    "engagement-api:appointment-survey": api("engagement", "appointment", post=True),
    "engagement-api:task-list": api("engagement", lists=("task",)),
    "engagement-api:task-detail": api("engagement", "task"),
    "engagement-api:task-complete": api("engagement", "task", post=True),
    "engagement-api:patient-list": api("engagement", lists=("pharmacy_patient",)),
    "engagement-api:patient-detail": api("engagement", "pharmacy_patient"),
}


# Access bugs the matrix found that are not fixed yet: (URL name, persona) → what is wrong.
# Those cells are expected to fail (the test is marked xfail with the reason); once the fix
# lands the test fails until the entry is removed, so the table never hides a fixed bug.
KNOWN_FINDINGS = {}
