"""Read help articles (Markdown with front matter) and cut them into index entries.

An article is split at its `##` headings; a section longer than the size cap is cut at
paragraph, then sentence, boundaries. The phrasings listed under `questions:` in the front matter
become entries of their own that point at the article, so a customer's wording can find it.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.DOTALL)
_MARKUP = re.compile(r"\*\*|__|`")
_BULLET = re.compile(r"^[-*]\s+")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(])")


class ArticleError(ValueError):
    """An article file cannot be read; the message names the file and the problem."""


@dataclass(frozen=True)
class Article:
    slug: str
    title: str
    url: str
    questions: tuple[str, ...]
    body: str

    @property
    def digest(self) -> str:
        """Content hash: the index is rebuilt when any article's digest changes."""
        parts = (self.slug, self.title, self.url, "\n".join(self.questions), self.body)
        return hashlib.sha256("\x00".join(parts).encode()).hexdigest()


@dataclass(frozen=True)
class Chunk:
    """One index entry: a passage of an article, or one of its listed questions."""

    article: str
    title: str
    url: str
    heading: str
    text: str
    kind: str  # "passage" | "question"
    section: str = ""  # the whole section's Markdown, for answers that keep its steps and emphasis
    anchor: str = ""  # the section's fragment id on the article page ("" for the introduction)


def parse_article(slug: str, source: str) -> Article:
    """Parse one article's text; front matter must give a title and a url."""
    match = _FRONT_MATTER.match(source)
    if not match:
        raise ArticleError(f"{slug}: missing front matter (--- title/url ---)")
    try:
        meta = yaml.safe_load(match.group(1)) or {}
    except yaml.YAMLError as error:
        raise ArticleError(f"{slug}: front matter is not valid YAML: {error}") from None
    if not isinstance(meta, dict) or not meta.get("title") or not meta.get("url"):
        raise ArticleError(f"{slug}: front matter needs title and url")
    questions = meta.get("questions") or []
    if not isinstance(questions, list) or not all(isinstance(q, str) for q in questions):
        raise ArticleError(f"{slug}: questions must be a list of strings")
    return Article(slug, str(meta["title"]), str(meta["url"]),
                   tuple(q.strip() for q in questions if q.strip()), source[match.end():].strip())


def load_articles(folder: Path) -> list[Article]:
    """Read every `*.md` article in folder, sorted by file name."""
    paths = sorted(Path(folder).glob("*.md"))
    return [parse_article(p.stem, p.read_text(encoding="utf-8")) for p in paths]


def sections(body: str) -> list[tuple[str, str]]:
    """Split a Markdown body into (heading, text) at `#`/`##` headings; the intro gets ''."""
    found: list[tuple[str, str]] = []
    heading, lines = "", []
    for line in body.splitlines():
        if re.match(r"^#{1,2}\s", line):
            found.append((heading, "\n".join(lines).strip()))
            heading, lines = line.lstrip("#").strip(), []
        else:
            lines.append(line)
    found.append((heading, "\n".join(lines).strip()))
    return [(h, t) for h, t in found if t]


def split_sentences(text: str) -> list[str]:
    """Split prose into sentences and list items, keeping wording but not Markdown markup."""
    pieces = []
    for paragraph in re.split(r"\n\s*\n|\n(?=\s*[-*]\s)|\n(?=\s*\d+\.\s)|\n(?=\S)", text):
        flat = _MARKUP.sub("", " ".join(paragraph.split()))
        flat = _BULLET.sub("", flat)
        pieces.extend(s for s in _SENTENCE_END.split(flat) if s)
    return pieces


def _cap(text: str, limit: int) -> list[str]:
    """Cut text into pieces of at most limit characters at sentence boundaries, one per line."""
    pieces, current = [], ""
    for sentence in split_sentences(text):
        if current and len(current) + 1 + len(sentence) > limit:
            pieces.append(current)
            current = ""
        current = f"{current}\n{sentence}".strip()
    return pieces + ([current] if current else [])


def anchor(heading: str) -> str:
    """The fragment id a heading gets, GitHub-style: "Wi-Fi requirements" -> wi-fi-requirements."""
    return re.sub(r"\s", "-", re.sub(r"[^\w\s-]", "", heading.strip().lower()))


def chunk_article(article: Article, limit: int) -> list[Chunk]:
    """Cut an article into passage entries by heading (size-capped) plus its question entries."""
    chunks = [Chunk(article.slug, article.title, article.url, heading or article.title, piece, "passage",
                    text, anchor(heading) if heading and heading != article.title else "")
              for heading, text in sections(article.body) for piece in _cap(text, limit)]
    chunks += [Chunk(article.slug, article.title, article.url, "", q, "question")
               for q in article.questions]
    return chunks
