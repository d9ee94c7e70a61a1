"""How a reminder reaches a patient: the message texts and the email and SMS backends.

Email goes through Django's email backend (EMAIL_BACKEND). SMS goes through the backend named
by settings.ENGAGEMENT_SMS_BACKEND:

- ConsoleSmsBackend: logs each message and prints it (development);
- FileSmsBackend: appends one JSON line per message under ENGAGEMENT_SMS_FILE_PATH;
- NullSmsBackend: does nothing (benchmarks);
- TwilioSmsBackend: the Twilio-compatible HTTP API at ENGAGEMENT_SMS_API_URL (production).

Every backend returns the provider's message id, or raises TransientSendError (worth retrying:
timeouts, 5xx, 429) or PermanentSendError (retrying would repeat it: other 4xx, an invalid
number). The sender (engagement.reminders) decides about retries; backends never retry.

Texts say where and when, nothing more: no patient name, no service, no clinical detail, since
a text message or an email can be read by whoever holds the phone or the inbox.
"""

import base64
import json
import logging
import smtplib
import sys
import uuid
from dataclasses import dataclass
from email.utils import make_msgid
from pathlib import Path
from urllib.error import HTTPError, URLError
from urllib.parse import urlencode
from urllib.request import Request, urlopen
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.mail import EmailMessage
from django.core.mail.utils import DNS_NAME
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)


class SendError(Exception):
    """A message did not go out."""


class TransientSendError(SendError):
    """The provider could not take the message now; the same message may go through later."""


class PermanentSendError(SendError):
    """The provider refused the message; sending it again would be refused again."""


# Message texts ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Message:
    subject: str
    body: str


_STOP = "Reply STOP to stop these messages."
TEMPLATES = {
    "appointment_24h": (
        "Appointment reminder",
        "Reminder: your appointment at {location} is tomorrow, {when}.",
    ),
    "appointment_2h": (
        "Appointment reminder",
        "Reminder: your appointment at {location} is today at {time}.",
    ),
    "moved": (
        "Your appointment has changed",
        "There is a change to your appointment at {location}: it is now on {when}. Call us if "
        "that does not suit you.",
    ),
    "needs_rebooking": (
        "Please rebook your appointment",
        "We are sorry: your appointment at {location} on {when} cannot go ahead. Please call "
        "us or book a new time.",
    ),
    "cancelled": (
        "Your appointment is cancelled",
        "Your appointment at {location} on {when} is cancelled.",
    ),
    "manual_reminder": (
        "Appointment reminder",
        "Reminder: your appointment at {location} is on {when}.",
    ),
    "task_due": (
        "We will be in touch",
        "{location} will contact you about your follow-up around {date}.",
    ),
}


def compose(template, *, location, starts_at=None, due_date=None):
    """The subject and body of `template` for a visit to `location` at `starts_at` (an aware
    datetime, shown in the location's time zone) or a follow-up due on `due_date`."""
    try:
        subject, text = TEMPLATES[template]
    except KeyError:
        raise PermanentSendError(f"no message text for template {template!r}") from None
    values = {"location": location.name}
    if starts_at is not None:
        local = starts_at.astimezone(ZoneInfo(location.timezone))
        values["time"] = f"{local:%H:%M}"
        values["when"] = f"{local:%a %b} {local.day} at {local:%H:%M}"
    if due_date is not None:
        values["date"] = f"{due_date:%a %b} {due_date.day}"
    return Message(subject=subject, body=f"{text.format(**values)} {_STOP}")


# Email -----------------------------------------------------------------------------------------


def send_email(to, message, *, connection=None):
    """Send `message` to `to` through Django's email backend; returns its Message-ID."""
    message_id = make_msgid(domain=str(DNS_NAME))
    email = EmailMessage(
        subject=message.subject,
        body=message.body,
        to=[to],
        headers={"Message-ID": message_id},
        connection=connection,
    )
    try:
        email.send()
    except smtplib.SMTPRecipientsRefused as error:
        raise PermanentSendError(f"the mail server refused {to}: {error}") from error
    except (smtplib.SMTPException, OSError) as error:
        # Connection refused, a timeout, a 4xx from the server: the next attempt may pass.
        raise TransientSendError(f"the mail server did not take the message: {error}") from error
    return message_id


# SMS -------------------------------------------------------------------------------------------


class SmsBackend:
    """Send one text message; return the provider's message id."""

    def send(self, to, body):
        raise NotImplementedError


class ConsoleSmsBackend(SmsBackend):
    def __init__(self, stream=None):
        self.stream = stream

    def send(self, to, body):
        message_id = f"console-{uuid.uuid4().hex}"
        logger.info("SMS %s to %s: %s", message_id, to, body)
        stream = self.stream or sys.stdout
        stream.write(f"SMS to {to}: {body}\n")
        stream.flush()
        return message_id


class FileSmsBackend(SmsBackend):
    """Appends each message as a JSON line to `<ENGAGEMENT_SMS_FILE_PATH>/sms.jsonl` (or to the
    path itself when it names a .jsonl file)."""

    def __init__(self, path=None):
        path = Path(path or settings.ENGAGEMENT_SMS_FILE_PATH)
        self.path = path if path.suffix == ".jsonl" else path / "sms.jsonl"

    def send(self, to, body):
        message_id = f"file-{uuid.uuid4().hex}"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps({"id": message_id, "to": to, "body": body})
        with self.path.open("a", encoding="utf-8") as out:
            out.write(line + "\n")
        return message_id


class NullSmsBackend(SmsBackend):
    """Accepts every message and sends nothing (benchmarks measure our side alone)."""

    def send(self, to, body):
        return "null"


class TwilioSmsBackend(SmsBackend):
    """POST {api_url}/2010-04-01/Accounts/{sid}/Messages.json (basic auth, form fields To,
    From, Body); the answer's "sid" is the message id. Works with any provider that speaks
    this API. Standard library only: no HTTP client is pinned in requirements.txt."""

    def __init__(self, account_sid=None, auth_token=None, from_number=None, api_url=None,
                 timeout=10):  # fmt: skip
        self.account_sid = account_sid or settings.ENGAGEMENT_SMS_ACCOUNT_SID
        self.auth_token = auth_token or settings.ENGAGEMENT_SMS_AUTH_TOKEN
        self.from_number = from_number or settings.ENGAGEMENT_SMS_FROM
        self.api_url = (api_url or settings.ENGAGEMENT_SMS_API_URL).rstrip("/")
        self.timeout = timeout
        missing = [
            name
            for name, value in (
                ("ENGAGEMENT_SMS_ACCOUNT_SID", self.account_sid),
                ("ENGAGEMENT_SMS_AUTH_TOKEN", self.auth_token),
                ("ENGAGEMENT_SMS_FROM", self.from_number),
            )
            if not value
        ]
        if missing:
            raise ImproperlyConfigured(f"The SMS backend needs {', '.join(missing)}.")
        if not self.api_url.startswith(("https://", "http://")):
            raise ImproperlyConfigured("ENGAGEMENT_SMS_API_URL must be an http(s) URL.")

    def send(self, to, body):
        url = f"{self.api_url}/2010-04-01/Accounts/{self.account_sid}/Messages.json"
        credentials = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        # The URL is http(s) (checked above), so urlopen cannot be steered to file: or ftp:.
        request = Request(  # noqa: S310
            url,
            data=urlencode({"To": to, "From": self.from_number, "Body": body}).encode(),
            headers={
                "Authorization": f"Basic {credentials}",
                "Content-Type": "application/x-www-form-urlencoded",
                "Accept": "application/json",
            },
            method="POST",
        )
        try:
            with urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                answer = json.loads(response.read() or b"{}")
        except HTTPError as error:
            detail = _error_detail(error)
            if error.code == 429 or error.code >= 500:
                raise TransientSendError(f"SMS provider answered {error.code}{detail}") from error
            raise PermanentSendError(f"SMS provider refused it ({error.code}){detail}") from error
        except (URLError, TimeoutError, ConnectionError) as error:
            raise TransientSendError(f"SMS provider unreachable: {error}") from error
        except ValueError as error:
            raise TransientSendError("SMS provider answered with something not JSON") from error
        message_id = answer.get("sid") if isinstance(answer, dict) else None
        if not message_id:
            raise TransientSendError("SMS provider answered without a message id")
        return str(message_id)


def _error_detail(error):
    """The provider's own message (Twilio answers {"code": …, "message": …}), if any."""
    try:
        answer = json.loads(error.read() or b"{}")
    except (ValueError, OSError):
        return ""
    message = answer.get("message") if isinstance(answer, dict) else None
    return f": {message}" if message else ""


def get_sms_backend(**options):
    """The SMS backend named by settings.ENGAGEMENT_SMS_BACKEND (a dotted path)."""
    return import_string(settings.ENGAGEMENT_SMS_BACKEND)(**options)
