"""HTML helpers shared by the extractors: parsing, block-aware text, sanitising.

No Scrapy here: everything takes strings (or bytes) and BeautifulSoup trees.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import urljoin

from bs4 import BeautifulSoup, Comment, NavigableString, Tag
from w3lib.encoding import html_body_declared_encoding, html_to_unicode, http_content_type_encoding

from archiver.normalize.text import clean_text
from archiver.normalize.urls import strip_session

BLOCK_TAGS = frozenset(
    "p div li ul ol h1 h2 h3 h4 h5 h6 blockquote figure figcaption table tr td th section "
    "article header footer aside pre dl dt dd center address hr".split()
)
DROP_TAGS = ("script", "style", "noscript", "iframe", "form", "button", "input", "select",
             "textarea", "object", "embed", "svg", "canvas", "template", "link", "meta")  # fmt: skip
ALLOWED_TAGS = frozenset(
    "p br b strong i em u sub sup a img ul ol li h2 h3 h4 h5 h6 blockquote figure figcaption "
    "table thead tbody tr td th caption span div pre code".split()
)
ALLOWED_ATTRS = {"a": {"href", "title"}, "img": {"src", "alt", "title", "width", "height"},
                 "td": {"colspan", "rowspan"}, "th": {"colspan", "rowspan"}}  # fmt: skip
_UNSAFE_URL = re.compile(r"^\s*(?:javascript|vbscript|data(?!:image/))\s*:", re.I)


_WESTERN = {"latin-1", "latin1", "iso-8859-1", "iso8859-1", "cp1252", "windows-1252", "ascii", "us-ascii", "cp819"}


def safe_urljoin(base_url: str, href: str) -> str | None:
    """``urljoin``, or None for a URL that urllib refuses (a broken IPv6 literal): page text
    never raises."""
    try:
        return urljoin(base_url, href.strip())
    except ValueError:
        return None


def to_unicode(html: str | bytes, content_type: str | None = None) -> str:
    """Decode page bytes by HTTP header, BOM, ``<meta charset>`` (w3lib); a page that declares
    nothing and is not UTF-8 is read as windows-1258, the Vietnamese Windows code page."""
    if isinstance(html, str):
        return html
    declared = http_content_type_encoding(content_type) or html_body_declared_encoding(html)
    if declared and declared.lower().replace("_", "-") in _WESTERN and not html.isascii():
        # Vietnamese cannot be written in a Western code page: a page declared so but valid as
        # UTF-8 is UTF-8 (a wrong declaration, common on old portals).
        try:
            return unicodedata.normalize("NFC", html.decode("utf-8"))
        except UnicodeDecodeError:
            pass
    if declared is None and not html.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")):
        try:
            text = html.decode("utf-8")
        except UnicodeDecodeError:
            text = html.decode("cp1258", errors="replace")
        return unicodedata.normalize("NFC", text)
    _, text = html_to_unicode(content_type, html)
    # windows-1258 and decomposed input: compose once here so every selector sees NFC text.
    return unicodedata.normalize("NFC", text)


def parse(html: str | bytes, content_type: str | None = None) -> BeautifulSoup:
    soup = BeautifulSoup(to_unicode(html, content_type), "lxml")
    for c in soup.find_all(string=lambda s: isinstance(s, Comment)):
        c.extract()
    return soup


def select_all(root: Tag, selector: str | None) -> list[Tag]:
    if not selector:
        return []
    try:
        return list(root.select(selector))
    except Exception:  # a bad selector in a profile is caught by the profile test; never crash here
        return []


def select_one(root: Tag, selector: str | None) -> Tag | None:
    found = select_all(root, selector)
    return found[0] if found else None


def element_text(el: Tag | None) -> str:
    """Text of an element with spaces between its parts, cleaned."""
    if el is None:
        return ""
    return clean_text(el.get_text(" "))


def block_lines(el: Tag) -> list[str]:
    """The text of ``el`` split into paragraphs at block elements and double ``<br>``.

    A single ``<br>`` is a hard line break inside a paragraph and becomes a space.
    """
    parts: list[str] = []

    def walk(node: Tag) -> None:
        for child in node.children:
            if isinstance(child, NavigableString):
                parts.append(str(child))
            elif isinstance(child, Tag):
                name = child.name
                if name in DROP_TAGS:
                    continue
                if name == "br":
                    parts.append("\n")
                    continue
                if name == "img":
                    continue
                block = name in BLOCK_TAGS
                if block:
                    parts.append("\n\n")
                walk(child)
                if block:
                    parts.append("\n\n")

    walk(el)
    text = "".join(parts)
    # Two or more line breaks (with only spaces between) separate paragraphs.
    chunks = re.split(r"\n[ \t\u00a0]*\n", text)
    return [c for c in (clean_text(chunk) for chunk in chunks) if c]


def sanitize(el: Tag, base_url: str) -> str:
    """Cleaned HTML of ``el``: no scripts, styles, iframes, forms or event attributes; only a few
    attributes kept; link and image URLs made absolute."""
    soup = BeautifulSoup(str(el), "lxml")
    root = soup.body or soup
    for tag in root.find_all(DROP_TAGS):
        tag.decompose()
    for tag in list(root.find_all(True)):
        if tag.name not in ALLOWED_TAGS:
            tag.unwrap()
            continue
        allowed = ALLOWED_ATTRS.get(tag.name, set())
        for attr in list(tag.attrs):
            if attr not in allowed:
                del tag[attr]
        for attr in ("href", "src"):
            value = tag.get(attr)
            if isinstance(value, str):
                absolute = None if _UNSAFE_URL.match(value) else safe_urljoin(base_url, value)
                if absolute is None:
                    del tag[attr]  # a script URL, or one urllib cannot parse ("http://[::1")
                else:
                    tag[attr] = absolute
    html = "".join(str(c) for c in root.contents)
    html = re.sub(r"(?:\s*\n\s*)+", "\n", html)
    return clean_html_whitespace(html)


def clean_html_whitespace(html: str) -> str:
    html = unicodedata.normalize("NFC", html).replace("\u00d0", "\u0110")
    return re.sub(r"[ \t]{2,}", " ", html).strip()


def absolute_links(root: Tag, selector: str | None, base_url: str) -> list[str]:
    """Absolute hrefs of the links matched by ``selector`` (or inside the matched elements)."""
    seen: dict[str, None] = {}
    for el in select_all(root, selector):
        anchors = [el] if el.name == "a" else el.find_all("a")
        for a in anchors:
            href = a.get("href")
            if not isinstance(href, str):
                continue
            href = href.strip()
            if not href or href.startswith(("#", "javascript:", "mailto:", "tel:")):
                continue
            absolute = safe_urljoin(base_url, href)
            if absolute is not None:
                seen.setdefault(strip_session(absolute), None)
    return list(seen)
