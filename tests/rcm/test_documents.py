"""Letters: denial reason → appeal template, filling placeholders (all or nothing), the seeded
templates, text and PDF output, and the pages (scope, audit, print, download)."""

import base64
import re
import zlib
from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from opsintel.models import AuditEvent
from rcm import documents
from rcm.models import AutomationRun, Claim, DocumentTemplate, DocumentType, GeneratedDocument
from tests.factories import UserFactory
from tests.rcm.factories import AgentUserFactory, ClaimFactory, PatientFactory

pytestmark = pytest.mark.django_db

NOTES = "MRI on 01/15 showed a full-thickness rotator cuff tear; six weeks of therapy failed."
SECTIONS = ["CLINICAL JUSTIFICATION", "SUPPORTING EVIDENCE", "REQUESTED ACTION", "Sincerely,"]


@pytest.fixture
def agent():
    return AgentUserFactory(user__first_name="Dana", user__last_name="Lee")


@pytest.fixture
def claim(agent):
    return ClaimFactory(
        claim_number="CLM0001234",
        patient=PatientFactory(
            name="Jane Roe", member_id="W123456789", date_of_birth=date(1961, 4, 2)
        ),
        amount=Decimal("1234.5"),
        balance=Decimal("1000"),
        status="denied",
        denial_reason="medical_necessity",
        procedure_code="29827",
        diagnosis_code="M75.121",
        agent=agent,
    )


def nothing_written():
    return (
        GeneratedDocument.objects.count(),
        AutomationRun.objects.count(),
        AuditEvent.objects.filter(action="create").count(),
    ) == (0, 0, 0)


# --- Placeholders and rendering ------------------------------------------------------------


def test_placeholders_in_order_of_first_appearance_each_once():
    body = "{{b}} {{ a }} {{  b  }} {{ c_1 }} {{ Not }} {{ a.b }} {x} {{ _under }}"
    assert documents.placeholders(body) == ["b", "a", "c_1", "_under"]


def test_render_names_every_missing_or_empty_variable():
    body = "{{ a }} {{ b }} {{ c }} {{ d }} {{ a }}"
    with pytest.raises(ValidationError) as caught:
        documents.render(body, {"b": "  ", "c": "ok", "d": None})
    assert caught.value.message_dict == {"data": ["Missing variables: a, b, d."]}


def test_render_inserts_values_as_text_once():
    body = "Dear {{ name }}, {{ note }} {{ name.__class__ }} {0} {x}"
    text = documents.render(body, {"name": "<b>Ann</b>", "note": "{{ name }} {0}"})
    # Values are not scanned again and nothing but {{ name }} placeholders is touched.
    assert text == "Dear <b>Ann</b>, {{ name }} {0} {{ name.__class__ }} {0} {x}"


def test_malformed_placeholders_are_reported():
    body = "{{ ok }} {{ Patient Name }} {{claim.number}} { single } {{ x_1 }}"
    assert documents.malformed_placeholders(body) == ["{{ Patient Name }}", "{{claim.number}}"]


# --- Seeded templates ----------------------------------------------------------------------


def test_every_document_type_has_one_active_seeded_template():
    active = DocumentTemplate.objects.filter(active=True)
    assert sorted(active.values_list("doc_type", flat=True)) == sorted(DocumentType.values)
    assert [t.name for t in active if documents.malformed_placeholders(t.body)] == []


@pytest.mark.parametrize(
    "doc_type", [value for value in DocumentType.values if value.startswith("appeal_")]
)
def test_appeal_templates_have_every_section_in_order(doc_type):
    body = DocumentTemplate.objects.get(doc_type=doc_type, active=True).body
    positions = [body.index(section) for section in ["Claim number:", *SECTIONS]]
    assert positions == sorted(positions)
    # The justification is the user's notes, right under its heading.
    assert "CLINICAL JUSTIFICATION\n\n{{ clinical_justification }}\n" in body


def test_template_for_unknown_or_inactive_type():
    DocumentTemplate.objects.filter(doc_type="payment_inquiry").update(active=False)
    for doc_type in ("nope", "payment_inquiry"):
        with pytest.raises(ValidationError) as caught:
            documents.template_for(doc_type)
        message = caught.value.message_dict["template_type"][0]
        assert message.startswith(f"Unknown template type '{doc_type}'. Known: appeal_")
        assert "payment_inquiry" not in message.split("Known: ")[1]


# --- Appeals -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reason", "doc_type", "title"),
    [
        ("authorization_required", "appeal_authorization", "Authorization appeal"),
        ("medical_necessity", "appeal_medical_necessity", "Medical necessity appeal"),
        ("not_covered", "appeal_coverage", "Coverage determination appeal"),
        ("incorrect_coding", "appeal_coding", "Coding correction appeal"),
        ("timely_filing", "appeal_timely_filing", "Timely filing appeal"),
    ],
)
def test_each_denial_reason_gets_its_letter(claim, reason, doc_type, title):
    document = documents.generate_appeal(
        claim, denial_reason=reason, notes=NOTES, user=claim.agent.user
    )
    assert document.template.doc_type == doc_type
    assert document.title == f"{title} — CLM0001234"
    assert document.needs_review is False


@pytest.mark.parametrize(
    ("reason", "shown"),
    [("duplicate", "Duplicate"), ("other", "Other"), ("Benefit maximum reached", None)],
)
def test_other_reasons_get_the_generic_letter_flagged_for_review(claim, reason, shown):
    document = documents.generate_appeal(
        claim, denial_reason=reason, notes=NOTES, user=claim.agent.user
    )
    assert document.template.doc_type == "appeal_generic"
    assert document.needs_review is True
    assert document.title == "Appeal (general) — CLM0001234"
    assert f'denied with the reason "{shown or reason}"' in document.text


def test_the_reason_defaults_to_the_claims(claim):
    claim.denial_reason = "incorrect_coding"
    claim.save()
    assert (
        documents.generate_appeal(claim, notes=NOTES, user=claim.agent.user).template.doc_type
        == "appeal_coding"
    )


def test_the_letter_is_filled_from_the_claim_and_the_notes(claim, agent):
    document = documents.generate_appeal(claim, notes=f"  {NOTES}\n", user=agent.user)
    text = document.text
    for line in [
        "Riverside Clinic\nBilling Office\n",
        "Aetna\nAppeals Department\n",
        "RE: Appeal of medical necessity denial\n",
        "Claim number: CLM0001234\n",
        "Patient: Jane Roe\n",
        "Member ID: W123456789\n",
        "Date of birth: April 2, 1961\n",
        "Date of service: January 20, 2026\n",
        "Procedure (CPT): 29827\n",
        "Diagnosis (ICD-10): M75.121\n",
        "Billed amount: $1,234.50\n",
        "Denial reason: Medical necessity\n",
        f"CLINICAL JUSTIFICATION\n\n{NOTES}\n\nSUPPORTING EVIDENCE\n",
        "Medical records for the date of service January 20, 2026",
        "reprocess claim CLM0001234 for payment of $1,234.50.",
        "Sincerely,\n\nDana Lee\nRiverside Clinic\n",
    ]:
        assert line in text
    assert "{{" not in text
    positions = [text.index(section) for section in SECTIONS]
    assert positions == sorted(positions)


def test_an_appeal_moves_the_denied_claim_to_appealed_and_is_recorded(claim, agent):
    document = documents.generate_appeal(claim, notes=NOTES, user=agent.user)
    claim.refresh_from_db()
    assert claim.status == "appealed"
    assert document.created_by == agent.user
    run = AutomationRun.objects.get()
    assert (run.kind, run.items, run.succeeded, run.failed) == ("generate_appeal", 1, 1, 0)
    assert run.details["document"] == document.pk
    event = AuditEvent.objects.get(action="create")
    assert (event.actor, event.object_type, event.object_ids) == (
        agent.user,
        "rcm.generateddocument",
        [str(document.pk)],
    )


def test_an_appeal_leaves_a_claim_that_is_not_denied_as_it_is(claim):
    Claim.objects.filter(pk=claim.pk).update(status="pending")
    claim.refresh_from_db()
    documents.generate_appeal(claim, notes=NOTES, user=claim.agent.user)
    claim.refresh_from_db()
    assert claim.status == "pending"


def test_an_appeal_with_missing_variables_names_them_all_and_writes_nothing(claim):
    claim.patient.date_of_birth = None
    claim.patient.save()
    with pytest.raises(ValidationError) as caught:
        documents.generate_appeal(claim, notes="   ")
    assert caught.value.message_dict == {
        "data": ["Missing variables: date_of_birth, clinical_justification, signature."]
    }
    assert nothing_written()
    claim.refresh_from_db()
    assert claim.status == "denied"


# --- Other documents -----------------------------------------------------------------------


def test_a_document_from_a_claim_takes_data_over_the_claims_values(claim, agent):
    document = documents.generate_document(
        "payment_inquiry", {"balance": "$999.00"}, claim=claim, user=agent.user
    )
    assert document.title == "Payment inquiry — CLM0001234"
    assert "an outstanding balance of $999.00." in document.text
    assert "Billed amount: $1,234.50\n" in document.text
    assert document.claim == claim
    run = AutomationRun.objects.get()
    assert (run.kind, run.items, run.succeeded) == ("generate_document", 1, 1)


def test_a_document_without_a_claim_names_every_missing_variable_and_writes_nothing():
    user = UserFactory(first_name="Sam", last_name="Ortiz")
    with pytest.raises(ValidationError) as caught:
        documents.generate_document(
            "medical_records_request", {"patient_name": "Jane Roe", "claim_number": ""}, user=user
        )
    assert caught.value.message_dict == {
        "data": [
            "Missing variables: provider, recipient, date_of_birth, service_date, "
            "claim_number, payer_name."
        ]
    }
    assert nothing_written()


def test_an_unknown_template_type_writes_nothing(claim):
    with pytest.raises(ValidationError) as caught:
        documents.generate_document("appeal_poetry", {}, claim=claim)
    assert "Unknown template type 'appeal_poetry'" in caught.value.message_dict["template_type"][0]
    assert nothing_written()


# --- Output --------------------------------------------------------------------------------


def pdf_text(content):
    """The text lines reportlab drew: its page streams are ASCII85 over Flate, and a line is
    one or more (string) Tj operators ended by T*."""
    drawn = b""
    for match in re.finditer(rb"stream\r?\n(.*?)endstream", content, re.S):
        data = match.group(1).strip().removesuffix(b"~>")
        drawn += zlib.decompress(base64.a85decode(data))
    text = []
    for token in re.finditer(rb"\(((?:\\.|[^\\)])*)\)\s*Tj|T\*", drawn):
        string = token.group(1)
        text.append("\n" if string is None else re.sub(rb"\\(.)", rb"\1", string).decode("latin-1"))
    return "".join(text)


def test_pdf_and_text(claim):
    document = documents.generate_appeal(
        claim, notes="Note with <b>markup</b> & (brackets)", user=claim.agent.user
    )
    content = documents.pdf_bytes(document)
    assert content.startswith(b"%PDF-")
    drawn = pdf_text(content)
    assert "\nClaim number: CLM0001234\n" in drawn
    assert "\nNote with <b>markup</b> & (brackets)\n" in drawn
    assert documents.text_bytes(document) == (document.text.rstrip("\n") + "\n").encode()


# --- Pages ---------------------------------------------------------------------------------


@pytest.fixture
def agent_client(client, agent):
    client.force_login(agent.user)
    return client


@pytest.fixture
def outsider(client):
    """An agent with claims of their own, but not this one."""
    other = AgentUserFactory()
    client.force_login(other.user)
    return client


def test_writing_an_appeal_from_the_claim_page(agent_client, claim):
    url = reverse("rcm:generate_appeal", args=[claim.pk])
    response = agent_client.post(
        url, {"appeal-denial_reason": "not_covered", "appeal-notes": NOTES}
    )
    document = GeneratedDocument.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("rcm:document_detail", args=[document.pk])
    assert document.template.doc_type == "appeal_coverage"
    assert NOTES in document.text


def test_the_appeal_form_preselects_the_claims_reason(agent_client, claim):
    response = agent_client.get(reverse("rcm:generate_appeal", args=[claim.pk]))
    assert response.status_code == 200
    assert '<option value="medical_necessity" selected>' in response.content.decode()
    assert AuditEvent.objects.filter(action="view", object_type="rcm.claim").count() == 1


def test_an_appeal_without_notes_is_refused_on_the_form(agent_client, claim):
    url = reverse("rcm:generate_appeal", args=[claim.pk])
    response = agent_client.post(url, {"appeal-denial_reason": "not_covered", "appeal-notes": ""})
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    assert nothing_written()


def test_the_document_form_is_filled_from_the_claim(agent_client, claim):
    url = reverse("rcm:generate_document", args=[claim.pk])
    response = agent_client.get(url, {"template_type": "payment_inquiry"})
    page = response.content.decode()
    assert response.status_code == 200
    assert 'name="var-claim_number" value="CLM0001234"' in page
    assert 'name="var-balance" value="$1,000.00"' in page
    assert 'name="var-signature" value="Dana Lee"' in page


def test_the_document_form_names_what_is_missing_and_writes_nothing(agent_client, claim):
    url = reverse("rcm:generate_document", args=[claim.pk])
    values = documents.claim_variables(claim)
    fields = {f"var-{name}": value for name, value in values.items()}
    response = agent_client.post(
        url,
        {**fields, "template_type": "corrected_claim", "var-patient_name": ""},
    )
    page = response.content.decode()
    assert response.status_code == 400
    assert "Missing variables: patient_name, correction_details, signature." in page
    assert nothing_written()

    fields["var-signature"] = "Dana Lee"
    fields["var-correction_details"] = "Modifier 59 added to line 2."
    response = agent_client.post(url, {**fields, "template_type": "corrected_claim"})
    document = GeneratedDocument.objects.get()
    assert response["Location"] == reverse("rcm:document_detail", args=[document.pk])
    assert "The corrections are:\n\nModifier 59 added to line 2.\n" in document.text


def test_the_document_form_refuses_an_unknown_type(agent_client, claim):
    url = reverse("rcm:generate_document", args=[claim.pk])
    response = agent_client.post(url, {"template_type": "love_letter"})
    assert response.status_code == 400
    assert "Unknown template type &#x27;love_letter&#x27;" in response.content.decode()
    assert nothing_written()


def test_the_letter_page_prints_and_is_audited(agent_client, claim, agent):
    document = documents.generate_appeal(claim, notes="Tear <confirmed> on MRI.", user=agent.user)
    response = agent_client.get(reverse("rcm:document_detail", args=[document.pk]))
    page = response.content.decode()
    assert response.status_code == 200
    assert '<article class="panel letter"' in page
    assert "Tear &lt;confirmed&gt; on MRI." in page
    assert "data-print" in page
    assert reverse("rcm:document_download", args=[document.pk, "pdf"]) in page
    event = AuditEvent.objects.get(action="view")
    assert (event.actor, event.object_ids) == (agent.user, [str(document.pk)])


def test_downloads_are_attachments_and_audited_as_exports(agent_client, claim):
    document = documents.generate_appeal(claim, notes=NOTES, user=claim.agent.user)
    text = agent_client.get(reverse("rcm:document_download", args=[document.pk, "txt"]))
    assert text["Content-Type"] == "text/plain; charset=utf-8"
    assert text["Content-Disposition"] == (
        'attachment; filename="medical-necessity-appeal-clm0001234.txt"'
    )
    assert text.content == documents.text_bytes(document)

    pdf = agent_client.get(reverse("rcm:document_download", args=[document.pk, "pdf"]))
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-")
    assert "\nClaim number: CLM0001234\n" in pdf_text(pdf.content)

    assert AuditEvent.objects.filter(action="export").count() == 2
    other = agent_client.get(reverse("rcm:document_download", args=[document.pk, "docx"]))
    assert other.status_code == 404
    assert AuditEvent.objects.filter(action="export").count() == 2


def test_another_agents_claims_and_letters_are_not_found(outsider, claim):
    document = documents.generate_appeal(claim, notes=NOTES, user=claim.agent.user)
    before = (GeneratedDocument.objects.count(), AuditEvent.objects.count())
    for url in [
        reverse("rcm:generate_appeal", args=[claim.pk]),
        reverse("rcm:generate_document", args=[claim.pk]),
        reverse("rcm:document_detail", args=[document.pk]),
        reverse("rcm:document_download", args=[document.pk, "txt"]),
        reverse("rcm:document_download", args=[document.pk, "pdf"]),
    ]:
        assert outsider.get(url).status_code == 404
    response = outsider.post(
        reverse("rcm:generate_appeal", args=[claim.pk]),
        {"appeal-denial_reason": "other", "appeal-notes": NOTES},
    )
    assert response.status_code == 404
    assert (GeneratedDocument.objects.count(), AuditEvent.objects.count()) == before


def test_an_ar_manager_sees_every_letter(client_for, claim):
    document = documents.generate_appeal(claim, notes=NOTES, user=claim.agent.user)
    manager = client_for("AR manager")
    assert manager.get(reverse("rcm:document_detail", args=[document.pk])).status_code == 200
