"""Team mail that a visitor is waiting: sent to a real local SMTP server, naming no visitor, never
blocking the request, and never putting a password or address in the log."""
from __future__ import annotations

import email
import inspect
import socket
import threading
import time
from email import policy

import pytest
from aiosmtpd.controller import Controller

from app.admin.notify import (
    SUBJECT,
    Notifier,
    SmtpTarget,
    build,
    parse_recipients,
    parse_smtp_url,
    waiting_message,
)

SENDER = "quietdesk@desk.example.org"
TEAM = ("team@example.org", "ops+desk@example.org")
URL = "https://desk.example.org/admin/handoffs/42"
PASSWORD = "s3cret-Pa55"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Inbox:
    """An aiosmtpd handler that keeps each envelope; optionally holds DATA until released."""

    def __init__(self, gate: threading.Event | None = None) -> None:
        self.envelopes: list = []
        self.gate = gate

    async def handle_DATA(self, server, session, envelope):
        if self.gate is not None:
            self.gate.wait(10)   # blocks the server's loop, which only this one client uses
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"


@pytest.fixture
def inbox(request):
    """A plain SMTP server on loopback; parametrize indirectly with a gate to make it slow."""
    handler = Inbox(getattr(request, "param", None))
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield handler, controller.port
    if handler.gate is not None:
        handler.gate.set()
    controller.stop()


def notify_logs(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "app.admin.notify"]


def test_one_mail_reaches_the_team_with_the_link_and_a_count(inbox, caplog):
    handler, port = inbox
    notifier = Notifier(parse_smtp_url(f"smtp://127.0.0.1:{port}"), TEAM, SENDER)
    thread = notifier.send_waiting(URL, 3)
    assert thread is not None
    thread.join(15)
    assert not thread.is_alive()
    assert len(handler.envelopes) == 1
    envelope = handler.envelopes[0]
    assert envelope.mail_from == SENDER and envelope.rcpt_tos == list(TEAM)
    message = email.message_from_bytes(envelope.content, policy=policy.default)
    assert message["Subject"] == SUBJECT == "A visitor is waiting for a person (Quietdesk)"
    assert message["From"] == SENDER and message["Auto-Submitted"] == "auto-generated"
    body = message.get_content()
    assert URL in body and "3 visitors are waiting" in body
    assert notify_logs(caplog) == []


def test_the_message_cannot_carry_visitor_text():
    # The function has nowhere to put a visitor's name, address or words.
    assert list(inspect.signature(waiting_message).parameters) == [
        "sender", "recipients", "conversation_url", "waiting"]
    assert waiting_message(SENDER, TEAM, URL, 1).get_content() == (
        "A visitor asked to talk to a person. 1 visitor is waiting.\n\n"
        f"Open the conversation: {URL}\n")


@pytest.mark.parametrize("inbox", [threading.Event()], indirect=True)
def test_sending_never_waits_for_the_mail_server(inbox):
    handler, port = inbox
    notifier = Notifier(parse_smtp_url(f"smtp://127.0.0.1:{port}"), TEAM, SENDER)
    started = time.monotonic()
    thread = notifier.send_waiting(URL, 1)
    assert time.monotonic() - started < 1
    assert thread is not None and thread.daemon and thread.is_alive()
    handler.gate.set()
    thread.join(15)
    assert len(handler.envelopes) == 1


def test_a_dead_server_logs_only_the_error_class(caplog):
    target = parse_smtp_url(f"smtp://ops%40example.org:{PASSWORD}@127.0.0.1:{free_port()}")
    thread = Notifier(target, TEAM, SENDER).send_waiting(URL, 2)
    assert thread is not None
    thread.join(15)   # an exception escaping the thread would fail the test through pytest's hook
    assert notify_logs(caplog) == ["team notification failed: ConnectionRefusedError"]
    for secret in (PASSWORD, "ops@example.org", "ops%40example.org", *TEAM, URL):
        assert secret not in caplog.text


def test_credentials_are_not_sent_to_a_server_without_starttls(inbox, caplog):
    handler, port = inbox
    target = parse_smtp_url(f"smtp://user:{PASSWORD}@127.0.0.1:{port}")
    thread = Notifier(target, TEAM, SENDER).send_waiting(URL, 1)
    assert thread is not None
    thread.join(15)
    assert handler.envelopes == []
    assert notify_logs(caplog) == ["team notification failed: SMTPNotSupportedError"]
    assert PASSWORD not in caplog.text


@pytest.mark.parametrize("target,recipients", [
    (None, TEAM), (SmtpTarget("127.0.0.1", 25, security="plain"), ())])
def test_without_a_server_or_recipients_nothing_is_sent(target, recipients):
    notifier = Notifier(target, recipients, SENDER)
    assert not notifier.enabled
    assert notifier.send_waiting(URL, 1) is None


def test_build_reads_the_two_settings():
    assert not build("", "").enabled
    assert not build("", ",".join(TEAM)).enabled
    notifier = build("smtp://relay.internal", " team@example.org ,ops+desk@example.org", SENDER)
    assert notifier.enabled and notifier.recipients == TEAM and notifier.sender == SENDER
    assert build("smtp://relay.internal", "team@example.org").sender.startswith("quietdesk@")


@pytest.mark.parametrize("url,expected", [
    ("smtp://user:pass@mail.example.org:587", ("mail.example.org", 587, "user", "pass", "starttls")),
    ("smtp://user:pass@mail.example.org", ("mail.example.org", 587, "user", "pass", "starttls")),
    ("smtp://user:pass@mail.example.org:2525/", ("mail.example.org", 2525, "user", "pass", "starttls")),
    ("smtps://user:pass@mail.example.org", ("mail.example.org", 465, "user", "pass", "tls")),
    ("smtps://mail.example.org:2465", ("mail.example.org", 2465, "", "", "tls")),
    ("smtp://relay.internal:25", ("relay.internal", 25, "", "", "plain")),
    ("smtp://relay.internal", ("relay.internal", 25, "", "", "plain")),
    ("smtp://relay.internal?security=starttls", ("relay.internal", 587, "", "", "starttls")),
    ("smtp://relay.internal:25?security=starttls", ("relay.internal", 25, "", "", "starttls")),
    ("smtp://user:pass@mail.example.org?security=tls", ("mail.example.org", 465, "user", "pass", "tls")),
    ("smtp://ops%40example.org:p%3Ass%40w0rd@mail.example.org",
     ("mail.example.org", 587, "ops@example.org", "p:ss@w0rd", "starttls")),
    ("SMTP://user:pass@Mail.Example.ORG", ("mail.example.org", 587, "user", "pass", "starttls")),
    ("smtp://user:pass@[::1]:587", ("::1", 587, "user", "pass", "starttls")),
])
def test_smtp_url_rules(url, expected):
    target = parse_smtp_url(url)
    assert (target.host, target.port, target.username, target.password, target.security) == expected


@pytest.mark.parametrize("url,problem", [
    (f"smtp://user:{PASSWORD}@relay.internal:25?security=plain", "credentials over plain SMTP are refused"),
    (f"http://user:{PASSWORD}@mail.example.org", "must start with smtp:// or smtps://"),
    ("mail.example.org:587", "must start with smtp:// or smtps://"),
    (f"smtp://user:{PASSWORD}@mail.example.org:99999", "malformed"),
    (f"smtp://user:{PASSWORD}", "malformed"),           # no host: the password reads as the port
    (f"smtp://user:{PASSWORD}@[::1", "malformed"),
    (f"smtp://user:{PASSWORD}@mail.example.org:0", "port must be between 1 and 65535"),
    (f"smtp://user:{PASSWORD}@", "names no host"),
    (f"smtp://:{PASSWORD}@mail.example.org", "both a user name and a password"),
    ("smtp://user@mail.example.org", "both a user name and a password"),
    (f"smtps://user:{PASSWORD}@mail.example.org?security=starttls", "smtps:// is always implicit TLS"),
    (f"smtp://user:{PASSWORD}@mail.example.org?security=ssl", "security must be starttls, tls or plain"),
    (f"smtp://user:{PASSWORD}@mail.example.org?tls=yes", "accepts only one query parameter"),
    (f"smtp://user:{PASSWORD}@mail.example.org?security=tls&security=plain", "accepts only one query"),
    (f"smtp://user:{PASSWORD}@mail.example.org/inbox", "must not have a path"),
])
def test_bad_smtp_url_is_refused_without_echoing_the_password(url, problem):
    with pytest.raises(ValueError) as raised:
        parse_smtp_url(url)
    assert problem in str(raised.value)
    assert PASSWORD not in str(raised.value)
    # The parser's own error (which may quote the address part) must not ride along in a traceback.
    assert raised.value.__cause__ is None
    assert raised.value.__context__ is None or raised.value.__suppress_context__


def test_a_target_hides_its_password_and_refuses_plain_credentials():
    assert PASSWORD not in repr(parse_smtp_url(f"smtp://user:{PASSWORD}@mail.example.org"))
    with pytest.raises(ValueError, match="credentials over plain SMTP are refused"):
        SmtpTarget("relay.internal", 25, "user", PASSWORD, "plain")


@pytest.mark.parametrize("raw,expected", [
    ("", ()),
    ("  ", ()),
    ("team@example.org", ("team@example.org",)),
    (" team@example.org , ops+desk@example.org ", TEAM),
    ("team@example.org,team@example.org", ("team@example.org",)),
    ("first.last@sub.example.org,ops@localhost", ("first.last@sub.example.org", "ops@localhost")),
])
def test_recipients_are_parsed(raw, expected):
    assert parse_recipients(raw) == expected


@pytest.mark.parametrize("raw", [
    "team@example.org,", "team@example.org,,ops@example.org", "not-an-address", "a@b@example.org",
    "Team <team@example.org>", "team@example.org ops@example.org", "team@example.org\nBcc: x@evil.example",
    "@example.org", "team@", "team@-example.org", "team@example..org", ".team@example.org",
])
def test_bad_recipients_are_refused(raw):
    with pytest.raises(ValueError, match="NOTIFY_EMAILS"):
        parse_recipients(raw)
