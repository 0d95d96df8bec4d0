"""Knowledge gaps: what visitors asked that the bot could not answer well, grouped by meaning.

Questions come from stored transcripts (so only scrubbed text, only with consent): those the bot
answered with "I don't know" and those whose answer got a thumbs down. Similar questions are grouped
by the sentence vectors the chat computed when it answered them (stored with each message, so the
page does not re-encode hundreds of questions); the most frequent gap comes first, since that
article is the one most worth writing.

Closing the loop (admins): a group's phrasings are added to an article's `questions:` front matter
(the file is replaced atomically, its body kept byte for byte, then the index is rebuilt), or the
group is dismissed: it stays hidden until a question that was not dismissed joins it. Both audited.
"""
from __future__ import annotations

import hashlib
import os
import re
import stat
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import numpy as np
import yaml
from flask import current_app

from app.admin import audit, dismissals, knowledge
from app.admin.accounts import User
from app.chat import transcripts
from app.chat.intents import small_talk
from app.db import get_db
from app.retrieval.articles import ArticleError, parse_article
from app.retrieval.grouping import group_similar

RECENT = 500  # questions considered; grouping is quadratic in this
PHRASINGS = 20  # distinct wordings offered per group
PLACEHOLDER = re.compile(r"<[A-Z][A-Z0-9_]*>")  # what the scrubber left in place of personal data
_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.DOTALL)  # as app.retrieval.articles reads it
_rewriting = threading.Lock()  # one rewrite at a time in this process; the digest check covers the rest


@dataclass(frozen=True)
class Phrasing:
    message_id: str  # one visitor message with this wording
    text: str
    addable: bool  # False if it holds a placeholder such as <PERSON_1>


@dataclass(frozen=True)
class Gap:
    question: str  # the most typical wording in the group
    count: int
    unanswered: int
    thumbs_down: int
    last_asked: str
    examples: tuple[transcripts.GapQuestion, ...]
    members: tuple[str, ...] = ()  # every question's message id
    phrasings: tuple[Phrasing, ...] = ()  # distinct wordings, most frequent first
    dismissed: bool = False  # every question in it was dismissed


@dataclass(frozen=True)
class ArticleChoice:
    slug: str
    title: str
    digest: str  # SHA-256 of the file as the page showed it


@dataclass(frozen=True)
class Added:
    title: str
    added: int
    skipped: int  # already listed, or holding a placeholder
    rebuilding: bool


class NotChanged(Exception):
    """Nothing was written or recorded; the message says why, for the console to show."""


def _vectors(questions: list[transcripts.GapQuestion]) -> np.ndarray:
    """Return each question's stored sentence vector, encoding only those stored without one."""
    embedder = current_app.extensions["embedder"]
    missing = [i for i, q in enumerate(questions) if q.vector is None]
    encoded = embedder.encode([questions[i].text for i in missing])
    vectors = np.zeros((len(questions), embedder.dimension), dtype=np.float32)
    for i, q in enumerate(questions):
        if q.vector is not None:
            vectors[i] = np.frombuffer(q.vector, dtype=np.float32)
    vectors[missing] = encoded
    return vectors


def _key(text: str) -> str:
    return " ".join(text.split()).casefold()


def _phrasings(members: list[transcripts.GapQuestion]) -> tuple[Phrasing, ...]:
    counts: dict[str, list] = {}
    for m in members:
        counts.setdefault(_key(m.text), [0, m])[0] += 1
    ranked = sorted(counts.values(), key=lambda pair: -pair[0])[:PHRASINGS]
    return tuple(Phrasing(m.message_id, m.text, not PLACEHOLDER.search(m.text)) for _, m in ranked)


def _gap_questions(db) -> list[transcripts.GapQuestion]:
    """The recent gap questions, less small talk ("thanks!", "ok bye") that a version before the chat
    had a reply of its own for answered "I don't know": it is no question the articles lack."""
    return [q for q in transcripts.gap_questions(db, RECENT) if not small_talk(q.text)]


def knowledge_gaps(user: User, include_dismissed: bool = False) -> list[Gap]:
    """Return the recent gaps, most frequent first, and audit the view (it shows visitor text)."""
    db = get_db()
    questions = _gap_questions(db)
    audit.record(db, f"user:{user.id}", "view_knowledge_gaps", f"questions:{len(questions)}")
    hidden = dismissals.dismissed(db, (q.message_id for q in questions))
    gaps = []
    for rows in group_similar(_vectors(questions)):
        members = [questions[r] for r in rows]
        gap = Gap(members[0].text, len(members), sum(m.unanswered for m in members),
                  sum(m.thumbs_down for m in members), max(m.asked_at for m in members),
                  tuple(sorted(members, key=lambda m: m.asked_at, reverse=True)[:5]),
                  tuple(m.message_id for m in members), _phrasings(members),
                  all(m.message_id in hidden for m in members))
        if include_dismissed or not gap.dismissed:
            gaps.append(gap)
    return gaps


def _listed(db, message_ids: Iterable[str]) -> list[transcripts.GapQuestion]:
    """Return the chosen questions that are still listed as gaps (erased ones are gone)."""
    by_id = {q.message_id: q for q in _gap_questions(db)}
    return [by_id[m] for m in dict.fromkeys(message_ids) if m in by_id]


def dismiss(user: User, message_ids: Iterable[str]) -> int:
    """Hide the group made of these questions until a new one joins it; audit it; return how many."""
    db = get_db()
    chosen = [q.message_id for q in _listed(db, message_ids)]
    if not chosen:
        raise NotChanged("Those questions are no longer stored (erased or past retention); nothing to "
                         "dismiss.")
    dismissals.dismiss(db, chosen, user.id)
    audit.record(db, f"user:{user.id}", "dismiss_knowledge_gap", f"questions:{len(chosen)}")
    return len(chosen)


def _folder() -> Path:
    return Path(current_app.config["KNOWLEDGE_DIR"])


def article_choices() -> list[ArticleChoice]:
    """Return the articles a phrasing can be added to, with each file's digest as read now."""
    choices = []
    for path in sorted(_folder().glob("*.md")):
        try:
            raw = path.read_bytes()
            choices.append(ArticleChoice(path.stem, parse_article(path.stem, raw.decode("utf-8")).title,
                                         hashlib.sha256(raw).hexdigest()))
        except (OSError, UnicodeDecodeError, ArticleError):
            continue  # the knowledge page says what is wrong with it; it cannot take questions now
    return choices


class _IndentedLists(yaml.SafeDumper):
    """Dump lists indented under their key, as the hand-written articles have them."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        return super().increase_indent(flow, False)


def _with_questions(slug: str, text: str, phrasings: list[str]) -> tuple[str, str, int]:
    """Return the article's title, its text with the new phrasings listed, and how many were new.

    Only the YAML between the `---` lines is rewritten; every byte after it stays as it was.
    """
    try:
        article = parse_article(slug, text)
    except ArticleError as error:
        raise NotChanged(f"The article cannot be read ({error}); fix the file first.") from None
    known, new = {_key(q) for q in article.questions}, []
    for phrasing in phrasings:
        if _key(phrasing) not in known:
            known.add(_key(phrasing))
            new.append(" ".join(phrasing.split()))
    if not new:
        return article.title, text, 0
    match = _FRONT_MATTER.match(text)
    meta = yaml.safe_load(match.group(1))
    meta["questions"] = [*(meta.get("questions") or []), *new]
    front = yaml.dump(meta, Dumper=_IndentedLists, sort_keys=False, allow_unicode=True, width=10**6)
    updated = text[:match.start(1)] + front.rstrip("\n") + text[match.end(1):]
    check = parse_article(slug, updated)
    if (check.title, check.url, check.body, check.questions) != (article.title, article.url, article.body,
                                                                 article.questions + tuple(new)):
        raise NotChanged("The article's front matter could not be rewritten safely; nothing was written. "
                         "Add the questions by hand.")
    return article.title, updated, len(new)


def _replace(path: Path, digest: str, data: bytes) -> None:
    """Write data beside path, then move it over path, unless path no longer has this digest."""
    handle, temporary = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, stat.S_IMODE(path.stat().st_mode))
        if hashlib.sha256(path.read_bytes()).hexdigest() != digest:  # changed while we worked
            raise NotChanged("The article file changed while the questions were being added; nothing was "
                             "written. Reload the page and try again.")
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def _rewrite(path: Path, digest: str, phrasings: list[str]) -> tuple[str, int]:
    """List the phrasings in the article unless it changed; return its title and how many were new."""
    with _rewriting:
        try:
            raw = path.read_bytes()
            if hashlib.sha256(raw).hexdigest() != digest:
                raise NotChanged("The article file changed since this page was shown, so nothing was "
                                 "written. Reload the page and choose again.")
            title, updated, added = _with_questions(path.stem, raw.decode("utf-8"), phrasings)
            if added:
                _replace(path, digest, updated.encode("utf-8"))
        except (OSError, UnicodeDecodeError) as error:
            raise NotChanged(f"The article file cannot be read or written ({error}); nothing was "
                             "changed.") from None
    return title, added


def add_phrasings(user: User, slug: str, digest: str, message_ids: Iterable[str]) -> Added:
    """Add the chosen questions' wordings to the article's `questions:`, audit it, start a rebuild.

    Refused (NotChanged) if the file changed since the page showed it (its digest differs); wordings
    with a placeholder are never added, since a question naming <PERSON_1> helps nobody.
    """
    db = get_db()
    chosen = list({_key(q.text): q.text for q in _listed(db, message_ids)}.values())
    addable = [text for text in chosen if not PLACEHOLDER.search(text)]
    if not chosen:
        raise NotChanged("Choose at least one phrasing to add.")
    if not addable:
        raise NotChanged("The phrasings you chose hold a placeholder such as <PERSON_1> (personal data was "
                         "masked there), so they cannot become article questions.")
    path = {p.stem: p for p in _folder().glob("*.md")}.get(slug) if slug else None
    if path is None:
        raise NotChanged("That article is no longer in the knowledge folder; reload the page and try again."
                         if slug else "Choose the article the phrasings belong to.")
    title, added = _rewrite(path, digest, addable)
    if added:
        audit.record(db, f"user:{user.id}", "add_gap_questions", f"article:{slug}", f"questions:{added}")
    return Added(title, added, len(chosen) - added, added > 0 and knowledge.rebuild(user) is not None)
