"""Consent changes as a use case: validate purposes, record events with policy version and source."""
from __future__ import annotations

from app.chat.visitors import Visitor
from app.db import get_db
from app.privacy import consent

PURPOSES = consent.PURPOSES


def current(visitor: Visitor) -> dict[str, bool]:
    """Return the visitor's current consent per purpose."""
    return consent.current(get_db(), visitor.id)


def change(visitor: Visitor, wanted: dict[str, bool], policy_version: str, source: str) -> dict[str, bool]:
    """Apply the visitor's decisions; each change is appended as an event."""
    return consent.record(get_db(), visitor.id, wanted, policy_version, source)
