"""The letters a new installation starts with (data migration 0003): one template per document
type. Placeholders are {{ name }}; rcm.documents fills them from the claim and the user's notes.

Appeals share one shape, the one payers' appeal units read fastest: a header with the claim
details, the clinical justification (the user's notes), the supporting evidence enclosed, the
action requested, and a closing. Editing the text here changes new installations only; the
migration never overwrites templates that administrators have edited in the admin.
"""

HEADER = """\
{{ provider }}
Billing Office

{{ today }}

{{ payer_name }}
Appeals Department

RE: {{ subject }}
Claim number: {{ claim_number }}
Patient: {{ patient_name }}
Member ID: {{ member_id }}
Date of birth: {{ date_of_birth }}
Date of service: {{ service_date }}
Procedure (CPT): {{ procedure_code }}
Diagnosis (ICD-10): {{ diagnosis_code }}
Billed amount: {{ amount }}
Denial reason: {{ denial_reason }}

To the Appeals Department:
"""

JUSTIFICATION = """\
CLINICAL JUSTIFICATION

{{ clinical_justification }}
"""

CLOSING = """\
We ask for a written determination within the time allowed by the member's plan and applicable \
regulations. If you need anything further to decide this appeal, please contact our billing \
office and quote claim number {{ claim_number }}. Thank you for your prompt review.

Sincerely,

{{ signature }}
{{ provider }}

Enclosures: as listed above
"""


def _appeal(subject, opening, evidence, action, extra=""):
    """One appeal letter: header, opening, clinical justification, [extra], evidence, action,
    closing. `subject` is text (it fills the RE: line, not a placeholder)."""
    header = HEADER.replace("{{ subject }}", subject)
    parts = [header, opening, JUSTIFICATION]
    if extra:
        parts.append(extra)
    parts += [
        "SUPPORTING EVIDENCE\n\nThe following documents are enclosed:\n" + evidence,
        "REQUESTED ACTION\n\n" + action,
        CLOSING,
    ]
    return "\n".join(parts)


APPEAL_AUTHORIZATION = _appeal(
    "Appeal of authorization denial",
    """\
On behalf of {{ provider }}, we request reconsideration of the claim above, which was denied \
because prior authorization was not on file. The authorization requirements for this service \
were met, or did not apply to the circumstances in which the care was given, as set out below.
""",
    """\
1. The denial notice or explanation of benefits for claim {{ claim_number }}.
2. The authorization record: reference number, date requested and the payer's response, or \
documentation of the urgent circumstances that prevented a request before the service.
3. Medical records for the date of service {{ service_date }}, including the ordering \
physician's orders and progress notes.
4. A copy of the original claim (CPT {{ procedure_code }}, ICD-10 {{ diagnosis_code }}).
""",
    """\
We request that {{ payer_name }} overturn the denial, apply the authorization on file (or grant \
retroactive authorization) for the services of {{ service_date }}, and reprocess claim \
{{ claim_number }} for payment of {{ amount }}.
""",
)

APPEAL_MEDICAL_NECESSITY = _appeal(
    "Appeal of medical necessity denial",
    """\
On behalf of {{ provider }}, we request reconsideration of the claim above, which was denied \
as not medically necessary. The service (CPT {{ procedure_code }}) was medically necessary to \
diagnose or treat the patient's condition (ICD-10 {{ diagnosis_code }}), in line with generally \
accepted standards of medical practice and the plan's own coverage criteria.
""",
    """\
1. The denial notice or explanation of benefits for claim {{ claim_number }}.
2. Medical records for the date of service {{ service_date }}: history, examination, orders, \
results and progress notes.
3. A letter of medical necessity from the treating physician.
4. The clinical guidelines and published evidence that support this service for this \
diagnosis, and the record of treatments already tried.
""",
    """\
We request that {{ payer_name }} reverse the denial and reprocess claim {{ claim_number }} for \
payment of {{ amount }}. If the denial is upheld, we request a peer-to-peer review with a \
physician reviewer of the same or a similar specialty, and a copy of the clinical criteria used \
in the decision.
""",
)

APPEAL_COVERAGE = _appeal(
    "Request for coverage determination review",
    """\
On behalf of {{ provider }}, we request a review of the coverage determination for the claim \
above, which was denied as a service not covered by the member's plan. We believe the service \
is a covered benefit under the plan in force on the date of service, for the reasons below.
""",
    """\
1. The denial notice or explanation of benefits for claim {{ claim_number }}.
2. The relevant pages of the member's plan documents or summary of benefits and coverage.
3. Medical records for the date of service {{ service_date }} showing the condition treated \
(ICD-10 {{ diagnosis_code }}) and the service given (CPT {{ procedure_code }}).
4. Any coverage policy or prior correspondence with {{ payer_name }} about this service.
""",
    """\
We request that {{ payer_name }} review its coverage determination, recognise the service as a \
covered benefit and reprocess claim {{ claim_number }} for payment of {{ amount }}. If the \
denial is upheld, please cite the specific plan provision that excludes the service.
""",
)

APPEAL_CODING = _appeal(
    "Coding correction and request for reprocessing",
    """\
On behalf of {{ provider }}, we request reconsideration of the claim above, which was denied \
for incorrect coding. We have reviewed the claim against the medical record; the procedure \
(CPT {{ procedure_code }}) and diagnosis (ICD-10 {{ diagnosis_code }}) reported are supported \
by the documentation, and any correction needed is described below.
""",
    """\
1. The denial notice or explanation of benefits for claim {{ claim_number }}.
2. The procedure or operative notes for the date of service {{ service_date }}.
3. The corrected claim, where a code has been corrected.
4. The coding references that apply: CPT guidelines, the ICD-10-CM Official Guidelines for \
Coding and Reporting, and the relevant NCCI edits or modifier rules.
""",
    """\
We request that {{ payer_name }} accept the coding as documented (or as corrected), reverse the \
denial and reprocess claim {{ claim_number }} for payment of {{ amount }}.
""",
)

APPEAL_TIMELY_FILING = _appeal(
    "Appeal of timely filing denial",
    """\
On behalf of {{ provider }}, we request reconsideration of the claim above, which was denied \
for timely filing. The claim was submitted on {{ submission_date }} for services given on \
{{ service_date }}, within the filing limit, or was delayed for reasons outside our control, \
as set out below.
""",
    """\
1. The denial notice or explanation of benefits for claim {{ claim_number }}.
2. Proof of timely submission: the clearinghouse acceptance report or the payer's electronic \
acknowledgment showing receipt of the claim submitted on {{ submission_date }}.
3. Any earlier correspondence, rejections or resubmissions for this claim.
4. A copy of the original claim (CPT {{ procedure_code }}, ICD-10 {{ diagnosis_code }}).
""",
    """\
We request that {{ payer_name }} accept the proof of timely filing, overturn the denial and \
reprocess claim {{ claim_number }} for payment of {{ amount }}.
""",
    extra="""\
FILING HISTORY

Date of service: {{ service_date }}
First submitted: {{ submission_date }}
""",
)

APPEAL_GENERIC = _appeal(
    "Request for reconsideration of denied claim",
    """\
On behalf of {{ provider }}, we request reconsideration of the claim above, which was denied \
with the reason "{{ denial_reason }}". We believe the claim should be paid, for the reasons \
below.
""",
    """\
1. The denial notice or explanation of benefits for claim {{ claim_number }}.
2. Medical records for the date of service {{ service_date }}.
3. A copy of the claim (CPT {{ procedure_code }}, ICD-10 {{ diagnosis_code }}).
4. Any other documentation referred to in the justification above.
""",
    """\
We request that {{ payer_name }} reconsider the denial and reprocess claim {{ claim_number }} \
for payment of {{ amount }}. If the denial is upheld, please state the specific reason and the \
plan provision or policy it rests on.
""",
)

PRIOR_AUTHORIZATION = """\
{{ provider }}
Billing Office

{{ today }}

{{ payer_name }}
Utilization Management

RE: Request for prior authorization
Patient: {{ patient_name }}
Member ID: {{ member_id }}
Date of birth: {{ date_of_birth }}
Planned date of service: {{ service_date }}
Procedure (CPT): {{ procedure_code }}
Diagnosis (ICD-10): {{ diagnosis_code }}

To Utilization Management:

On behalf of {{ provider }}, we request prior authorization for the service above.

CLINICAL JUSTIFICATION

{{ clinical_justification }}

SUPPORTING EVIDENCE

Enclosed are the patient's relevant medical records, the ordering physician's notes and the \
results of tests that support this request.

REQUESTED ACTION

Please authorize the service and send the authorization number to our billing office. If more \
information is needed, please contact us before the planned date of service.

Sincerely,

{{ signature }}
{{ provider }}
"""

PAYMENT_INQUIRY = """\
{{ provider }}
Billing Office

{{ today }}

{{ payer_name }}
Provider Services

RE: Payment status inquiry
Claim number: {{ claim_number }}
Patient: {{ patient_name }}
Member ID: {{ member_id }}
Date of service: {{ service_date }}
Submitted: {{ submission_date }}
Billed amount: {{ amount }}
Outstanding balance: {{ balance }}

To Provider Services:

Our records show the claim above with an outstanding balance of {{ balance }}. We have not \
received payment or a final determination for it.

Please tell us the status of the claim, the expected payment date, and anything you need from \
us to complete processing. If the claim has been paid, please send the payment date, amount \
and check or EFT trace number.

Sincerely,

{{ signature }}
{{ provider }}
"""

MEDICAL_RECORDS_REQUEST = """\
{{ provider }}
Billing Office

{{ today }}

{{ recipient }}

RE: Request for medical records
Patient: {{ patient_name }}
Date of birth: {{ date_of_birth }}
Date of service: {{ service_date }}
Claim number: {{ claim_number }}

Please send us copies of the medical records for the patient above for the date of service \
{{ service_date }}: the physician's orders, progress or operative notes, test results and any \
authorization on file. We need them to support the claim with {{ payer_name }}.

The records are requested for payment purposes, which HIPAA permits without the patient's \
authorization (45 CFR 164.506). Please send them by secure means to our billing office.

Sincerely,

{{ signature }}
{{ provider }}
"""

CORRECTED_CLAIM = """\
{{ provider }}
Billing Office

{{ today }}

{{ payer_name }}
Claims Department

RE: Corrected claim
Original claim number: {{ claim_number }}
Patient: {{ patient_name }}
Member ID: {{ member_id }}
Date of service: {{ service_date }}
Billed amount: {{ amount }}

To the Claims Department:

Enclosed is a corrected claim replacing the original claim above (frequency code 7, \
replacement of prior claim). The corrections are:

{{ correction_details }}

Please process the corrected claim in place of the original and send a new explanation of \
benefits.

Sincerely,

{{ signature }}
{{ provider }}
"""

# doc_type → (template name, body). Plain strings, so the migration stays independent of the
# models' current code.
TEMPLATES = {
    "appeal_authorization": ("Authorization appeal", APPEAL_AUTHORIZATION),
    "appeal_medical_necessity": ("Medical necessity appeal", APPEAL_MEDICAL_NECESSITY),
    "appeal_coverage": ("Coverage determination appeal", APPEAL_COVERAGE),
    "appeal_coding": ("Coding correction appeal", APPEAL_CODING),
    "appeal_timely_filing": ("Timely filing appeal", APPEAL_TIMELY_FILING),
    "appeal_generic": ("General appeal", APPEAL_GENERIC),
    "prior_authorization": ("Prior authorization request", PRIOR_AUTHORIZATION),
    "payment_inquiry": ("Payment inquiry", PAYMENT_INQUIRY),
    "medical_records_request": ("Medical records request", MEDICAL_RECORDS_REQUEST),
    "corrected_claim": ("Corrected claim cover letter", CORRECTED_CLAIM),
}


def seed_templates(apps, schema_editor):
    """One active template per document type, unless the type already has one."""
    DocumentTemplate = apps.get_model("rcm", "DocumentTemplate")
    for doc_type, (name, body) in TEMPLATES.items():
        if not DocumentTemplate.objects.filter(doc_type=doc_type, active=True).exists():
            DocumentTemplate.objects.create(doc_type=doc_type, name=name, body=body, active=True)
