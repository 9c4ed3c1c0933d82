"""HTML helpers shared by the extractors: parsing, block-aware text, sanitising.

No Scrapy here: everything takes strings (or bytes) and BeautifulSoup trees.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import Any
from urllib.parse import urljoin

import nh3
from bs4 import BeautifulSoup, Comment, NavigableString, PageElement, Tag
from lxml import etree
from w3lib.encoding import html_body_declared_encoding, html_to_unicode, http_content_type_encoding

from archiver.normalize.text import clean_text
from archiver.normalize.urls import strip_session

BLOCK_TAGS = frozenset(
    "p div li ul ol h1 h2 h3 h4 h5 h6 blockquote figure figcaption table tr section "
    "article header footer aside pre dl dt dd center address hr".split()
)
# Table cells: one paragraph per row, the cells joined by " | " (not one paragraph per cell).
CELL_TAGS = frozenset(("td", "th"))
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


def document_base(soup: BeautifulSoup, url: str) -> str:
    """The URL relative links of the page resolve against: its ``<base href>`` when it has one
    (resolved against the page URL), else the page URL."""
    base = soup.find("base", href=True)
    href = base.get("href") if isinstance(base, Tag) else None
    if isinstance(href, str) and href.strip():
        joined = safe_urljoin(url, href)
        if joined and joined.startswith(("http://", "https://")):
            return joined
    return url


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
    # An explicit stack, not recursion: a page with thousands of unclosed inline tags nests that
    # deep, and must still give its text. An entry is a node to visit, or a string to emit.
    stack: list[PageElement | str] = list(reversed(el.contents))
    has_cells = el.find(CELL_TAGS) is not None
    while stack:
        node = stack.pop()
        if isinstance(node, str) and not isinstance(node, NavigableString):
            parts.append(node)  # a paragraph break queued after a block's children
        elif isinstance(node, NavigableString):
            parts.append(str(node))
        elif isinstance(node, Tag):
            name = node.name
            if name in DROP_TAGS or name == "img":
                continue
            if name == "br":
                parts.append("\n")
                continue
            if name in CELL_TAGS:
                prev = node.find_previous_sibling(CELL_TAGS)
                if prev is not None:
                    parts.append(" | ")
                # the cell's own blocks (a <p> in a cell) stay within the row's line
                stack.extend(reversed([c for c in node.contents]))
                continue
            if name in BLOCK_TAGS:
                in_cell = has_cells and node.find_parent(CELL_TAGS) is not None
                if not in_cell:
                    parts.append("\n\n")
                    stack.append("\n\n")
                else:
                    parts.append(" ")
                    stack.append(" ")
            stack.extend(reversed(node.contents))
    text = "".join(parts)
    # Two or more line breaks (with only spaces between) separate paragraphs.
    chunks = re.split(r"\n[ \t\u00a0]*\n", text)
    return [c for c in (clean_text(chunk) for chunk in chunks) if c]


# URL schemes a stored link or image may use; anything else (javascript:, vbscript:, data:, and
# the obfuscated forms "jav&#x09;ascript:", "&#x01;javascript:") is removed by the sanitiser.
URL_SCHEMES = {"http", "https", "mailto"}


_CAPTION_CLASS = re.compile(r"caption|chu-?thich|chuthich|image-desc|img-desc|photo-desc", re.I)
_PHOTO_CREDIT = re.compile(r"^\(?\s*ảnh\s*:", re.I)


def _is_emphasis_only(el: Tag) -> bool:
    """All of the element's text is inside <em> / <i> (how editors type a caption)."""
    text = el.get_text(" ", strip=True)
    if not text:
        return False
    inner = " ".join(e.get_text(" ", strip=True) for e in el.find_all(("em", "i"), recursive=True)
                     if not e.find_parent(("em", "i")) or e.find_parent(("em", "i")) is el)  # fmt: skip
    return bool(inner) and len(inner) >= 0.9 * len(text)


def caption_elements(root: Tag) -> list[Tag]:
    """Image captions inside a body: ``<figcaption>``, elements with a caption class, and an
    emphasised line (or a photo credit) right after an image. Kept in the body's HTML, apart
    from its text."""
    found: list[Tag] = list(root.find_all("figcaption"))
    for el in root.find_all(True):
        classes = " ".join(el.get("class") or [])
        if classes and _CAPTION_CLASS.search(classes) and el not in found:
            found.append(el)
    for img in root.find_all("img"):
        holder = img
        while holder.parent is not None and holder.parent is not root and not holder.get_text(strip=True):
            holder = holder.parent
        nxt = holder.find_next_sibling()
        if isinstance(nxt, Tag) and nxt not in found and len(nxt.get_text(strip=True)) <= 300:
            if _is_emphasis_only(nxt) or _PHOTO_CREDIT.match(nxt.get_text(" ", strip=True)):
                found.append(nxt)
    return found


def text_lines_without_captions(body: Tag) -> list[str]:
    """The body's paragraphs (``block_lines``) with its image captions left out."""
    import copy

    if not caption_elements(body):
        return block_lines(body)  # nothing to leave out: no copy (a copy is quadratic in bs4 on deep trees)
    clone = copy.copy(body)
    for cap in caption_elements(clone):
        cap.decompose()
    return block_lines(clone)


def sanitize(el: Tag, base_url: str) -> str:
    """Cleaned HTML of ``el``, safe to render: an allow-list of tags and attributes enforced by
    ammonia (through ``nh3``), the HTML5 parser browsers use, so that obfuscated script URLs and
    event handlers cannot survive; link and image URLs made absolute against the page."""
    soup = BeautifulSoup(str(el), "lxml")
    root = soup.body or soup
    for tag in root.find_all(DROP_TAGS):
        tag.decompose()
    for tag in root.find_all(True):
        for attr in ("href", "src"):
            value = tag.get(attr)
            if isinstance(value, str):
                absolute = None if _UNSAFE_URL.match(value) else safe_urljoin(base_url, value)
                if absolute is None:
                    del tag[attr]  # a script URL, or one urllib cannot parse ("http://[::1")
                else:
                    tag[attr] = absolute
    html = "".join(str(c) for c in root.contents)
    html = nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        attributes={k: set(v) for k, v in ALLOWED_ATTRS.items()},
        url_schemes=URL_SCHEMES,
        clean_content_tags=set(DROP_TAGS) - {"link", "meta", "input", "button", "select", "textarea", "form"},
        strip_comments=True,
        link_rel="noopener noreferrer nofollow",
    )
    html = re.sub(r"(?:\s*\n\s*)+", "\n", html)
    return clean_html_whitespace(html)


def clean_html_whitespace(html: str) -> str:
    html = unicodedata.normalize("NFC", html).replace("\u00d0", "\u0110")
    return re.sub(r"[ \t]{2,}", " ", html).strip()


def absolute_links(root: Tag, selector: str | None, base_url: str) -> list[str]:
    """Absolute hrefs of the links matched by ``selector`` (or inside the matched elements)."""
    hrefs = (a.get("href") for el in select_all(root, selector) for a in ([el] if el.name == "a" else el.find_all("a")))
    return absolute_hrefs(hrefs, base_url)


def absolute_hrefs(hrefs: Iterable[Any], base_url: str) -> list[str]:
    """The links' targets, absolute, session parameters dropped, once each, in page order; no
    fragments, scripts, mail or phone links."""
    seen: dict[str, None] = {}
    for href in hrefs:
        if not isinstance(href, str):
            continue
        href = href.strip()
        if not href or href.startswith(("#", "javascript:", "mailto:", "tel:")):
            continue
        absolute = safe_urljoin(base_url, href)
        if absolute is not None:
            seen.setdefault(strip_session(absolute), None)
    return list(seen)


# -- the fast path: one lxml tree, CSS compiled to XPath once (cssselect, Scrapy's own) -----------
_XPATHS: dict[str, Any] = {}


def compiled_css(selector: str) -> Any:
    """``selector`` as a compiled XPath (cached), or None when cssselect cannot express it (the
    caller then selects with soupsieve over BeautifulSoup, as before)."""
    if selector not in _XPATHS:
        from cssselect import HTMLTranslator

        try:
            _XPATHS[selector] = etree.XPath(HTMLTranslator().css_to_xpath(selector))
        except Exception:  # noqa: BLE001 - cssselect's SelectorError and ExpressionError, and odd input
            _XPATHS[selector] = None
    return _XPATHS[selector]


def lxml_tree(text: str) -> Any:
    """The page as an lxml tree (comments dropped, as ``parse`` drops them), or None."""
    import lxml.html

    parser = lxml.html.HTMLParser(encoding="utf-8", remove_comments=True, huge_tree=True)
    try:
        return lxml.html.document_fromstring(text.encode("utf-8", "surrogatepass"), parser=parser)
    except (etree.ParserError, ValueError, UnicodeEncodeError):
        return None


def lxml_select(root: Any, selector: str | None) -> list[Any] | None:
    """The elements ``selector`` matches, in document order; None when it cannot be compiled."""
    if not selector:
        return []
    xp = compiled_css(selector)
    if xp is None:
        return None
    return [el for el in xp(root) if isinstance(el.tag, str)]


def lxml_text(el: Any) -> str:
    """``element_text`` of an lxml element: its strings joined by spaces, cleaned (scripts and
    styles left out, as BeautifulSoup's ``get_text`` leaves them out)."""
    if el is None:
        return ""
    parts = []
    for node in el.iter():
        if not isinstance(node.tag, str):
            continue
        if node.tag not in ("script", "style", "template") and node.text:
            parts.append(node.text)
        if node is not el and node.tail and not _inside_dropped(node, el):
            parts.append(node.tail)
    return clean_text(" ".join(parts))


def _inside_dropped(node: Any, top: Any) -> bool:
    parent = node.getparent()
    while parent is not None and parent is not top:
        if parent.tag in ("script", "style", "template"):
            return True
        parent = parent.getparent()
    return False


def lxml_base(root: Any, url: str) -> str:
    """``document_base`` of an lxml tree."""
    hrefs = root.xpath("//base/@href")
    if hrefs and hrefs[0].strip():
        joined = safe_urljoin(url, hrefs[0])
        if joined and joined.startswith(("http://", "https://")):
            return joined
    return url


def lxml_fragment(el: Any) -> Tag | None:
    """An lxml element as a BeautifulSoup tree of its own (the body goes through the same
    BeautifulSoup code as before, on a few KB instead of the whole page)."""
    import lxml.html

    markup = lxml.html.tostring(el, encoding="unicode", with_tail=False)
    soup = BeautifulSoup(markup, "lxml")
    for c in soup.find_all(string=lambda s: isinstance(s, Comment)):
        c.extract()
    holder = soup.body or soup
    return next((c for c in holder.children if isinstance(c, Tag)), None)
