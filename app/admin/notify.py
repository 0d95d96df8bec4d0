"""Mail the team that a visitor is waiting for a person, without naming the visitor.

The mail carries a count and a console link, nothing a visitor typed: `waiting_message` takes no
message text at all (DESIGN §10). Sending runs in a daemon thread with a short timeout, so a slow or
dead mail server never holds up the visitor's request; a failure is logged by exception class only,
since an SMTP error's text can quote addresses or the server's reply to our credentials.
"""
from __future__ import annotations

import logging
import re
import smtplib
import socket
import ssl
import threading
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from typing import Iterable
from urllib.parse import parse_qs, unquote, urlsplit

log = logging.getLogger(__name__)

SUBJECT = "A visitor is waiting for a person (Quietdesk)"
TIMEOUT_SECONDS = 10.0
DEFAULT_PORTS = {"starttls": 587, "tls": 465, "plain": 25}
# A dot-atom local part and a host name: enough to catch typos, and no character (space, comma,
# angle bracket, CR/LF) that could smuggle a second address or header into the mail.
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
_ADDRESS = re.compile(rf"{_ATOM}(?:\.{_ATOM})*@{_LABEL}(?:\.{_LABEL})*")


@dataclass(frozen=True)
class SmtpTarget:
    """Where and how to send: security is "starttls", "tls" (implicit, smtps) or "plain".

    Credentials never travel without TLS: a plain target with a user name is refused on construction.
    """

    host: str
    port: int
    username: str = ""
    password: str = field(default="", repr=False)   # kept out of repr, so a logged target hides it
    security: str = "starttls"

    def __post_init__(self) -> None:
        if self.security not in DEFAULT_PORTS:
            raise ValueError(f"SMTP security must be starttls, tls or plain, not {self.security!r}")
        if self.security == "plain" and (self.username or self.password):
            raise ValueError("SMTP credentials over plain SMTP are refused: drop security=plain "
                             "(smtp:// with credentials uses STARTTLS) or use smtps://")


def parse_smtp_url(url: str) -> SmtpTarget:
    """Parse SMTP_URL; raise ValueError with a message that never repeats the URL or its password.

    Rules:
    - `smtps://[user:password@]host[:port]` — implicit TLS, port 465 by default.
    - `smtp://user:password@host[:port]` — STARTTLS (required: no login if the server lacks it), port 587.
    - `smtp://host[:port]` — no credentials: plain SMTP for a relay on a trusted network, port 25.
    - `?security=starttls|tls|plain` overrides the choice, e.g. `smtp://relay:25?security=starttls`
      encrypts without logging in; `security=plain` with credentials is refused, as is a security that
      contradicts the scheme (smtps:// is always tls). No other query parameter is accepted.
    User name and password are percent-decoded (write `@` as %40, `:` as %3A); both or neither.
    """
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:   # its text may quote the address part, which holds the password
        raise ValueError("SMTP URL is malformed (port or host cannot be read)") from None
    if parts.scheme not in ("smtp", "smtps"):
        raise ValueError("SMTP URL must start with smtp:// or smtps://")
    if not parts.hostname:
        raise ValueError("SMTP URL names no host")
    if parts.path not in ("", "/") or parts.fragment:
        raise ValueError("SMTP URL must not have a path or fragment")
    username, password = unquote(parts.username or ""), unquote(parts.password or "")
    if bool(username) != bool(password):
        raise ValueError("SMTP URL needs both a user name and a password, or neither")
    if port == 0:
        raise ValueError("SMTP URL port must be between 1 and 65535")
    security = _security(parts.scheme, parts.query, bool(username))
    return SmtpTarget(parts.hostname, port or DEFAULT_PORTS[security], username, password, security)


def _security(scheme: str, query: str, credentials: bool) -> str:
    """Choose the connection's security from the scheme, the credentials and `?security=`."""
    try:
        options = parse_qs(query, keep_blank_values=True, strict_parsing=bool(query))
    except ValueError:
        raise ValueError("SMTP URL query must read ?security=starttls|tls|plain") from None
    if set(options) - {"security"} or len(options.get("security", [])) > 1:
        raise ValueError("SMTP URL accepts only one query parameter: security=starttls|tls|plain")
    default = "tls" if scheme == "smtps" else "starttls" if credentials else "plain"
    security = options.get("security", [default])[0]
    if security not in DEFAULT_PORTS:
        raise ValueError("SMTP URL security must be starttls, tls or plain")
    if scheme == "smtps" and security != "tls":
        raise ValueError("smtps:// is always implicit TLS; use smtp:// for starttls or plain")
    return security   # SmtpTarget itself refuses credentials with plain


def parse_recipients(raw: str) -> tuple[str, ...]:
    """Parse NOTIFY_EMAILS (comma-separated) into addresses, "" into none; raise ValueError on a bad one."""
    if not raw.strip():
        return ()
    addresses = [item.strip() for item in raw.split(",")]
    for address in addresses:
        if not address:
            raise ValueError("NOTIFY_EMAILS has an empty entry: remove the extra comma")
        if not _ADDRESS.fullmatch(address):
            raise ValueError(f"NOTIFY_EMAILS entry {address!r} is not an email address")
    return tuple(dict.fromkeys(addresses))


def default_sender() -> str:
    """Return quietdesk@<this host's name>, the sender when none is configured."""
    return f"quietdesk@{socket.gethostname()}"


def waiting_message(sender: str, recipients: Iterable[str], conversation_url: str,
                    waiting: int) -> EmailMessage:
    """Build the mail telling the team that visitors are waiting.

    Deliberately takes no visitor, address or message text, so none can end up in a team inbox.
    """
    message = EmailMessage()
    message["Subject"] = SUBJECT
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message["Date"] = formatdate(usegmt=True)
    # A domain of our own: make_msgid() would otherwise resolve this host's FQDN, which can stall on DNS.
    message["Message-ID"] = make_msgid(domain=parseaddr(sender)[1].rpartition("@")[2] or "quietdesk.invalid")
    message["Auto-Submitted"] = "auto-generated"   # RFC 3834: no out-of-office replies, please
    count = "1 visitor is" if waiting == 1 else f"{waiting} visitors are"
    message.set_content(f"A visitor asked to talk to a person. {count} waiting.\n\n"
                        f"Open the conversation: {conversation_url}\n")
    return message


def deliver(target: SmtpTarget, message: EmailMessage, timeout: float = TIMEOUT_SECONDS) -> None:
    """Send one message now, in this thread; raise whatever the connection raises."""
    context = ssl.create_default_context()
    if target.security == "tls":
        client: smtplib.SMTP = smtplib.SMTP_SSL(target.host, target.port, timeout=timeout, context=context)
    else:
        client = smtplib.SMTP(target.host, target.port, timeout=timeout)
    with client:
        if target.security == "starttls":
            client.starttls(context=context)   # raises if not offered: we never log in unencrypted
        if target.username:
            client.login(target.username, target.password)
        client.send_message(message)


class Notifier:
    """Send team mail in the background; does nothing when no server or no recipient is configured."""

    def __init__(self, target: SmtpTarget | None, recipients: Iterable[str], sender: str | None = None,
                 timeout: float = TIMEOUT_SECONDS) -> None:
        self.target = target
        self.recipients = tuple(recipients)
        self.sender = sender or default_sender()
        self.timeout = timeout

    @property
    def enabled(self) -> bool:
        return self.target is not None and bool(self.recipients)

    def send_waiting(self, conversation_url: str, waiting: int) -> threading.Thread | None:
        """Start mailing the team that visitors wait; return the started thread (None when disabled).

        The caller need not wait for it; tests join it.
        """
        target = self.target
        if target is None or not self.recipients:
            return None
        message = waiting_message(self.sender, self.recipients, conversation_url, waiting)
        thread = threading.Thread(target=self._deliver_logged, args=(target, message),
                                  name="quietdesk-notify", daemon=True)
        thread.start()
        return thread

    def _deliver_logged(self, target: SmtpTarget, message: EmailMessage) -> None:
        try:
            deliver(target, message, self.timeout)
        except Exception as error:   # a notification must never take anything down with it
            log.warning("team notification failed: %s", error.__class__.__name__)


def build(smtp_url: str, notify_emails: str, sender: str | None = None) -> Notifier:
    """Build the notifier from the SMTP_URL and NOTIFY_EMAILS settings; raise ValueError if either is bad."""
    target = parse_smtp_url(smtp_url) if smtp_url.strip() else None
    return Notifier(target, parse_recipients(notify_emails), sender)


def init_app(app) -> None:
    """Keep the team notifier in app.extensions; a malformed SMTP_URL or NOTIFY_EMAILS stops start-up."""
    from app.config import ConfigError

    try:
        app.extensions["notifier"] = build(app.config["SMTP_URL"], app.config["NOTIFY_EMAILS"])
    except ValueError as error:
        raise ConfigError(f"QUIETDESK_SMTP_URL / QUIETDESK_NOTIFY_EMAILS: {error}") from None
