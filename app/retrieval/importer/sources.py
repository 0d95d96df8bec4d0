"""Read the files of an import source: one file, a folder, or a zip, within a size budget.

Zip member names are labels only: nothing is ever written under them, so `../../etc/passwd` in a zip
is just an odd name. Sizes are counted while reading (a zip's header can lie about them), so a zip
bomb stops at the budget instead of filling memory.
"""
from __future__ import annotations

import zipfile
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath
from typing import Iterator

from app.retrieval.importer.items import Document, SourceError

SUFFIXES = (".html", ".htm", ".json", ".pdf", ".md", ".markdown")
MAX_TOTAL_BYTES = 200 * 1024 * 1024  # all files of one source together, uncompressed
MAX_FILES = 5000
_CHUNK = 1 << 16


def wanted(name: str) -> bool:
    """True for a file the importer converts; assets (css, js, images) and hidden files are passed over."""
    parts = [p for p in PurePosixPath(name).parts if p not in (".", "..")]
    return (bool(parts) and not any(p.startswith(".") or p == "__MACOSX" for p in parts)
            and PurePosixPath(name).suffix.lower() in SUFFIXES)


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _folder(root: Path, budget: int) -> Iterator[Document]:
    paths = sorted(p for p in root.rglob("*") if p.is_file() and not p.is_symlink()
                   and wanted(p.relative_to(root).as_posix()))
    if len(paths) > MAX_FILES:
        raise SourceError(f"{root}: more than {MAX_FILES} files to import; split the folder")
    for path in paths:
        size = path.stat().st_size
        budget -= size
        if budget < 0:
            raise SourceError(f"{root}: more than {MAX_TOTAL_BYTES // 2**20} MB of files; split the folder")
        yield Document(path.relative_to(root).as_posix(), path.read_bytes(), _iso(path.stat().st_mtime))


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, budget: int, label: str) -> bytes:
    data = bytearray()
    with archive.open(info) as member:
        while chunk := member.read(_CHUNK):
            data += chunk
            if len(data) > budget:
                raise SourceError(f"{label}: unpacks to more than {MAX_TOTAL_BYTES // 2**20} MB; refusing it")
    return bytes(data)


def _zip(path: Path, label: str, budget: int) -> Iterator[Document]:
    try:
        with zipfile.ZipFile(path) as archive:
            members = sorted((i for i in archive.infolist() if not i.is_dir() and wanted(i.filename)),
                             key=lambda i: i.filename)
            if len(members) > MAX_FILES:
                raise SourceError(f"{label}: more than {MAX_FILES} files to import; split the zip")
            documents = []
            for info in members:
                data = _read_member(archive, info, budget, label)
                budget -= len(data)
                modified = datetime(*info.date_time, tzinfo=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
                documents.append(Document(info.filename.lstrip("/"), data, modified))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError, NotImplementedError) as error:
        raise SourceError(f"{label}: not a readable zip file ({error})") from None
    yield from documents


def documents(path: Path, label: str | None = None) -> Iterator[Document]:
    """Yield the convertible files of a source (a file, a folder or a .zip), sorted by name.

    Raises SourceError when the source as a whole cannot be read; nothing has been written then.
    """
    label = label or str(path)
    if path.is_dir():
        yield from _folder(path, MAX_TOTAL_BYTES)
    elif not path.is_file():
        raise SourceError(f"{label}: no such file or folder")
    elif path.suffix.lower() == ".zip":
        yield from _zip(path, label, MAX_TOTAL_BYTES)
    elif path.suffix.lower() not in SUFFIXES:
        raise SourceError(f"{label}: not a file type the importer reads "
                          "(HTML, zip, JSON export, PDF, Markdown)")
    elif path.stat().st_size > MAX_TOTAL_BYTES:
        raise SourceError(f"{label}: larger than {MAX_TOTAL_BYTES // 2**20} MB; refusing it")
    else:
        name = PurePosixPath(label.replace("\\", "/")).name
        yield Document(name, path.read_bytes(), _iso(path.stat().st_mtime))
