"""The rcm admin: every changelist renders, claim import through django-import-export uses the
importer's checks (dry-run preview with row errors, all or nothing, audited), rules are edited
with their errors on the fields, and "test this rule against a claim" explains the match."""

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib import admin
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from opsintel.models import AuditEvent
from rcm.models import AssignmentRule, Claim, DocumentTemplate, Patient
from tests.rcm.factories import TODAY, AgentFactory, ClaimFactory, PatientFactory, payer, queue

pytestmark = pytest.mark.django_db

Action = AuditEvent.Action
MODELS = [
    "payer",
    "followuprule",
    "workqueue",
    "agent",
    "holiday",
    "assignmentrule",
    "documenttemplate",
    "patient",
    "claim",
    "assignment",
    "followup",
    "generateddocument",
    "automationrun",
]
HEADER = (
    "claim_number,member_id,patient_name,date_of_birth,provider,payer,service_date,"
    "submission_date,procedure_code,diagnosis_code,amount,balance,status,denial_reason,notes"
)


@pytest.fixture
def admin_client(client, make_user):
    user = make_user(is_staff=True, is_superuser=True)
    client.force_login(user)
    client.user = user
    return client


def format_index(formats, title="csv"):
    return str([fmt().get_title() for fmt in formats].index(title))


def upload(client, body, name="claims.csv"):
    model_admin = admin.site._registry[Claim]
    return client.post(
        reverse("admin:rcm_claim_import"),
        {
            "resource": "0",
            "format": format_index(model_admin.get_import_formats()),
            "import_file": SimpleUploadedFile(name, body.encode(), "text/csv"),
        },
    )


@pytest.mark.parametrize("model", MODELS)
def test_every_changelist_renders_with_a_bounded_number_of_queries(
    admin_client, django_assert_max_num_queries, model
):
    agents = [AgentFactory(queue=queue("senior_agent")) for _ in range(3)]
    for n in range(12):
        ClaimFactory(agent=agents[n % 3], queue=agents[0].queue)
    with django_assert_max_num_queries(20):
        response = admin_client.get(reverse(f"admin:rcm_{model}_changelist"))
    assert response.status_code == 200


def test_rules_list_their_conditions_in_words(admin_client):
    response = admin_client.get(reverse("admin:rcm_assignmentrule_changelist"))
    text = response.content.decode()
    assert "amount &gt; $5,000" in text
    assert "payer type Medicare or Medicaid" in text
    assert "aging &gt; 90 days" in text
    assert "every claim (the catch-all default)" in text


def test_claim_import_preview_shows_row_errors_by_column_and_writes_nothing(admin_client):
    body = "\r\n".join(
        [
            HEADER,
            "C-1,M-1,Ann Lee,1960-04-02,Clinic,Aetna,2026-01-05,2026-01-09,99214,E11.9,75,,,,",
            "C-2,M-2,Bo Park,,Clinic,Nobody,2026-01-05,2026-01-09,99214,E11.9,-1,,,,",
            "C-3,M-3,Cy Diaz,,Clinic,Aetna,2026-02-05,2026-01-09,99214,E11.9,abc,,,,",
            "C-1,M-1,Ann Lee,1960-04-02,Clinic,Aetna,2026-01-05,2026-01-09,99214,E11.9,75,,,,",
        ]
    )

    response = upload(admin_client, body)

    assert response.status_code == 200
    result = response.context["result"]
    assert "confirm_form" not in response.context
    assert [row.number for row in result.invalid_rows] == [3, 4, 5]  # spreadsheet rows
    assert result.invalid_rows[0].error_dict == {
        "payer": [
            "payer 'Nobody' is not a known payer; add it in the admin first or use one of "
            "Aetna, Medicare"
        ],
        "amount": ["amount '-1' is negative"],
    }
    assert set(result.invalid_rows[1].error_dict) == {"service_date", "amount"}
    assert result.invalid_rows[2].error_dict == {
        "claim_number": ["claim_number 'C-1' is also on row 2"]
    }
    assert "is not a known payer" in response.content.decode()
    assert not Claim.objects.exists()
    assert not Patient.objects.exists()
    assert not AuditEvent.objects.filter(action=Action.IMPORT).exists()


def test_claim_import_previews_then_writes_everything_and_audits(admin_client):
    patient = PatientFactory(member_id="M-1", name="Ann Lee")
    ClaimFactory(claim_number="C-1", patient=patient, amount=Decimal("10"))
    ClaimFactory(claim_number="C-9", patient=patient)
    body = "\r\n".join(
        [
            HEADER,
            "C-1,M-1,Ann Lee,,Clinic,aetna,2026-01-05,2026-01-09,99214,E11.9,7500,,,,",
            "C-2,M-2,Bo Park,,Clinic,Medicare,2026-01-05,2026-01-09,27447,M17.11,900,0,paid,,",
        ]
    )
    preview = upload(admin_client, body)
    result = preview.context["result"]
    assert not result.has_errors()
    assert not result.has_validation_errors()
    assert [row.import_type for row in result.valid_rows()] == ["update", "new"]
    assert Claim.objects.get(claim_number="C-1").amount == Decimal("10.00")  # a dry run
    assert not Claim.objects.filter(claim_number="C-2").exists()

    response = admin_client.post(
        reverse("admin:rcm_claim_process_import"), preview.context["confirm_form"].initial
    )

    assert response.status_code == 302
    assert Claim.objects.get(claim_number="C-1").amount == Decimal("7500.00")
    second = Claim.objects.select_related("payer", "patient").get(claim_number="C-2")
    assert (second.payer.name, second.status, second.balance) == ("Medicare", "paid", 0)
    event = AuditEvent.objects.get(action=Action.IMPORT)
    assert (event.actor, event.object_type) == (admin_client.user, "rcm.claim")
    first = Claim.objects.get(claim_number="C-1")
    assert sorted(event.object_ids) == sorted([str(first.pk), str(second.pk)])


def test_claim_export_has_the_import_columns_neutralised_and_is_audited(admin_client):
    ClaimFactory(claim_number="C-1", notes="=HYPERLINK(1)", patient__member_id="M-1")
    model_admin = admin.site._registry[Claim]
    response = admin_client.post(
        reverse("admin:rcm_claim_export"),
        {
            "format": format_index(model_admin.get_export_formats()),
            "resource": "0",
            **{f"claimresource_{column}": "on" for column in HEADER.split(",")},
        },
    )
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert list(rows[0]) == HEADER.split(",")
    assert (rows[0]["member_id"], rows[0]["payer"], rows[0]["notes"]) == (
        "M-1",
        "Aetna",
        "'=HYPERLINK(1)",
    )
    assert AuditEvent.objects.get(action=Action.EXPORT).object_type == "rcm.claim"


def test_rule_preview_explains_the_match_and_the_winning_rule(admin_client):
    ClaimFactory(
        claim_number="C-75",
        amount=Decimal("7500"),
        payer=payer("Aetna"),
        service_date=TODAY - timedelta(days=50),
        submission_date=TODAY - timedelta(days=45),
        procedure_code="99214",
    )
    high_value = AssignmentRule.objects.get(name="High Value Rule")
    url = reverse("admin:rcm_assignmentrule_test", args=[high_value.pk])

    response = admin_client.get(url, {"claim_number": "C-75", "as_of": TODAY.isoformat()})

    assert response.status_code == 200
    text = response.content.decode()
    assert "This rule matches." in text
    assert "High Value Rule: amount $7,500 &gt; $5,000" in text
    assert response.context["outcome"]["winner"] == high_value
    assert response.context["outcome"]["facts"].aging_days == 45

    aged = AssignmentRule.objects.get(name="Aged Claim Rule")
    response = admin_client.get(
        reverse("admin:rcm_assignmentrule_test", args=[aged.pk]),
        {"claim_number": "C-75", "as_of": TODAY.isoformat()},
    )
    assert "This rule does not match" in response.content.decode()
    assert response.context["outcome"]["reason"] is None
    assert response.context["outcome"]["winner"] == high_value


def test_rule_preview_form_errors_and_link(admin_client):
    rule = AssignmentRule.objects.get(name="Default Rule")
    change = admin_client.get(reverse("admin:rcm_assignmentrule_change", args=[rule.pk]))
    url = reverse("admin:rcm_assignmentrule_test", args=[rule.pk])
    assert url in change.content.decode()
    assert admin_client.get(url).context["outcome"] is None  # the empty form
    response = admin_client.get(url, {"claim_number": "NOPE"})
    assert response.context["form"].errors == {"claim_number": ["There is no claim NOPE."]}


def test_rule_preview_needs_view_permission_on_rules_and_claims(
    client, make_user, admin_open_to_staff
):
    rule = AssignmentRule.objects.get(name="Default Rule")
    client.force_login(make_user("AR manager", is_staff=True))
    url = reverse("admin:rcm_assignmentrule_test", args=[rule.pk])
    assert client.get(url, {"claim_number": "X"}).status_code == 403


def test_rule_errors_show_on_their_fields(admin_client):
    rule = AssignmentRule.objects.get(name="Complex Procedure Rule")
    response = admin_client.post(
        reverse("admin:rcm_assignmentrule_change", args=[rule.pk]),
        {
            "name": rule.name,
            "priority": rule.priority,
            "active": "on",
            "queue": rule.queue_id,
            "payer_names": "aetna, Nowhere Health",
            "procedure_codes": "27447, 33249-33200",
        },
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert errors["payer_names"] == ["Unknown payer(s): Nowhere Health. Payers: Aetna, Medicare."]

    response = admin_client.post(
        reverse("admin:rcm_assignmentrule_change", args=[rule.pk]),
        {
            "name": rule.name,
            "priority": rule.priority,
            "active": "on",
            "queue": rule.queue_id,
            "payer_names": "aetna",
            "payer_types": ["commercial"],
            "procedure_codes": "27447, 33249-33200",
        },
    )
    errors = response.context["adminform"].form.errors
    assert errors["procedure_codes"] == [
        "'33249-33200' is not a code or a range like 33200-33249 (low to high)."
    ]
    response = admin_client.post(
        reverse("admin:rcm_assignmentrule_change", args=[rule.pk]),
        {
            "name": rule.name,
            "priority": rule.priority,
            "active": "on",
            "queue": rule.queue_id,
            "payer_names": "aetna",
            "payer_types": ["commercial"],
            "procedure_codes": "27447,\n33200-33249",
        },
    )
    assert response.status_code == 302
    rule.refresh_from_db()
    assert (rule.payer_names, rule.payer_types, rule.procedure_codes) == (
        ["Aetna"],
        ["commercial"],
        ["27447", "33200-33249"],
    )


def test_template_page_lists_its_placeholders(admin_client):
    template = DocumentTemplate.objects.create(
        doc_type="payment_inquiry",
        name="Test inquiry",
        body="Dear {{ payer_name }}, claim {{ claim_number }} for {{ payer_name }}.",
        active=False,
    )
    response = admin_client.get(reverse("admin:rcm_documenttemplate_change", args=[template.pk]))
    assert response.status_code == 200
    text = response.content.decode()
    assert "<code>{{ payer_name }}</code>, <code>{{ claim_number }}</code>" in text
