"""What a page of an unknown portal is, from its markup alone: pure, lxml, no network.

``analyse(html, url)`` -> ``Page``:

* the **repeated link groups**: links are grouped by the tag-and-class path from the page root
  to the link (the blocks of a news list share it; ``item-3``'s digits are dropped). A group of
  at least ``MIN_GROUP`` distinct links whose texts read like titles (four words or more) is a
  run of news blocks; the biggest is the page's main list;
* the **largest text block** (words outside links in one element, the paragraphs of an article's
  body), which tells an article with a related-news list from a listing;
* **navigation links** (short link texts: menus, category boxes) on the same site;
* **pagination** in the shapes portals use: ``?page=N``, ``/page-N``, ``/trang-N.html``,
  ``?start=N``, ``index.php?trang=N``, numbered windows with ``Trang sau`` / ``Tiếp`` / ``»`` /
  ``Cuối``, ``Xem thêm``, and ASP.NET ``__doPostBack('…','…')`` links. A pagination link must
  lead to the same listing (``listing_key``), and is keyed by ``page_key`` so that ``?page=1``
  and the listing's own URL are one page (the last page linking to page 1 is no new page);
* **feeds** linked from the page (``<link rel="alternate">``, ``.rss`` links).

``shape(url)`` is a URL's pattern (digits and slugs generalised), the unit by which a site's
article URLs are told from its navigation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import lxml.html
from lxml import etree

# A run of news blocks: at least this many distinct links with title-like text in one group.
MIN_GROUP = 3
# A link text reads like a title from this many words.
TITLE_WORDS = 4
# An article's body: at least this many words outside links in one element.
BODY_WORDS = 80

PAGE_PARAMS = frozenset({"page", "trang", "p", "pg", "paged", "pageindex", "pagenumber", "pagenum", "pageno",
                         "start", "offset", "from", "sotrang", "curpage", "currentpage", "pi"})  # fmt: skip
# Parameters whose first page is 0 (offsets), not 1.
OFFSET_PARAMS = frozenset({"start", "offset", "from"})
_PAGE_SEGMENT = re.compile(r"(?:^|[-_/])(?:trang|page|p)[-_/]?(\d{1,5})(?=\.html?$|\.aspx$|/?$)", re.I)
NEXT_WORDS = ("trang sau", "tiếp", "tiếp theo", "trang tiếp", "sau", "»", "›", ">", ">>", "next", "cuối",
              "trang cuối", "xem thêm", "xem tiếp", "more", "last", "»»", "tiếp »", "sau »")  # fmt: skip
PREV_WORDS = ("trang trước", "trước", "«", "‹", "<", "<<", "prev", "previous", "đầu", "trang đầu", "first")
_PAGER_CLASS = re.compile(r"pag|phantrang|phan-trang|paging|pager|trang", re.I)
_POSTBACK = re.compile(r"__doPostBack\(\s*['\"]([^'\"]+)['\"]\s*,\s*['\"]([^'\"]*)['\"]\s*\)")
# Calendars and archives by day: an endless space of pages, never followed.
_CALENDAR = re.compile(r"\d{4}[-/]\d{1,2}[-/]\d{1,2}|[?&](?:ngay|date|day|month|thang|year|nam|lich)=", re.I)
_NOT_PAGES = re.compile(r"\.(?:pdf|docx?|xlsx?|pptx?|zip|rar|7z|jpe?g|png|gif|webp|svg|mp[34]|avi|mov|wmv|flv|"
                        r"exe|apk|css|js|ico|xml|rss)(?:$|\?)", re.I)  # fmt: skip
_SKIP_PATHS = re.compile(r"(?:^|/)(?:login|dang-?nhap|dang-?ky|register|logout|search|tim-?kiem|print|in-?bai|"
                         r"sitemap|lien-?he|contact|hoi-?dap|gop-?y|rss|feed|so-?do-?site)(?:[./?]|$)", re.I)  # fmt: skip
_WORD = re.compile(r"\w+")
_DIGITS = re.compile(r"\d+")


@dataclass
class Link:
    url: str
    text: str
    group: str  # tag-and-class path from the root


@dataclass
class Postback:
    """An ASP.NET ``__doPostBack(target, argument)`` pager link."""

    target: str
    argument: str
    text: str


@dataclass
class Page:
    url: str
    links: list[Link] = field(default_factory=list)
    groups: list[list[Link]] = field(default_factory=list)  # title-like groups, biggest first
    body_words: int = 0
    pagination: list[str] = field(default_factory=list)
    postbacks: list[Postback] = field(default_factory=list)
    feeds: list[str] = field(default_factory=list)
    words: int = 0
    scripts: int = 0

    @property
    def main(self) -> list[str]:
        """The main list's links (distinct, in page order)."""
        return _distinct(link.url for link in self.groups[0]) if self.groups else []

    @property
    def titled(self) -> list[str]:
        """The links of every title-like group (the home page's category boxes, sidebars)."""
        return _distinct(link.url for g in self.groups for link in g)

    @property
    def is_listing(self) -> bool:
        """A run of news blocks and no article body."""
        return bool(self.groups) and len(self.main) >= MIN_GROUP + 1 and self.body_words < BODY_WORDS

    @property
    def is_article_like(self) -> bool:
        return self.body_words >= BODY_WORDS

    def nav(self, host: str) -> list[str]:
        """Same-site links with short texts (menus, category names): listing candidates."""
        out = []
        for link in self.links:
            words = len(_WORD.findall(link.text))
            if 1 <= words < TITLE_WORDS and urlsplit(link.url).netloc.lower() == host and followable(link.url):
                out.append(link.url)
        return _distinct(out)

    @property
    def js_only(self) -> bool:
        """Scripts and next to no links or text: a page built in the browser."""
        return self.scripts > 0 and len(self.links) < 5 and self.words < 50


def _distinct(urls: object) -> list[str]:
    seen: dict[str, None] = {}
    for u in urls:  # type: ignore[attr-defined]
        seen.setdefault(u, None)
    return list(seen)


def followable(url: str) -> bool:
    """A page worth fetching as a listing or article: not a file, a search, a login, a calendar."""
    parts = urlsplit(url)
    path_query = parts.path + ("?" + parts.query if parts.query else "")
    return not (_NOT_PAGES.search(parts.path) or _SKIP_PATHS.search(parts.path) or _CALENDAR.search(path_query))


def _signature(el: etree._Element) -> str:
    parts = []
    node: etree._Element | None = el
    while node is not None and isinstance(node.tag, str) and node.tag not in ("html", "body"):
        cls = " ".join(sorted(_DIGITS.sub("", c) for c in (node.get("class") or "").split() if c))
        parts.append(f"{node.tag}.{cls}" if cls else node.tag)
        node = node.getparent()
    return ">".join(reversed(parts))


def _text(el: etree._Element) -> str:
    return " ".join("".join(el.itertext()).split())


def _in_chrome(el: etree._Element) -> bool:
    """Inside a ``<nav>``, ``<header>`` or ``<footer>`` (or an element named so)."""
    node: etree._Element | None = el
    while node is not None and isinstance(node.tag, str):
        if node.tag in ("nav", "header", "footer"):
            return True
        ident = f"{node.get('id') or ''} {node.get('class') or ''}".lower()
        if re.search(r"\b(?:menu|nav|navbar|footer|header|breadcrumb)\b", ident):
            return True
        node = node.getparent()
    return False


def analyse(html: str | bytes, url: str) -> Page:
    """The page's link groups, body size, pagination and feeds (see the module's docstring)."""
    page = Page(url)
    try:
        root = lxml.html.document_fromstring(html) if html else None
    except (etree.ParserError, ValueError):
        root = None
    if root is None:
        return page
    base = url
    for b in root.iter("base"):
        if b.get("href"):
            base = urljoin(url, b.get("href").strip())
            break
    page.scripts = sum(1 for _ in root.iter("script"))
    for el in root.iter("script", "style", "noscript", "template"):
        el.text = ""
    page.words = len(_WORD.findall(root.text_content()))
    for ln in root.iter("link"):
        rel = (ln.get("rel") or "").lower()
        typ = (ln.get("type") or "").lower()
        if "alternate" in rel and ("rss" in typ or "atom" in typ) and ln.get("href"):
            page.feeds.append(urljoin(base, ln.get("href").strip()))
    groups: dict[str, list[Link]] = {}
    chrome: dict[str, bool] = {}
    host = urlsplit(url).netloc.lower()
    for a in root.iter("a"):
        href = (a.get("href") or "").strip()
        if not href or href.startswith("#"):
            continue
        text = _text(a) or (a.get("title") or "").strip()
        m = _POSTBACK.search(href) if href.lower().startswith("javascript:") else None
        if m:
            page.postbacks.append(Postback(m.group(1), m.group(2), text))
            continue
        if href.lower().startswith(("javascript:", "mailto:", "tel:")):
            continue
        absolute = urljoin(base, href).split("#", 1)[0]
        if not absolute.startswith(("http://", "https://")):
            continue
        if re.search(r"\.rss(?:$|\?)|/rss\.xml$|/feed/?$", absolute, re.I) and urlsplit(absolute).netloc.lower() == host:
            page.feeds.append(absolute)
            continue
        sig = _signature(a)
        link = Link(absolute, text, sig)
        page.links.append(link)
        if sig not in chrome:
            chrome[sig] = _in_chrome(a)
        if not chrome[sig]:
            groups.setdefault(sig, []).append(link)
    page.feeds = _distinct(page.feeds)
    titled = []
    for links in groups.values():
        own = [k for k in links if urlsplit(k.url).netloc.lower() == host]
        distinct = _distinct(k.url for k in own)
        if len(distinct) < MIN_GROUP:
            continue
        title_like = sum(1 for k in own if len(_WORD.findall(k.text)) >= TITLE_WORDS)
        if title_like >= 0.6 * len(own):
            titled.append([k for k in own if len(_WORD.findall(k.text)) >= TITLE_WORDS])
    titled.sort(key=lambda g: (len(_distinct(k.url for k in g)), sum(len(k.text) for k in g)), reverse=True)
    page.groups = titled
    page.body_words = _largest_block(root)
    page.pagination = _pagination(page)
    return page


def _largest_block(root: etree._Element) -> int:
    """Words outside links in the element that holds the most of them directly (its own text and
    that of its paragraph-level children): an article's body; a list of blocks has none."""
    best = 0
    for el in root.iter("div", "td", "article", "section", "main"):
        words = 0
        links = 0
        for child in el:
            if not isinstance(child.tag, str):
                continue
            if child.tag in ("p", "span", "font", "b", "strong", "em", "i", "u", "blockquote"):
                words += _own_words(child)
            elif child.tag == "a":
                links += 1
            else:
                links += sum(1 for a in child.iter("a") if len(_WORD.findall(_text(a))) >= TITLE_WORDS)
            words += len(_WORD.findall(child.tail or ""))
        words += len(_WORD.findall(el.text or ""))
        if links >= MIN_GROUP:
            continue  # a list of titles with their summaries, not a body
        best = max(best, words)
    return best


def _own_words(el: etree._Element) -> int:
    """Words of an element outside the links in it."""
    total = len(_WORD.findall(el.text_content()))
    return total - sum(len(_WORD.findall(a.text_content())) for a in el.iter("a"))


# -- pagination -----------------------------------------------------------------------------------
def _page_number(url: str) -> tuple[str, int] | None:
    """The pagination token of a URL: (where, number), e.g. ("q:page", 3) or ("path", 2)."""
    parts = urlsplit(url)
    for k, v in parse_qsl(parts.query, keep_blank_values=True):
        if k.lower() in PAGE_PARAMS and v.isdigit():
            return f"q:{k.lower()}", int(v)
    m = _PAGE_SEGMENT.search(parts.path)
    if m:
        return "path", int(m.group(1))
    return None


def listing_key(url: str) -> str:
    """The listing a URL is a page of: its pagination token removed (``/kinh-te/trang-3.html``
    and ``/kinh-te/`` are pages of ``/kinh-te``)."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k.lower() not in PAGE_PARAMS]
    path = _PAGE_SEGMENT.sub("", parts.path)
    path = re.sub(r"(?:/index)?\.(?:html?|aspx|php)$|/+$", "", path) or "/"
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), path, urlencode(sorted(query)), ""))


def page_key(url: str) -> str:
    """One key per listing page: ``?page=1``, ``?start=0``, ``/trang-1.html`` and the listing's own
    URL are the same page."""
    token = _page_number(url)
    key = listing_key(url)
    if token is None:
        return key
    where, n = token
    first = 0 if where.removeprefix("q:") in OFFSET_PARAMS else 1
    if n <= first or (where.removeprefix("q:") in OFFSET_PARAMS and n == 0):
        return key
    return f"{key}#page={n}"


def _pagination(page: Page) -> list[str]:
    own = listing_key(page.url)
    out = []
    for link in page.links:
        text = link.text.strip().lower()
        token = _page_number(link.url)
        worded = text in NEXT_WORDS or text in PREV_WORDS or text.strip("[]()").isdigit()
        in_pager = bool(_PAGER_CLASS.search(link.group))
        if not (token or worded or in_pager):
            continue
        if listing_key(link.url) != own or not followable(link.url):
            continue
        if page_key(link.url) == page_key(page.url):
            continue
        out.append(link.url)
    return _distinct(out)


def postback_pages(page: Page) -> list[Postback]:
    """ASP.NET pager links (``Page$3``, a number or a next word as the text), once each."""
    out, seen = [], set()
    for pb in page.postbacks:
        text = pb.text.strip().lower()
        arg = pb.argument.lower()
        pager = text.strip("[]()").isdigit() or text in NEXT_WORDS or text in PREV_WORDS or "page" in arg or \
            "pager" in pb.target.lower() or "trang" in pb.target.lower()  # fmt: skip
        if pager and (pb.target, pb.argument) not in seen:
            seen.add((pb.target, pb.argument))
            out.append(pb)
    return out


# -- URL shapes ---------------------------------------------------------------------------------
_SLUGGISH = re.compile(r"^[\w%]+(?:[-_][\w%]+){2,}")


def shape(url: str) -> str:
    """A URL's pattern: ``/tin-tuc/kinh-te/{slug}-{n}.html``, ``/Pages/Detail.aspx?ItemID={n}``.
    The last path segment and digits are generalised; directories are kept, so each category's
    articles form their own shape."""
    parts = urlsplit(url)
    segments = parts.path.split("/")
    out = []
    for i, seg in enumerate(segments):
        last = i == len(segments) - 1
        stem, dot, ext = seg.rpartition(".") if "." in seg else (seg, "", "")
        if _SLUGGISH.match(stem) or (last and len(stem) > 24):
            g = "{slug}"
            tail = re.search(r"[-_.]\d+$", stem)
            if tail:
                g += tail.group(0)[0] + "{n}"
        else:
            g = _DIGITS.sub("{n}", stem)
        out.append(g + (dot + ext if dot else ""))
    query = sorted((k, "{n}" if v.isdigit() else "{s}") for k, v in parse_qsl(parts.query, keep_blank_values=True))
    path = "/".join(out)
    return path + ("?" + "&".join(f"{k}={v}" for k, v in query) if query else "")
