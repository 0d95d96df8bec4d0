"""Scrub by strict patterns only, no language model: for log lines of the server's master process.

The master forks workers and writes its own lifecycle lines; no request, and so nothing a visitor
types, ever reaches it. Loading the full scrubber (spaCy, Presidio: ~400 MB) there to read a few lines
of its own would be waste, but a line is still not written unscrubbed: emails, IP addresses, IBANs
and runs of seven or more digits (phone, card and account numbers) are masked by type.
"""
from __future__ import annotations

import re

PATTERNS = (
    ("EMAIL_ADDRESS", re.compile(r"[\w.+-]+(?:@|%40)[\w-]+(?:\.[\w-]+)+")),
    ("IBAN_CODE", re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b")),
    ("IP_ADDRESS", re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}\b|\b(?:[0-9a-fA-F]{1,4}:){2,7}[0-9a-fA-F]{1,4}\b")),
    ("NUMBER", re.compile(r"\+?\(?\d(?:[\d \t().-]*\d){6,}")),  # seven digits or more, any separators
)


def scrub_patterns(text: str) -> str:
    """Replace every match of a strict pattern with `<TYPE>`."""
    for name, pattern in PATTERNS:
        text = pattern.sub(f"<{name}>", text)
    return text
