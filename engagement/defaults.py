"""The appointment types a new pharmacy starts with (data migration 0002). Managers change them
in the admin afterwards; migrations never overwrite their edits."""

PHARMACISTS = ["pharmacy_manager", "senior_pharmacist", "staff_pharmacist"]

APPOINTMENT_TYPES = (
    {
        "code": "mtm_session",
        "name": "Medication therapy management session",
        "description": "A review of every medicine the patient takes, with a written plan.",
        "duration_minutes": 45,
        "price": "85.00",
        "required_qualification": "mtm_certified",
        "allowed_roles": PHARMACISTS,
        "buffer_minutes": 10,
        "min_lead_hours": 2,
        "follow_up_days": 14,
        "follow_up_reason": "MTM follow-up call",
    },
    {
        "code": "health_screening",
        "name": "Health screening",
        "description": "Blood pressure, glucose and cholesterol checks.",
        "duration_minutes": 20,
        "price": "25.00",
        "allowed_roles": [*PHARMACISTS, "pharmacy_technician"],
        "buffer_minutes": 5,
    },
    {
        "code": "vaccination",
        "name": "Vaccination",
        "description": "Flu, COVID-19, shingles, pneumococcal and travel vaccines.",
        "duration_minutes": 15,
        "price": "0.00",
        "required_qualification": "certified_immunizer",
        "allowed_roles": PHARMACISTS,
        "buffer_minutes": 5,
        "max_bookings_per_day": 40,
    },
    {
        "code": "chronic_disease_review",
        "name": "Chronic disease review",
        "description": "Diabetes, hypertension or asthma check-in and adherence review.",
        "duration_minutes": 30,
        "price": "60.00",
        "allowed_roles": PHARMACISTS,
        "buffer_minutes": 5,
        "follow_up_days": 30,
        "follow_up_reason": "Chronic disease check-in",
    },
    {
        "code": "new_medication_consultation",
        "name": "New medication consultation",
        "description": "How to take a newly prescribed medicine, and what to watch for.",
        "duration_minutes": 20,
        "price": "30.00",
        "allowed_roles": PHARMACISTS,
        "buffer_minutes": 5,
        "follow_up_days": 7,
        "follow_up_reason": "New medication check-in",
    },
)


def seed_appointment_types(apps, schema_editor=None):
    AppointmentType = apps.get_model("engagement", "AppointmentType")
    for values in APPOINTMENT_TYPES:
        AppointmentType.objects.get_or_create(code=values["code"], defaults=values)
