"""Letters: fill a document template from a claim and the user's notes, store the result, and
give it back as text or PDF.

Templates hold placeholders like {{ claim_number }}. Filling them is a plain substitution, not a
template engine: template and values are user text, and neither may run code (no Django
template language, no str.format). A letter with any placeholder left empty is refused as a
whole, naming every missing one, so a half-filled letter is never written or sent.
"""

import re
from decimal import Decimal
from io import BytesIO
from xml.sax.saxutils import escape

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from opsintel.audit import Action, record_event
from rcm.models import (
    AutomationRun,
    ClaimStatus,
    DenialReason,
    DocumentTemplate,
    DocumentType,
    GeneratedDocument,
)

PLACEHOLDER = re.compile(r"\{\{\s*([a-z_][a-z0-9_]*)\s*\}\}")

# Which appeal answers which denial. Reasons not here (duplicate, other, anything unknown) get
# the generic appeal, flagged for a person to review before it is sent.
APPEAL_TEMPLATES = {
    DenialReason.AUTHORIZATION_REQUIRED: DocumentType.APPEAL_AUTHORIZATION,
    DenialReason.MEDICAL_NECESSITY: DocumentType.APPEAL_MEDICAL_NECESSITY,
    DenialReason.NOT_COVERED: DocumentType.APPEAL_COVERAGE,
    DenialReason.INCORRECT_CODING: DocumentType.APPEAL_CODING,
    DenialReason.TIMELY_FILING: DocumentType.APPEAL_TIMELY_FILING,
}


# --- Filling templates --------------------------------------------------------------------------


def placeholders(body):
    """The placeholder names in `body`, in order of first appearance, each once."""
    return list(dict.fromkeys(PLACEHOLDER.findall(body)))


def malformed_placeholders(body):
    """The {{ … }} fragments of `body` that are not placeholders ({{ Patient Name }},
    {{ claim.number }}): they would be printed as they are, so template editors are told."""
    return [
        fragment
        for fragment in re.findall(r"\{\{.*?\}\}", body, re.S)
        if not PLACEHOLDER.fullmatch(fragment)
    ]


def _blank(value):
    return value is None or not str(value).strip()


def missing(body, variables):
    """The placeholders of `body` that `variables` leaves absent or empty."""
    return [name for name in placeholders(body) if _blank(variables.get(name))]


def render(body, variables):
    """`body` with every placeholder replaced by its value as text.

    Raises ValidationError({"data": "Missing variables: a, b."}) naming every placeholder that
    is absent or empty. Values are inserted once and not scanned again, so a value that itself
    looks like a placeholder stays as typed."""
    absent = missing(body, variables)
    if absent:
        raise ValidationError({"data": f"Missing variables: {', '.join(absent)}."})
    return PLACEHOLDER.sub(lambda match: str(variables[match.group(1)]).strip(), body)


def _date(value):
    # Spelled out ("March 10, 2026"): letters cross borders where 03/10 reads as October.
    return f"{value:%B} {value.day}, {value.year}" if value else ""


def _money(value):
    return f"${Decimal(value):,.2f}"


def signature(user):
    """The name a letter is signed with: the user's full name, else their username."""
    if user is None or not user.is_authenticated:
        return ""
    return user.get_full_name().strip() or user.get_username()


def base_variables(*, user=None, today=None):
    """What every letter may use, claim or not: today's date and the signature."""
    return {"today": _date(today or timezone.localdate()), "signature": signature(user)}


def _reason_label(reason):
    if reason in DenialReason.values:
        return DenialReason(reason).label
    return reason or ""


def claim_variables(claim, *, notes="", user=None):
    """The variables a claim provides to a letter. The user's notes are the clinical
    justification; empty values stay empty (render refuses them by name)."""
    patient = claim.patient
    notes = str(notes or "").strip()
    return {
        **base_variables(user=user),
        "claim_number": claim.claim_number,
        "patient_name": patient.name,
        "member_id": patient.member_id,
        "date_of_birth": _date(patient.date_of_birth),
        "provider": claim.provider,
        "payer_name": claim.payer.name,
        "payer_type": claim.payer.get_payer_type_display(),
        "service_date": _date(claim.service_date),
        "submission_date": _date(claim.submission_date),
        "amount": _money(claim.amount),
        "balance": _money(claim.balance),
        "procedure_code": claim.procedure_code,
        "diagnosis_code": claim.diagnosis_code,
        "claim_status": claim.get_status_display(),
        "denial_reason": _reason_label(claim.denial_reason),
        "notes": notes,
        "clinical_justification": notes,
    }


def template_for(doc_type):
    """The active template of `doc_type`; ValidationError on "template_type" when the type is
    unknown or has no active template."""
    template = None
    if doc_type in DocumentType.values:
        template = DocumentTemplate.objects.filter(doc_type=doc_type, active=True).first()
    if template is None:
        known = DocumentTemplate.objects.filter(active=True).order_by("doc_type")
        names = ", ".join(known.values_list("doc_type", flat=True)) or "none"
        raise ValidationError(
            {"template_type": f"Unknown template type {str(doc_type)!r}. Known: {names}."}
        )
    return template


# --- Writing documents --------------------------------------------------------------------------


def _title(doc_type, claim_number=""):
    label = DocumentType(doc_type).label
    return f"{label} — {claim_number}" if claim_number else label


def _store(*, kind, template, title, text, claim, user, needs_review=False, details=None):
    """Write the document, its AutomationRun and the audit event (the caller's transaction)."""
    started_at = timezone.now()
    document = GeneratedDocument.objects.create(
        claim=claim,
        template=template,
        title=title[:200],
        text=text,
        needs_review=needs_review,
        created_by=user if user is not None and user.is_authenticated else None,
    )
    AutomationRun.objects.create(
        kind=kind,
        started_at=started_at,
        finished_at=timezone.now(),
        items=1,
        succeeded=1,
        details={
            "document": document.pk,
            "template": template.doc_type,
            "claim": claim.claim_number if claim else None,
            "needs_review": needs_review,
            **(details or {}),
        },
    )
    record_event(
        Action.CREATE,
        actor=document.created_by,
        objects=document,
        description=f"Generated {title}"[:255],
    )
    return document


def generate_appeal(claim, *, denial_reason=None, notes="", user=None):
    """Write the appeal letter for a denied claim and return the GeneratedDocument.

    The reason defaults to the claim's. Reasons without their own letter get the generic appeal
    with needs_review set. A denied claim moves to appealed. Missing variables (no notes, no
    date of birth …) raise ValidationError before anything is written."""
    reason = denial_reason if denial_reason else claim.denial_reason
    doc_type = APPEAL_TEMPLATES.get(reason, DocumentType.APPEAL_GENERIC)
    needs_review = reason not in APPEAL_TEMPLATES
    template = template_for(doc_type)
    variables = claim_variables(claim, notes=notes, user=user)
    variables["denial_reason"] = _reason_label(reason)
    text = render(template.body, variables)

    with transaction.atomic():
        document = _store(
            kind=AutomationRun.Kind.GENERATE_APPEAL,
            template=template,
            title=_title(doc_type, claim.claim_number),
            text=text,
            claim=claim,
            user=user,
            needs_review=needs_review,
            details={"denial_reason": reason or ""},
        )
        if claim.status == ClaimStatus.DENIED:
            claim.status = ClaimStatus.APPEALED
            claim.save(update_fields=["status", "updated_at"])
    return document


def generate_document(template_type, data, *, claim=None, user=None):
    """Fill the active template of `template_type` with `data` (over the claim's variables when
    a claim is given), store and return the GeneratedDocument. Unknown type or missing
    variables raise ValidationError before anything is written."""
    if not isinstance(data, dict):
        raise ValidationError({"data": "Give the variables as an object of names to values."})
    template = template_for(template_type)
    if claim is not None:
        variables = claim_variables(claim, notes=data.get("notes", ""), user=user)
    else:
        variables = base_variables(user=user)
    variables.update({str(name): value for name, value in data.items()})
    text = render(template.body, variables)
    claim_number = claim.claim_number if claim else str(data.get("claim_number") or "")

    with transaction.atomic():
        return _store(
            kind=AutomationRun.Kind.GENERATE_DOCUMENT,
            template=template,
            title=_title(template.doc_type, claim_number.strip()),
            text=text,
            claim=claim,
            user=user,
        )


# --- Output -------------------------------------------------------------------------------------


def filename(document, extension):
    """A download name safe in any header and file system: ASCII letters, digits, dashes."""
    return f"{slugify(document.title) or f'document-{document.pk}'}.{extension}"


def text_bytes(document):
    """The letter as UTF-8 text, ending with a newline."""
    return (document.text.rstrip("\n") + "\n").encode("utf-8")


def pdf_bytes(document):
    """The letter as a US Letter PDF: the title, then the text in wrapped paragraphs (blank lines
    separate paragraphs, single line breaks are kept). Pure reportlab, no system libraries."""
    from reportlab.lib.pagesizes import LETTER
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import inch
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

    styles = getSampleStyleSheet()
    body = styles["BodyText"]
    heading = styles["Heading5"]
    buffer = BytesIO()
    pdf = SimpleDocTemplate(
        buffer,
        pagesize=LETTER,
        leftMargin=inch,
        rightMargin=inch,
        topMargin=inch,
        bottomMargin=inch,
        title=document.title,
        author=signature(document.created_by) if document.created_by else "OpsIntel",
        subject=document.title,
        creator="OpsIntel",
    )
    story = [Paragraph(escape(document.title), styles["Heading2"]), Spacer(1, 6)]
    for block in re.split(r"\n\s*\n", document.text.strip()):
        # Paragraph reads a markup language: the text is escaped so that it is shown as typed.
        lines = [escape(line.rstrip()) for line in block.splitlines()]
        # A block that is one line in capitals is a section heading (CLINICAL JUSTIFICATION).
        style = heading if len(lines) == 1 and lines[0].isupper() else body
        story.append(Paragraph("<br/>".join(lines), style))
    pdf.build(story)
    return buffer.getvalue()
