"""Plan and publish imported articles in the knowledge folder, never touching a hand-written one.

An imported file carries `source:` in its front matter; that is how a re-import finds it again and how
a hand-written article (no `source:`) is told apart and left alone. Publishing writes every file into a
temporary folder inside the knowledge folder (same filesystem), then moves each into place with an
atomic rename, so the loader never reads a half-written article. Nothing is ever deleted.
"""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
import unicodedata
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Iterable

import yaml

from app.retrieval.importer.items import Converted, Skipped

ACTIONS = ("added", "updated", "unchanged", "skipped")
_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.DOTALL)


@dataclass(frozen=True)
class Change:
    action: str  # one of ACTIONS
    origin: str
    slug: str = ""
    reason: str = ""  # why it was skipped
    article: Converted | None = None
    text: str = ""  # the file's full new text (added, updated)


@dataclass(frozen=True)
class Plan:
    folder: Path
    changes: tuple[Change, ...]

    def count(self, action: str) -> int:
        return sum(change.action == action for change in self.changes)

    @property
    def summary(self) -> str:
        return ", ".join(f"{self.count(action)} {action}" for action in ACTIONS)

    @property
    def imported(self) -> bool:
        """True if at least one article is (or already was) in the folder from this source."""
        return any(change.action != "skipped" for change in self.changes)


def slugify(title: str) -> str:
    """A file name from a title: ASCII letters, digits and dashes only, so never a path."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")[:80].strip("-")
    return slug or "article"


def _front_matter(path: Path) -> dict | None:
    """The file's front matter, or None if it has none we can read (then it is treated as hand-written)."""
    try:
        match = _FRONT_MATTER.match(path.read_text(encoding="utf-8"))
        meta = yaml.safe_load(match.group(1)) if match else None
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None
    return meta if isinstance(meta, dict) else None


def render(article: Converted, questions: Iterable[str] = ()) -> str:
    """The article file's text: front matter (title, url, source, updated, questions) and the body."""
    meta = {"title": article.title, "url": article.url, "source": article.source}
    if article.updated:
        meta["updated"] = article.updated
    if questions:
        meta["questions"] = list(questions)
    front = yaml.safe_dump(meta, sort_keys=False, allow_unicode=True, width=10_000)
    return f"---\n{front}---\n# {article.title}\n\n{article.body}\n"


def _existing(folder: Path) -> dict[str, dict | None]:
    return {path.stem: _front_matter(path) for path in sorted(folder.glob("*.md"))}


def _free_slug(title: str, taken: set[str], existing: dict[str, dict | None]) -> str | None:
    """A new file name for an article; None if its natural name belongs to a hand-written article."""
    base = slugify(title)
    if base in existing and not (existing[base] or {}).get("source"):
        return None
    slug, n = base, 1
    while slug in taken or slug in existing:
        n += 1
        slug = f"{base}-{n}"
    return slug


def _change(article: Converted, path: Path, meta: dict | None) -> Change:
    slug = path.stem
    questions = (meta or {}).get("questions") or []  # kept: phrasings added later from the console
    if meta is None:
        return Change("added", article.origin, slug, article=article, text=render(article, questions))
    # A new `updated` date alone is not a change: the text is what the bot answers from.
    same = render(replace(article, updated=str(meta.get("updated") or "")), questions)
    if same == path.read_text(encoding="utf-8"):
        return Change("unchanged", article.origin, slug, article=article)
    return Change("updated", article.origin, slug, article=article, text=render(article, questions))


def plan(items: Iterable[Converted | Skipped], folder: Path) -> Plan:
    """Decide, for each converted article, whether it is added, updated, unchanged or skipped."""
    folder = Path(folder)
    existing = _existing(folder) if folder.is_dir() else {}
    by_source = {str(m["source"]): slug for slug, m in existing.items() if m and m.get("source")}
    seen_source: dict[str, str] = {}
    seen_content: dict[str, str] = {}
    taken: set[str] = set()
    changes = []
    for item in items:
        if isinstance(item, Skipped):
            changes.append(Change("skipped", item.origin, reason=item.reason))
            continue
        # Same title and words is the same article, even where its links resolve differently.
        words = re.sub(r"\]\([^)]*\)", "]", item.body)
        digest = hashlib.sha256(f"{item.title}\x00{words}".encode()).hexdigest()
        first = seen_source.get(item.source) or seen_content.get(digest)
        if first:
            changes.append(Change("skipped", item.origin, reason=f"duplicate of {first}"))
            continue
        seen_source[item.source], seen_content[digest] = item.origin, item.origin
        slug = by_source.get(item.source) or _free_slug(item.title, taken, existing)
        if slug is None:
            changes.append(Change("skipped", item.origin, slugify(item.title),
                                  f"a hand-written article {slugify(item.title)}.md has this name; "
                                  "it is left alone", item))
            continue
        taken.add(slug)
        changes.append(_change(item, folder / f"{slug}.md", existing.get(slug)))
    return Plan(folder, tuple(changes))


def publish(planned: Plan) -> Plan:
    """Write the plan's added and updated articles: into a temporary folder, then each moved into place.

    A file that became hand-written since the plan was made (no `source:`) is still never replaced.
    """
    folder = planned.folder
    folder.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".import-", dir=folder))
    try:
        writes = [c for c in planned.changes if c.action in ("added", "updated")]
        for change in writes:
            fd = os.open(staging / f"{change.slug}.md", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(change.text)
        for change in writes:
            target = folder / f"{change.slug}.md"
            if target.exists() and not (_front_matter(target) or {}).get("source"):
                continue
            os.replace(staging / f"{change.slug}.md", target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return planned
