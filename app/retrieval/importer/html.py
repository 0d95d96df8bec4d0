"""Turn an HTML help page (or an export's HTML body) into a title and a Markdown body.

The hard parts are libraries: BeautifulSoup (lxml parser) reads real-world HTML; readability-lxml finds
the article in a page that does not mark it up as <main>/<article>; markdownify writes the Markdown,
keeping lists, links and emphasis. What is left here is choosing what to drop (scripts, styles,
navigation, headers and footers, forms, permalink icons) and shaping headings into `##` sections.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urljoin

from bs4 import BeautifulSoup, Tag
from markdownify import markdownify
from readability import Document as Readable

from app.retrieval.importer.sections import shape

_DROP_TAGS = ("script", "style", "noscript", "template", "nav", "header", "footer", "aside", "form",
              "iframe", "button", "svg", "canvas", "object", "embed", "input", "select", "textarea",
              "link", "meta", "img", "picture", "video", "audio")
_DROP_SELECTORS = ('[role="navigation"]', '[role="search"]', '[role="banner"]', '[role="contentinfo"]',
                   '[aria-hidden="true"]', "[hidden]", "a.headerlink", ".breadcrumb", ".breadcrumbs")
_MAIN_SELECTORS = ('[itemprop="articleBody"]', "article", "main", '[role="main"]')
_TITLE_SEPARATORS = re.compile(r"\s+[—–|·-]\s+")
_SAFE_LINK = re.compile(r"^(https?:|mailto:)", re.I)


@dataclass(frozen=True)
class Page:
    title: str
    url: str
    body: str
    updated: str


def _meta(soup: BeautifulSoup, *names: str) -> str:
    for name in names:
        tag = soup.find("meta", attrs={"property": name}) or soup.find("meta", attrs={"name": name})
        if isinstance(tag, Tag) and str(tag.get("content", "")).strip():
            return str(tag["content"]).strip()
    return ""


def _canonical(soup: BeautifulSoup) -> str:
    link = soup.find("link", rel="canonical")
    href = str(link.get("href", "")).strip() if isinstance(link, Tag) else ""
    return href or _meta(soup, "og:url")


def _page_title(soup: BeautifulSoup) -> str:
    title = _meta(soup, "og:title") or (soup.title.get_text(" ", strip=True) if soup.title else "")
    return _TITLE_SEPARATORS.split(title)[0].strip() if title else ""


def _main(soup: BeautifulSoup) -> Tag:
    for selector in _MAIN_SELECTORS:
        found = soup.select_one(selector)
        if found is not None and found.get_text(strip=True):
            return found
    # No element says where the article is: let readability score the page's blocks.
    summary = Readable(str(soup)).summary(html_partial=True)
    return BeautifulSoup(summary, "lxml").body or BeautifulSoup(summary, "lxml")


def _clean(main: Tag, base: str) -> None:
    for tag in main.find_all(_DROP_TAGS):
        tag.decompose()
    for selector in _DROP_SELECTORS:
        for tag in main.select(selector):
            tag.decompose()
    for link in main.find_all("a"):
        href = str(link.get("href", "")).strip()
        href = urljoin(base, href) if base.startswith("http") else href
        if href and _SAFE_LINK.match(str(href)):
            link.attrs = {"href": href}
        else:
            link.unwrap()  # in-page anchors, javascript: and relative links lead nowhere from a chat answer


def _markdown(main: Tag) -> str:
    return markdownify(str(main), heading_style="ATX", bullets="-", escape_underscores=False,
                       escape_asterisks=False, strip=["span"])


def convert_page(html: str, fallback_title: str, fallback_url: str) -> Page:
    """Convert a whole page: main content only, title from its first <h1> or <title>."""
    soup = BeautifulSoup(html, "lxml")
    url = _canonical(soup) or fallback_url
    updated = _meta(soup, "article:modified_time", "last-modified", "dateModified")
    page_title = _page_title(soup)
    main = _main(soup)
    heading = main.find("h1")
    title = heading.get_text(" ", strip=True) if isinstance(heading, Tag) else ""
    _clean(main, url)
    title = title or page_title or fallback_title
    return Page(title, url, shape(_markdown(main), title), updated)


def convert_fragment(html: str, title: str, url: str) -> Page:
    """Convert an article body (an export's `body` field): already the content, so nothing is extracted."""
    soup = BeautifulSoup(f"<div>{html}</div>", "lxml")
    main = soup.div or soup
    _clean(main, url)
    return Page(title, url, shape(_markdown(main), title), "")
