"""Uploads waiting for an admin to publish them: one folder each under the instance folder.

The console converts an upload twice (preview, then publish) and several server workers may serve those
two requests, so the file waits on disk, not in one worker's memory: `<root>/<id>/upload<suffix>` plus
its original name and base address, owner-only (0700/0600). Publishing or discarding removes the
folder; folders older than a day are swept at the next upload.
"""
from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import time
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from app.retrieval.importer.sources import SUFFIXES

UPLOAD_SUFFIXES = (*SUFFIXES, ".zip")
MAX_AGE_SECONDS = 24 * 3600
_ID = re.compile(r"^[0-9a-f]{32}$")


@dataclass(frozen=True)
class Pending:
    id: str
    filename: str  # as uploaded, for messages only
    path: Path  # the stored upload
    base_url: str = ""  # where the pages are published, for their links and addresses


def _safe_name(filename: str) -> str:
    name = PurePosixPath(filename.replace("\\", "/")).name
    return re.sub(r"[^\w.() -]", "_", name)[:120] or "upload"


def sweep(root: Path, max_age: float = MAX_AGE_SECONDS) -> None:
    """Remove pending uploads older than max_age seconds (abandoned previews)."""
    if root.is_dir():
        for folder in root.iterdir():
            if _ID.match(folder.name) and time.time() - folder.stat().st_mtime > max_age:
                shutil.rmtree(folder, ignore_errors=True)


def stage(root: Path, filename: str, data: bytes, base_url: str = "") -> Pending:
    """Keep an upload until it is published or discarded; raise ValueError for an unsupported file type."""
    name = _safe_name(filename)
    suffix = PurePosixPath(name).suffix.lower()
    if suffix not in UPLOAD_SUFFIXES:
        raise ValueError(f"{name}: choose an HTML page, a .zip of pages, a Zendesk or Intercom export "
                         "(.json), a PDF or a Markdown file")
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    sweep(root)
    pending_id = secrets.token_hex(16)
    folder = root / pending_id
    folder.mkdir(mode=0o700)
    about = json.dumps({"name": name, "base_url": base_url}).encode()
    for file_name, content in ((f"upload{suffix}", data), ("about.json", about)):
        fd = os.open(folder / file_name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
    return Pending(pending_id, name, folder / f"upload{suffix}", base_url)


def find(root: Path, pending_id: str) -> Pending | None:
    """The pending upload with this id, or None (unknown, malformed, published or discarded)."""
    folder = root / pending_id
    if not _ID.match(pending_id) or not folder.is_dir():
        return None
    uploads = sorted(folder.glob("upload.*"))
    if not uploads:
        return None
    about = json.loads((folder / "about.json").read_text())
    return Pending(pending_id, about["name"], uploads[0], about["base_url"])


def discard(root: Path, pending_id: str) -> None:
    """Remove a pending upload (after publishing, or when the admin cancels)."""
    if _ID.match(pending_id):
        shutil.rmtree(root / pending_id, ignore_errors=True)
