"""Find it on any page: the generic extractor, for pages no profile describes (and for the fields
a profile leaves empty). lxml on the hot path; trafilatura for the body; htmldate for the day.

* **title** by agreement of ``<h1>``, ``og:title`` / ``twitter:title``, ``<title>`` minus the site
  name, and the breadcrumb; a portlet caption (``Chi tiết tin tức``) never wins;
* **body** by trafilatura (fast, recall-oriented, comments excluded) and a layer of ours over its
  lines: the title and headings repeated, lines that are a link's whole text (related lists,
  navigation), bare URLs, and boilerplate lines in Vietnamese and the languages news sites use
  (share, print, newsletter, comments, related, copyright) are dropped;
* **publication date** from a labelled date line next to the title (``Ngày đăng: …``,
  ``[ Cập nhật vào ngày (…) ]``); then, on Vietnamese pages, JSON-LD and meta tags, a bare date
  under the title and the URL; on other pages htmldate's original date (with its time when a tag
  prints the same day); never the header's "today" widget, a date in the body or a related list;
* **views** by label in the article's meta area next to the title (never a site-wide counter);
* **byline and source** from the body's last (and first) lines, an author field or meta tag.

``generic(text, url, now)`` returns the fields and, for each, the rule that produced it
(``archiver extract`` prints them).
"""

from __future__ import annotations

import html as htmllib
import json
import logging
import re
import warnings
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import trafilatura
from htmldate import find_date as htmldate_find
from lxml import etree
from lxml import html as lxml_html
from trafilatura.utils import load_html

from archiver.normalize import clean_text, parse_datetime, parse_views

log = logging.getLogger(__name__)

_TOKEN = re.compile(r"\w+")
# Lines that are page furniture in the languages of news sites (Vietnamese first).
_BOILERPLATE = re.compile(
    r"(?i)^(?:[-–•*]\s*)?(?:"
    # Vietnamese
    r"chia sẻ|in bài|in trang|gửi email|gửi bài|lưu bài|bản in|cỡ chữ|mặc định cỡ chữ|quay lại|về đầu trang|"
    r"lên đầu trang|xem thêm|tin liên quan|bài viết liên quan|tin cùng chuyên mục|các tin khác|tin khác|"
    r"các tin đã đưa|ý kiến bạn đọc|các ý kiến của bạn đọc|gửi ý kiến|bình luận|đánh giá bài viết|"
    r"số lượt xem|lượt xem|từ khóa|tags?\s*:|chuyên mục|tải về|tải văn bản|trang chủ$|liên hệ$|sơ đồ (?:trang|site)$|"
    r"cơ quan chủ quản|(?:tổng )?(?:số )?lượt truy cập|đang (?:truy cập|online)|bản quyền thuộc|"
    r"chịu trách nhiệm (?:chính|nội dung)|giấy phép (?:số|thiết lập)|ghi rõ nguồn|"
    r"(?:thứ (?:hai|ba|tư|năm|sáu|bảy)|chủ nhật),? (?:ngày )?\d{1,2}/\d{1,2}/\d{4}(?:\s+\S+){0,3}$|"
    # English and others
    r"related(?: posts?| stories| articles| content)?\s*:|read more\b|see more\b|see also\b|also on\b|also:|more:|"
    r"you may also like|don'?t miss|popular on|sign up\b|subscribe\b|click here|thanks for signing up|"
    r"advertisement$|\d*\s*comments?$|follow (?:us|the|her|him)\b|share (?:this|it)\b|like this story|"
    r"tempo de leitura|leia também|copyright\b|©|ⓒ|sorry!$|there was an error|get the latest|newsletter|"
    r"our standards|filed under|tell us what|source:|have a tip|post comment|print(?: article| this)?$|"
    r"order reprints?|reprints?$|text size$|write to .{1,60} at \S+@\S+$|an error has occurred|thank you[.!]?$|"
    r"this (?:article|story) has been sent|this copy is for your personal|updated(?: at| on)? \d|"
    r"categor(?:ias|ies|y)$|share(?: on| this)?$|email$|facebook$|twitter$|zalo$|home$|menu$)"
)
# A body the generic extractor finds must have at least this many words.
MIN_WORDS = 5
_URL_LINE = re.compile(r"^\s*(?:https?://|www\.)\S+\s*$")
# Headings after which a Vietnamese portal's page holds related lists, never the body.
_STOP_LINE = re.compile(r"(?i)^(?:tin cùng chuyên mục|các tin khác|tin khác|tin liên quan|bài viết liên quan|"
                        r"các tin đã đưa|thông báo khác|bài viết khác|tin bài khác|tin đã đưa|xem thêm tin|"
                        r"các bài viết khác|ý kiến bạn đọc|các ý kiến của bạn đọc)\s*:?$")  # fmt: skip
# A related item: a link's text and its date.
_TRAILING_DATE = re.compile(r"\s*[-–(\[]?\s*\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}(?:\s+\d{1,2}:\d{2})?\s*[)\]]?\s*$")
_TITLE_SPLIT = re.compile(r"\s+[-|–—:»·]{1,2}\s+")
# <h1> texts that caption a portlet or a section, never an article's title.
_CAPTIONS = {
    "chi tiết tin tức", "chi tiết tin", "chi tiết", "tin tức", "tin tức - sự kiện", "tin tức sự kiện", "tin bài",
    "nội dung", "bài viết", "tin tức chi tiết", "thông tin chi tiết", "tin mới", "tin nổi bật", "trang chủ",
}  # fmt: skip
# Vietnamese labels of a publication date (other languages' are htmldate's business).
_DATE_LABEL = re.compile(
    r"(?i)(?:ngày\s+đăng|đăng\s+ngày|đăng\s+lúc|cập\s+nhật|ngày\s+cập\s+nhật|gửi\s+lúc|ngày\s+gửi|ngày\s+xuất\s+bản|"
    r"thời\s+gian\s+đăng|ngày\s+ban\s+hành)"
)
# A date written with numbers: only such lines are handed to the date parser unlabelled.
_NUMERIC_DATE = re.compile(r"\b\d{1,4}\s*[/.\-]\s*\d{1,2}\s*[/.\-]\s*\d{2,4}\b")
_TODAY = re.compile(r"(?i)hôm\s+nay|today")
_VIEW_LABEL = re.compile(r"(?i)lượt\s+xem|số\s+lần\s+xem|lần\s+xem|đã\s+xem|lượt\s+đọc|views?\b")
_SKIP_TAGS = {"script", "style", "noscript", "template", "svg", "head", "select", "option", "button", "form"}
_META_DATES = ("article:published_time", "og:published_time", "datepublished", "pubdate", "publishdate",
               "publish_date", "dc.date.issued", "dcterms.issued", "sailthru.date", "parsely-pub-date")  # fmt: skip


@dataclass
class Generic:
    """What the generic extractor found, and the rule behind each field."""

    title: str | None = None
    published: datetime | date | None = None
    published_raw: str | None = None
    views: int | None = None
    views_raw: str | None = None
    author: str | None = None
    lines: list[str] = field(default_factory=list)
    rules: dict[str, str] = field(default_factory=dict)


def norm(text: str | None) -> str:
    return " ".join(_TOKEN.findall((text or "").lower()))


def parse_tree(text: str) -> Any:
    """An lxml tree of the page, parsed once the way trafilatura parses (comments and processing
    instructions dropped), so that the same tree serves every step; None for a page lxml cannot
    parse."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = load_html(text)
        if tree is not None:
            return tree
    except Exception:  # noqa: BLE001 - fall back to lxml's own parse
        pass
    try:
        return lxml_html.document_fromstring(text)
    except (etree.ParserError, ValueError):
        return None


def _meta(tree: Any) -> dict[str, str]:
    found: dict[str, str] = {}
    for m in tree.iter("meta"):
        key = (m.get("property") or m.get("name") or m.get("itemprop") or "").strip().lower()
        value = m.get("content")
        if key and value and key not in found:
            found[key] = value.strip()
    return found


def _jsonld(tree: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for s in tree.xpath('//script[@type="application/ld+json"]'):
        try:
            data = json.loads(s.text or "")
        except ValueError:
            continue
        stack = [data]
        while stack:
            d = stack.pop()
            if isinstance(d, list):
                stack.extend(d)
            elif isinstance(d, dict):
                out.append(d)
                stack.extend(v for k, v in d.items() if k in ("@graph", "mainEntity", "itemListElement") and v)
    return out


# -- title -------------------------------------------------------------------------------------
def find_title(tree: Any, meta: dict[str, str]) -> tuple[str | None, Any, str]:
    """(title, its element or None, rule)."""
    h1s = [(el, clean_text(el.text_content())) for el in tree.iter("h1")]
    h1s = [(el, t) for el, t in h1s if t and t.lower() not in _CAPTIONS and len(t) < 400]
    og = clean_text(meta.get("og:title") or meta.get("twitter:title") or "")
    title_el = tree.find(".//title")
    page_title = clean_text(title_el.text_content()) if title_el is not None else ""
    site = norm(meta.get("og:site_name"))
    parts = [p for p in _TITLE_SPLIT.split(page_title) if p.strip()] if page_title else []
    parts = [p for p in parts if norm(p) != site] or parts
    refs = [norm(x) for x in (og, *parts) if x]
    for el, text in h1s:  # an <h1> the other sources agree with
        n = norm(text)
        if any(n and (n == r or (len(n) > 15 and (n in r or r in n))) for r in refs if r):
            return text, el, "<h1> agreeing with og:title / <title>"
    # Parts of <title> printed in the page's header (the site's name in its banner) are no title.
    wanted = set(refs)
    chrome_texts = {n for el in tree.iter("h1", "h2", "h3", "div", "span", "a", "p") if len(el) < 3
                    and (n := norm(clean_text(el.text_content()))) in wanted and _in_banner(el)}  # fmt: skip
    refs = [r for r in refs if r not in chrome_texts] or refs
    for tag in ("h2", "h3"):  # a heading the title tags agree with (portals without <h1>)
        for el in tree.iter(tag):
            text = clean_text(el.text_content())
            n = norm(text)
            if n and len(n) > 15 and not _in_banner(el) and any(n == r or n in r for r in refs if r):
                return text, el, f"<{tag}> agreeing with og:title / <title>"
    if og and norm(og) != site:
        return og, None, "og:title"
    if h1s:
        return h1s[0][1], h1s[0][0], "first <h1>"
    parts = [p for p in parts if norm(p) not in chrome_texts] or parts
    if parts:
        # The part printed as an element's whole text in the page (a title cell), else the longest.
        for el in tree.iter("td", "div", "span", "p", "b", "strong", "font"):
            if len(el) > 2:
                continue
            n = norm(clean_text(el.text_content()))
            for p in parts:
                if n and len(n) > 15 and n == norm(p) and not _in_banner(el):
                    return p, el, "<title> part printed in the page"
        best = max(parts, key=len)
        return best, None, "<title> minus the site name"
    return None, None, "none"


_BANNER = re.compile(r"(?:^|[\s_-])(?:header|banner|logo|top|brand|site-?name|masthead|nav|menu)(?:$|[\s_-])", re.I)


def _in_banner(el: Any) -> bool:
    """Inside the page's header, banner or menus (``<header>``, ``#header``, ``.banner``, …)."""
    node = el
    while node is not None and isinstance(node.tag, str):
        if node.tag in ("header", "nav"):
            return True
        if _BANNER.search(f"{node.get('id') or ''} {node.get('class') or ''}"):
            return True
        node = node.getparent()
    return False


# -- dates -------------------------------------------------------------------------------------
def _structured_dates(tree: Any, meta: dict[str, str]) -> list[tuple[str, str]]:
    """(raw string, where) of datePublished in JSON-LD and of the meta tags, in that order."""
    out = []
    for d in _jsonld(tree):
        value = d.get("datePublished")
        if isinstance(value, str):
            out.append((value, "JSON-LD datePublished"))
    for key in _META_DATES:
        if meta.get(key):
            out.append((meta[key], f"meta {key}"))
    for t in tree.iter("time"):
        if t.get("datetime"):
            out.append((t.get("datetime"), "<time datetime>"))
            break
    return out


_FOLLOWING = etree.XPath(
    "following::text()[normalize-space()][not(ancestor::script or ancestor::style or ancestor::noscript)]"
    "[position() <= $n]"
)
_PRECEDING = etree.XPath(
    "preceding::text()[normalize-space()][not(ancestor::script or ancestor::style or ancestor::noscript)]"
    "[position() <= $n]"
)


def _near_title(title_el: Any, before: int = 6, after: int = 40) -> tuple[list[str], list[str]]:
    """Text nodes just below and just above the title (XPath, so that the rest of the page is
    never walked): (below, above), each nearest first."""
    if title_el is None:
        return [], []
    try:
        below = [str(t).strip() for t in _FOLLOWING(title_el, n=after)]
        above = [str(t).strip() for t in _PRECEDING(title_el, n=before)]
    except etree.XPathError:
        return [], []
    # following:: excludes the title's own text; preceding:: comes nearest first.
    return [t for t in below if t], [t for t in above if t]


_VI_LETTERS = set("ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹĂÂĐÊÔƠƯ")
# A label opens the line: "Ngày đăng: …", "[ Cập nhật vào ngày (…) ]" (not "… đăng ngày …" inside
# the title of a related article).
_LABEL_AT_START = 4


def is_vietnamese(tree: Any, title: str | None) -> bool:
    """A Vietnamese page: declared ``lang="vi"``, or a title with Vietnamese letters."""
    lang = (tree.get("lang") or tree.get("xml:lang") or "").lower()
    if lang.startswith("vi"):
        return True
    return sum(ch in _VI_LETTERS for ch in title or "") >= 2


def _meta_area(below: list[str]) -> list[str]:
    """The article's meta area: the short lines below the title, up to its first paragraph."""
    out = []
    for t in below:
        if len(t) > 80:
            break
        out.append(t)
    return out


def find_date(tree: Any, text: str, url: str, title_el: Any, meta: dict[str, str],
              now: datetime | None, title: str | None = None) -> tuple[datetime | date | None, str | None, str]:  # fmt: skip
    """(published, raw string, rule).

    On a Vietnamese page: a labelled date line in the article's meta area, else the page's
    JSON-LD or meta tags, else a bare date just below the title, else the URL. Portal pages put
    today's date in their header and older articles' dates in related lists: htmldate's
    "original date" (the earliest it finds) is wrong there. On any other page: htmldate's
    original date (given its time when JSON-LD or meta print the same day), else the tags, else
    the URL — measured best on pages of other languages.
    """
    below, above = _near_title(title_el)
    area = _meta_area(below)
    # A labelled line: in the meta area, just above the title, or further down (some portals
    # print it after the body); the label opens the line.
    for t in area + above + below[len(area) :]:
        if len(t) > 200:
            continue
        m = _DATE_LABEL.search(t)
        if m and m.start() <= _LABEL_AT_START and not _TODAY.search(t):
            value = parse_datetime(t, now=now)
            if value is not None:
                return value, t, "labelled date line next to the title"
    structured = _structured_dates(tree, meta)
    vietnamese = is_vietnamese(tree, title)
    if not vietnamese:
        day = _htmldate(tree, url)
        if day is not None:
            for raw, where in structured:  # the same day with its time and offset, when a tag prints it
                value = _iso_datetime(raw)
                if isinstance(value, datetime) and value.date() == day:
                    return value, raw, f"htmldate's original date, time from {where}"
            return day, day.isoformat(), "htmldate (original date)"
    for raw, where in structured:
        value = _iso_datetime(raw) or (parse_datetime(raw, now=now) if _NUMERIC_DATE.search(raw) else None)
        if value is not None:
            return value, raw, where
    for t in area[:12]:  # an unlabelled date just below the title (never above it: today's date)
        if not _TODAY.search(t) and len(t) <= 60 and _NUMERIC_DATE.search(t):
            value = parse_datetime(t, now=now)
            if value is not None:
                return value, t, "date line next to the title"
    from archiver.normalize import date_from_url

    from_url = date_from_url(url)
    if from_url is not None:
        return from_url, url, "the URL"
    return None, None, "none"


def _iso_datetime(raw: str) -> datetime | date | None:
    """An ISO 8601 date-time of a tag, in Asia/Ho_Chi_Minh when it carries an offset (a naive
    time is taken as local); None when it is not ISO."""
    from archiver.normalize import TZ

    text = raw.strip().replace("Z", "+00:00")
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        try:
            return date.fromisoformat(text[:10]) if len(text) == 10 else None
        except ValueError:
            return None
    return value.astimezone(TZ) if value.tzinfo else value.replace(tzinfo=TZ)


def _htmldate(text: Any, url: str) -> date | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            found = htmldate_find(text, url=url, original_date=True, extensive_search=True, outputformat="%Y-%m-%d")
    except Exception:  # noqa: BLE001 - page text never raises
        return None
    if not found:
        return None
    try:
        return date.fromisoformat(found)
    except ValueError:
        return None


# -- views, author -----------------------------------------------------------------------------
def find_views(title_el: Any) -> tuple[int | None, str | None, str]:
    below, above = _near_title(title_el, before=6, after=60)
    for t in below + above:
        if len(t) <= 200 and _VIEW_LABEL.search(t):
            value = parse_views(t)
            if value is not None:
                return value, t, "labelled view count next to the title"
    return None, None, "none"


def find_author(tree: Any, meta: dict[str, str]) -> tuple[str | None, str]:
    site = norm(meta.get("og:site_name"))
    for d in _jsonld(tree):
        a = d.get("author")
        names = [a] if isinstance(a, dict | str) else (a if isinstance(a, list) else [])
        for n in names:
            name = n.get("name") if isinstance(n, dict) else n
            if isinstance(name, str) and 1 < len(name) < 80 and norm(name) != site:
                return clean_text(name), "JSON-LD author"
    name = meta.get("author") or meta.get("article:author") or ""
    if name and not name.startswith("http") and 1 < len(name) < 80 and norm(name) != site:
        if not re.search(r"(?i)cổng\s+thông\s+tin|portal|\.gov\.vn|\.com\b", name):
            return clean_text(name), "meta author"
    return None, "none"


# -- body ---------------------------------------------------------------------------------------
def body_lines(text: str, url: str, tree: Any, titles: set[str]) -> list[str]:
    """The article's paragraphs: trafilatura's lines, with our layer over them."""
    anchors = set()  # read before trafilatura, which prunes the tree it is given
    if tree is not None:
        for a in tree.iter("a"):
            n = norm(a.text_content())
            if len(n) > 15:
                anchors.add(n)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            extracted = trafilatura.extract(tree if tree is not None else text, url=url, include_comments=False,
                                            include_tables=True, fast=True, favor_recall=True,
                                            deduplicate=False) or ""  # fmt: skip
    except Exception as exc:  # noqa: BLE001 - page text never raises
        log.debug("trafilatura failed on %s: %s", url, exc)
        return []
    out: list[str] = []
    for line in extracted.split("\n"):
        s = line.strip().strip("|").strip()
        n = norm(s)
        if not n or _URL_LINE.match(s):
            continue
        if _STOP_LINE.match(s) and sum(len(_TOKEN.findall(x)) for x in out) >= MIN_WORDS:
            break  # related lists follow
        if len(s) < 160 and _TRAILING_DATE.search(s) and norm(_TRAILING_DATE.sub("", s)) in anchors:
            continue  # a related item: its title and date
        if len(s) < 200 and any(n == t or (len(n) > 20 and n in t and len(n) > 0.6 * len(t)) for t in titles):
            continue  # the title (or most of it) again
        if len(s) < 120 and n in anchors:
            continue  # a link's whole text: a related list, navigation
        if len(s) < 250 and _BOILERPLATE.match(s):
            continue
        if s.startswith("- ") and len(s) > 2:
            s = s[2:]
        out.append(s)
    if sum(len(_TOKEN.findall(line)) for line in out) < MIN_WORDS:
        return []  # a few stray words are no article (an error page, a page of links, garbage)
    return out


def generic(text: str, url: str, now: datetime | None = None, tree: Any = None, body: bool = True) -> Generic:
    """Every field the generic extractor can find on the page (see the module docstring);
    ``body=False``: all but the body (no trafilatura), the other fields the same."""
    g = Generic(rules={k: "none" for k in ("title", "published", "views", "author", "body")})
    tree = tree if tree is not None else parse_tree(text)
    if tree is None:
        return g
    meta = _meta(tree)
    g.title, title_el, g.rules["title"] = find_title(tree, meta)
    titles = {norm(t) for t in (g.title, meta.get("og:title"), meta.get("twitter:title")) if t}
    title_tag = tree.find(".//title")
    if title_tag is not None:
        titles.add(norm(title_tag.text_content()))
    titles.discard("")
    g.published, g.published_raw, g.rules["published"] = find_date(tree, text, url, title_el, meta, now, g.title)
    g.views, g.views_raw, g.rules["views"] = find_views(title_el)
    g.author, g.rules["author"] = find_author(tree, meta)
    if not body:
        return g
    g.lines = body_lines(text, url, tree, titles)  # last: trafilatura prunes the tree
    meta_lines = [norm(x) for x in (g.published_raw, g.views_raw) if x and len(x) < 150]
    if meta_lines and g.lines:
        # The date and view-count line (when the body's extraction took it in) is no paragraph.
        g.lines = [line for line in g.lines[:3] if not (len(line) < 150 and any(
            m and m in norm(line) and len(_TOKEN.findall(line)) <= len(_TOKEN.findall(m)) + 8
            for m in meta_lines))] + g.lines[3:]  # fmt: skip
    g.rules["body"] = "trafilatura (fast, recall) + boilerplate layer" if g.lines else "none"
    return g


def lines_html(lines: list[str]) -> str:
    """Body HTML for a body found by the generic extractor: one paragraph per line."""
    return "\n".join(f"<p>{htmllib.escape(line, quote=False)}</p>" for line in lines)


def published_only(text: str, url: str, now: datetime | None = None) -> tuple[datetime | date | None, str | None, str]:
    """Just the publication date of a page, without extracting its body: (value, raw, rule)."""
    tree = parse_tree(text)
    if tree is None:
        return None, None, "none"
    meta = _meta(tree)
    title, title_el, _ = find_title(tree, meta)
    return find_date(tree, text, url, title_el, meta, now, title)
