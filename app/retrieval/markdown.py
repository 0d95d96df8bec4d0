"""Turn an article section's Markdown into structured blocks and plain text, and cut a long one down.

Parsed by markdown-it-py (CommonMark), never by regular expressions. Blocks carry paragraphs and
lists of spans with emphasis and links; the widget builds them with DOM methods, so no HTML is ever
produced here, and a link survives only if it is http(s) (anything else stays as its text).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from markdown_it import MarkdownIt

_PARSER = MarkdownIt("commonmark")
_SAFE_LINK = re.compile(r"^https?://", re.I)


@dataclass(frozen=True)
class Span:
    text: str
    strong: bool = False
    em: bool = False
    code: bool = False
    href: str | None = None  # http(s) only


@dataclass(frozen=True)
class Block:
    type: str  # "paragraph" | "list"
    spans: tuple[Span, ...] = ()  # a paragraph's text
    items: tuple[tuple[Span, ...], ...] = ()  # a list's items, each its text
    ordered: bool = False


def _spans(inline) -> list[Span]:
    """Flatten one inline token's children into spans, tracking emphasis and links."""
    spans, strong, em, href = [], 0, 0, None
    for token in inline.children or ():
        kind = token.type
        if kind in ("strong_open", "strong_close"):
            strong += 1 if kind == "strong_open" else -1
        elif kind in ("em_open", "em_close"):
            em += 1 if kind == "em_open" else -1
        elif kind == "link_open":
            target = str(token.attrGet("href") or "")
            href = target if _SAFE_LINK.match(target) else None
        elif kind == "link_close":
            href = None
        elif kind in ("text", "code_inline", "softbreak", "hardbreak", "html_inline"):
            text = " " if kind.endswith("break") else token.content
            spans.append(Span(text, strong > 0, em > 0, kind == "code_inline", href))
    return _merge(spans)


def _merge(spans: list[Span]) -> list[Span]:
    """Join neighbouring spans that look the same (markdown-it splits text at every break)."""
    merged: list[Span] = []
    for span in (s for s in spans if s.text):
        if merged and (merged[-1].strong, merged[-1].em, merged[-1].code, merged[-1].href) == \
                (span.strong, span.em, span.code, span.href):
            merged[-1] = Span(merged[-1].text + span.text, span.strong, span.em, span.code, span.href)
        else:
            merged.append(span)
    return merged


def parse(markdown: str) -> tuple[Block, ...]:
    """Parse Markdown into paragraphs and lists (a nested list's text joins its parent item)."""
    blocks: list[Block] = []
    lists: list[tuple[bool, list[list[Span]]]] = []  # open lists: (ordered, items)
    for token in _PARSER.parse(markdown):
        if token.type in ("bullet_list_open", "ordered_list_open"):
            lists.append((token.type == "ordered_list_open", []))
        elif token.type == "list_item_open" and len(lists) == 1:
            lists[-1][1].append([])
        elif token.type in ("bullet_list_close", "ordered_list_close"):
            ordered, items = lists.pop()
            if not lists:
                blocks.append(Block("list", items=tuple(tuple(_merge(i)) for i in items), ordered=ordered))
        elif token.type == "inline" and lists:
            item = lists[0][1][-1]
            item.extend(([Span(" ")] if item else []) + _spans(token))
        elif token.type == "inline":
            blocks.append(Block("paragraph", spans=tuple(_spans(token))))
    return tuple(blocks)


def text_of(spans: tuple[Span, ...]) -> str:
    return " ".join("".join(s.text for s in spans).split())


def _with_addresses(spans: tuple[Span, ...]) -> str:
    """`text_of`, with each link's address right after its text: "Exchanges (https://…)"."""
    return " ".join("".join(s.text + (f" ({s.href})" if s.href else "") for s in spans).split())


def plain(blocks: tuple[Block, ...], addresses: bool = True) -> str:
    """Render blocks as plain text: paragraphs apart, one list item per line ("1." or "-"), each link's
    address in brackets after its text (without them: the text a reader of the widget sees)."""
    render = _with_addresses if addresses else text_of
    parts = []
    for block in blocks:
        if block.type == "paragraph":
            parts.append(render(block.spans))
        else:
            marks = [f"{n}." if block.ordered else "-" for n in range(1, len(block.items) + 1)]
            parts.append("\n".join(f"{mark} {render(item)}" for mark, item in zip(marks, block.items)))
    return "\n\n".join(parts)


Piece = tuple[int, "int | None"]  # (block number, list item number or None for a paragraph)


def pieces(blocks: tuple[Block, ...]) -> list[tuple[Piece, str]]:
    """Number the paragraphs and bullet items a long section can be cut into, with their text.

    A numbered list is one piece: steps are kept together or not at all.
    """
    found: list[tuple[Piece, str]] = []
    for n, block in enumerate(blocks):
        if block.type == "list" and not block.ordered:
            found += [((n, i), text_of(item)) for i, item in enumerate(block.items)]
        else:
            texts = [block.spans] if block.type == "paragraph" else list(block.items)
            found.append(((n, None), " ".join(text_of(t) for t in texts)))
    return found


def relevant_part(blocks: tuple[Block, ...], weight: dict[Piece, float], limit: int) -> tuple[Block, ...]:
    """Keep the most relevant pieces that fit in limit characters, in their original order.

    The best piece is always kept, even if it alone is longer than limit.
    """
    numbered = pieces(blocks)
    order = sorted(range(len(numbered)), key=lambda k: (-weight.get(numbered[k][0], 0.0), k))
    kept: set[Piece] = set()
    used = 0
    for k in order:
        piece, text = numbered[k]
        if not kept or used + len(text) + 1 <= limit:
            kept.add(piece)
            used += len(text) + 1
    out = []
    for n, block in enumerate(blocks):
        if (n, None) in kept:
            out.append(block)
        elif block.type == "list":
            items = tuple(item for i, item in enumerate(block.items) if (n, i) in kept)
            out += [Block("list", items=items, ordered=block.ordered)] if items else []
    return tuple(out)
