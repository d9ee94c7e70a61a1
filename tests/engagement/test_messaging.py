"""Message texts and the email and SMS backends. The Twilio-compatible backend talks to a fake
provider on 127.0.0.1 (http.server in a thread, on a free port)."""

import base64
import io
import json
import socket
import threading
import time
from datetime import UTC, date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest
from django.core import mail
from django.core.exceptions import ImproperlyConfigured

from engagement import messaging
from engagement.models import Location

MAIN_STREET = Location(name="Main Street", timezone="America/New_York")
TEN_AM_NEW_YORK = datetime(2026, 3, 16, 14, 0, tzinfo=UTC)  # EDT: UTC-4


def test_texts_say_where_and_when_in_local_time():
    message = messaging.compose("appointment_24h", location=MAIN_STREET, starts_at=TEN_AM_NEW_YORK)
    assert message.subject == "Appointment reminder"
    assert message.body == (
        "Reminder: your appointment at Main Street is tomorrow, Mon Mar 16 at 10:00. "
        "Reply STOP to stop these messages."
    )
    two_hours = messaging.compose("appointment_2h", location=MAIN_STREET, starts_at=TEN_AM_NEW_YORK)
    assert two_hours.body.startswith("Reminder: your appointment at Main Street is today at 10:00.")
    task = messaging.compose("task_due", location=MAIN_STREET, due_date=date(2026, 4, 2))
    assert task.body.startswith(
        "Main Street will contact you about your follow-up around Thu Apr 2"
    )
    for template in ("moved", "needs_rebooking", "cancelled"):
        text = messaging.compose(template, location=MAIN_STREET, starts_at=TEN_AM_NEW_YORK).body
        assert "Main Street" in text
        assert "Mon Mar 16 at 10:00" in text


def test_an_unknown_template_is_a_permanent_error():
    with pytest.raises(messaging.PermanentSendError, match="no message text for template 'x'"):
        messaging.compose("x", location=MAIN_STREET, starts_at=TEN_AM_NEW_YORK)


# Email -----------------------------------------------------------------------------------------


def test_email_goes_through_djangos_backend_and_returns_its_message_id(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    message = messaging.Message(subject="Appointment reminder", body="See you at 10:00.")
    message_id = messaging.send_email("pat@example.org", message)
    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert sent.to == ["pat@example.org"]
    assert sent.subject == "Appointment reminder"
    assert sent.message()["Message-ID"] == message_id
    assert message_id.startswith("<")
    assert message_id.endswith(">")


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_mail_server_that_is_down_is_a_transient_error(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", free_port(), 2
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    message = messaging.Message(subject="s", body="b")
    with pytest.raises(messaging.TransientSendError, match="mail server did not take"):
        messaging.send_email("pat@example.org", message)


# Development and benchmark SMS backends --------------------------------------------------------


def test_console_backend_prints_each_message():
    out = io.StringIO()
    message_id = messaging.ConsoleSmsBackend(stream=out).send("+15550000001", "Hello")
    assert out.getvalue() == "SMS to +15550000001: Hello\n"
    assert message_id.startswith("console-")


def test_file_backend_appends_json_lines_under_the_configured_path(settings, tmp_path):
    settings.ENGAGEMENT_SMS_FILE_PATH = str(tmp_path / "sms")
    settings.ENGAGEMENT_SMS_BACKEND = "engagement.messaging.FileSmsBackend"
    backend = messaging.get_sms_backend()
    assert isinstance(backend, messaging.FileSmsBackend)
    first = backend.send("+15550000001", "One")
    second = backend.send("+15550000002", "Two")
    lines = (tmp_path / "sms" / "sms.jsonl").read_text().splitlines()
    assert [json.loads(line) for line in lines] == [
        {"id": first, "to": "+15550000001", "body": "One"},
        {"id": second, "to": "+15550000002", "body": "Two"},
    ]
    assert first != second


def test_null_backend_sends_nothing_and_accepts_everything():
    assert messaging.NullSmsBackend().send("+15550000001", "x") == "null"


# The Twilio-compatible backend against a fake provider ----------------------------------------


class FakeProvider:
    """A Twilio-compatible endpoint on 127.0.0.1 answering `status` with `answer`."""

    def __init__(self):
        self.requests = []
        self.status, self.answer, self.delay = 201, {"sid": "SM0001"}, 0
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                provider.requests.append(
                    {
                        "path": self.path,
                        "authorization": self.headers.get("Authorization"),
                        "content_type": self.headers.get("Content-Type"),
                        "form": parse_qs(self.rfile.read(length).decode()),
                    }
                )
                time.sleep(provider.delay)
                body = json.dumps(provider.answer).encode()
                self.send_response(provider.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def provider():
    with FakeProvider() as fake:
        yield fake


def twilio(url, **options):
    return messaging.TwilioSmsBackend(
        account_sid="AC123", auth_token="secret", from_number="+15559990000", api_url=url,
        **options,
    )  # fmt: skip


def test_twilio_backend_posts_the_form_with_basic_auth(provider):
    message_id = twilio(provider.url).send("+15550000001", "Reminder: 10:00")
    assert message_id == "SM0001"
    (request,) = provider.requests
    assert request["path"] == "/2010-04-01/Accounts/AC123/Messages.json"
    assert request["authorization"] == "Basic " + base64.b64encode(b"AC123:secret").decode()
    assert request["content_type"] == "application/x-www-form-urlencoded"
    assert request["form"] == {
        "To": ["+15550000001"],
        "From": ["+15559990000"],
        "Body": ["Reminder: 10:00"],
    }


@pytest.mark.parametrize("status", [500, 503, 429])
def test_server_errors_and_throttling_are_transient(provider, status):
    provider.status, provider.answer = status, {"message": "try later"}
    with pytest.raises(messaging.TransientSendError, match=f"answered {status}: try later"):
        twilio(provider.url).send("+15550000001", "x")


@pytest.mark.parametrize("status", [400, 401, 404])
def test_other_client_errors_are_permanent(provider, status):
    provider.status = status
    provider.answer = {"code": 21211, "message": "The 'To' number is not a valid phone number."}
    with pytest.raises(messaging.PermanentSendError, match=f"refused it \\({status}\\): The 'To'"):
        twilio(provider.url).send("+1555", "x")


def test_a_timeout_or_an_unreachable_provider_is_transient(provider):
    provider.delay = 1
    with pytest.raises(messaging.TransientSendError, match="unreachable"):
        twilio(provider.url, timeout=0.2).send("+15550000001", "x")
    with pytest.raises(messaging.TransientSendError, match="unreachable"):
        twilio(f"http://127.0.0.1:{free_port()}").send("+15550000001", "x")


def test_an_answer_without_a_message_id_is_transient(provider):
    provider.answer = {"status": "queued"}
    with pytest.raises(messaging.TransientSendError, match="without a message id"):
        twilio(provider.url).send("+15550000001", "x")


def test_twilio_backend_is_configured_by_settings(settings, provider):
    settings.ENGAGEMENT_SMS_BACKEND = "engagement.messaging.TwilioSmsBackend"
    settings.ENGAGEMENT_SMS_ACCOUNT_SID = "AC777"
    settings.ENGAGEMENT_SMS_AUTH_TOKEN = "token"
    settings.ENGAGEMENT_SMS_FROM = "+15551112222"
    settings.ENGAGEMENT_SMS_API_URL = provider.url + "/"
    assert messaging.get_sms_backend().send("+15550000001", "x") == "SM0001"
    assert provider.requests[0]["path"] == "/2010-04-01/Accounts/AC777/Messages.json"
    assert provider.requests[0]["form"]["From"] == ["+15551112222"]


def test_twilio_backend_names_missing_settings(settings):
    settings.ENGAGEMENT_SMS_ACCOUNT_SID = "AC777"
    settings.ENGAGEMENT_SMS_AUTH_TOKEN = ""
    settings.ENGAGEMENT_SMS_FROM = ""
    with pytest.raises(ImproperlyConfigured) as error:
        messaging.TwilioSmsBackend()
    assert str(error.value) == (
        "The SMS backend needs ENGAGEMENT_SMS_AUTH_TOKEN, ENGAGEMENT_SMS_FROM."
    )
    with pytest.raises(ImproperlyConfigured, match="must be an http"):
        twilio("file:///etc/passwd")
