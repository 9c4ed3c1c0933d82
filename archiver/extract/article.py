"""Find it: an article page -> ``Article``. Pure: ``(html, url, profile, now)`` in, record out."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from bs4 import BeautifulSoup, NavigableString, PageElement, Tag

from archiver.extract.generic import Generic, generic, lines_html
from archiver.extract.html import (
    compiled_css,
    document_base,
    element_text,
    lxml_base,
    lxml_fragment,
    lxml_select,
    lxml_text,
    lxml_tree,
    parse,
    sanitize,
    select_all,
    select_one,
    text_lines_without_captions,
    to_unicode,
)
from archiver.items import Article
from archiver.normalize import (
    clean_lines,
    clean_text,
    dateline_source,
    parse_datetime,
    parse_views,
    split_byline,
)
from archiver.profiles import Profile, detect_family_scored, profile_for_url

# Lines that are page furniture wherever they appear inside a body.
BOILERPLATE_LINES = frozenset(
    s.lower()
    for s in (
        "Cỡ chữ", "Mặc định Cỡ chữ", "In", "In bài", "In trang", "Gửi email", "Gửi bài",
        "Chia sẻ", "Lưu bài", "Quay lại", "Về đầu trang", "Lên đầu trang", "Bản in", "Email",
        "Facebook", "Zalo", "Twitter", "Tweet", "Like", "Share", "100%", "A", "A-", "A+",
        "RSS", "CHUYÊN MỤC", "Skip to main content", "Truy cập nội dung luôn", "Xem thêm",
    )
)  # fmt: skip
DEFAULT_STOP_MARKERS = (
    "Các ý kiến của bạn đọc", "Ý kiến bạn đọc", "Gửi ý kiến", "Các tin khác", "Tin khác",
    "BÀI VIẾT LIÊN QUAN", "Tin liên quan", "Tin cùng chuyên mục", "Các tin đã đưa",
)  # fmt: skip
DEFAULT_NOT_FOUND = (
    "Trang không tồn tại", "Không tìm thấy trang", "Bài viết không tồn tại",
    "Page not found", "404 Not Found", "The resource cannot be found",
)  # fmt: skip
_STRAY = re.compile(r"^(?:\d{1,3}|ảnh\s*\d{0,3}|image\d*|\.+)$", re.I)
# Attachment lines ("Chỉ thị số 05/CT-UBND - Tải văn bản"): kept in body_html, not in the text.
_ATTACHMENT = re.compile(r"[-–:]\s*(?:tải\s+(?:văn\s+bản|về|xuống|file)|download)\s*$", re.I)


def _marker_pos(text: str, markers: tuple[str, ...]) -> int | None:
    """Where a stop marker starts in a text node: at its start (a heading), or glued to the end
    of a word (``Thanh TâmCác ý kiến của bạn đọc``). A marker inside a sentence is no marker."""
    stripped = text.strip()
    low = stripped.lower()
    lead = len(text) - len(text.lstrip())
    for m in markers:
        if low.startswith(m.lower()):
            return lead
    for m in markers:
        i = stripped.find(m)
        if i > 0 and stripped[i - 1].isalpha():
            return lead + i
    return None


def _cut_at_markers(body: Tag, markers: tuple[str, ...]) -> None:
    """Remove everything from the first stop marker on, keeping text glued before it."""
    for node in body.find_all(string=True):
        pos = _marker_pos(str(node), markers)
        if pos is None:
            continue
        kept = NavigableString(str(node)[:pos])
        node.replace_with(kept)
        cur: PageElement | None = kept
        while cur is not None and cur is not body:
            for sib in list(cur.next_siblings):
                sib.extract()
            cur = cur.parent
        return


def _strip_body(body: Tag, profile: Profile | None) -> None:
    for sel in profile.get("article.remove", []) if profile else []:
        for el in select_all(body, sel):
            el.decompose()
    markers = tuple(profile.get("article.stop_markers", ())) if profile else ()
    _cut_at_markers(body, markers + DEFAULT_STOP_MARKERS)


def _meta(soup: BeautifulSoup, *names: str) -> str | None:
    for name in names:
        tag = soup.find("meta", attrs={"property": name}) or soup.find("meta", attrs={"name": name})
        if isinstance(tag, Tag) and isinstance(tag.get("content"), str):
            return str(tag["content"])
    return None


def _title(soup: BeautifulSoup, profile: Profile | None) -> str | None:
    el = select_one(soup, profile.get("article.title")) if profile else None
    text = element_text(el)
    if not text:
        text = clean_text(_meta(soup, "og:title") or "")
    if not text:
        h1 = soup.find("h1")
        text = element_text(h1 if isinstance(h1, Tag) else None)
    return text or None


def _category(soup: BeautifulSoup, profile: Profile | None) -> str | None:
    found = select_all(soup, profile.get("article.category")) if profile else []
    texts = [element_text(el) for el in found]
    texts = [t for t in texts if t and t.lower() not in ("trang chủ", "home", ">", "»")]
    return texts[-1] if texts else None


def _published(soup: BeautifulSoup, url: str, profile: Profile | None, now: datetime | None):
    el = select_one(soup, profile.get("article.date")) if profile else None
    raw = element_text(el) or None
    if raw:
        value = parse_datetime(raw, now=now)
        if value is not None:
            return value, raw
    return None, raw  # the generic extractor looks further (meta area, JSON-LD, htmldate, URL)


def _field(soup: BeautifulSoup, profile: Profile | None, key: str) -> str | None:
    el = select_one(soup, profile.get(key)) if profile else None
    return _clean_field(element_text(el))


def _clean_field(text: str) -> str | None:
    if not text:
        return None
    text = re.sub(r"^(?:tác\s+giả|nguồn(?:\s+tin)?|tin\s*(?:và|,)\s*ảnh)\s*:\s*", "", text, flags=re.I)
    return text.strip() or None


def _lines_to_body(art: Article, lines: list[str], lead: str | None = None) -> None:
    """Body text, lead, author and source from the body's paragraphs."""
    lines = [ln for ln in lines if ln.lower() not in BOILERPLATE_LINES and not _STRAY.match(ln)
             and not _ATTACHMENT.search(ln)]  # fmt: skip
    if art.title and lines and lines[0] == art.title:
        lines = lines[1:]
    lines, author, source = split_byline(clean_lines(lines))
    if lead:
        lines = [lead, *[ln for ln in lines if ln != lead]]
    art.lead = lead or (lines[0] if lines else None)
    art.body_text = "\n\n".join(lines)
    if author and not art.author:
        art.author = author
        art.rules["author"] = "byline at the end of the body"
    if source and not art.source:
        art.source = source
        art.rules["source"] = "credit line of the body"


def extract_article(
    html: str | bytes,
    url: str,
    *,
    profile: Profile | None = None,
    now: datetime | None = None,
    content_type: str | None = None,
) -> Article:
    """Extract and normalise an article page.

    ``profile=None`` takes the portal profile matching the URL's host, else the CMS family
    recognised in the page (by a score over its markers), else the generic extractor alone. A
    profile's selectors come first; the generic extractor fills what they leave empty (title,
    date, views, author, body). ``Article.rules`` says which selector or rule gave each field.
    Never raises on page content; ``Article.problems()`` says whether the result is an article
    (a page without a body is not). Bytes are decoded by ``content_type`` (the HTTP header), the
    page's declaration, or as windows-1258 when neither says and the page is not UTF-8.
    """
    text = to_unicode(html, content_type)
    how = "profile"
    if profile is None:
        profile = profile_for_url(url)
        if profile is None:
            profile, score = detect_family_scored(text)
            how = f"family detected (score {score:.2f})" if profile is not None else "generic"
    art = Article(url=url, profile=profile.slug if profile else None)
    art.rules["extraction"] = f"{how}: {profile.slug}" if profile is not None else "generic (no profile, no family)"
    cache: list[Generic] = []

    if profile is not None:
        profile = profile.for_url(url)
        _with_profile(art, text, url, profile, now)
    # The generic body (trafilatura) only when the profile gave no title or no body: a missing
    # date or view count alone costs its own rules, not a whole extraction (the same values).
    with_body = not art.title or not art.body_text.strip()

    def gen() -> Generic:
        if not cache:
            cache.append(generic(text, url, now, body=with_body))
        return cache[0]
    if not art.title:
        art.title = gen().title
        art.rules["title"] = f"generic: {gen().rules['title']}"
    if art.published is None:
        g = gen()
        if g.published is not None or not art.published_raw:
            art.published, art.published_raw = g.published, g.published_raw or art.published_raw
            art.rules["published"] = f"generic: {g.rules['published']}"
    if art.views is None and gen().views is not None:
        art.views, art.views_raw = gen().views, gen().views_raw
        art.rules["views"] = f"generic: {gen().rules['views']}"
    if not art.body_text.strip():
        g = gen()
        if g.lines:
            _lines_to_body(art, g.lines)
            art.body_html = lines_html(art.body_text.split("\n\n"))
            art.rules["body"] = f"generic: {g.rules['body']}"
    if not art.author and cache and cache[0].author:
        art.author = cache[0].author
        art.rules["author"] = f"generic: {cache[0].rules['author']}"
    art.source = art.source or dateline_source(art.lead)

    markers = tuple(profile.get("article.not_found_markers", ())) if profile else ()
    head = f"{art.title or ''}\n{art.body_text[:300]}".lower()
    if any(m.lower() in head for m in markers + DEFAULT_NOT_FOUND):
        art.body_text, art.body_html = "", ""
        art.rules["body"] = "a not-found marker: not an article"
    if art.body_text:
        from archiver.attachments import block_links, links_in

        found = dict(links_in(art.body_html, url))
        for link, shown in block_links(text, url, profile.get("article.attachments") if profile else None):
            found.setdefault(link, shown)
        art.documents = list(found.items())
    return art


_PROFILE_SELECTORS = ("article.title", "article.category", "article.date", "article.views", "article.lead",
                      "article.body", "article.author", "article.source", "article.remove")  # fmt: skip


def _with_profile(art: Article, text: str, url: str, profile: Profile, now: datetime | None) -> None:
    """The fields a profile's selectors find. One lxml tree, the selectors compiled to XPath once;
    the body alone goes through BeautifulSoup. A selector cssselect cannot express (or a page
    lxml refuses) takes the BeautifulSoup path for the whole page: the same output, slower."""
    root = lxml_tree(text)
    selectors = [v for k in _PROFILE_SELECTORS for v in ([profile.get(k)] if isinstance(profile.get(k), str)
                                                         else profile.get(k) or [])]  # fmt: skip
    if root is None or any(compiled_css(v) is None for v in selectors):
        _with_profile_soup(art, text, url, profile, now)
        return

    def one(key: str) -> Any:
        found = lxml_select(root, profile.get(key))
        return found[0] if found else None

    def rule(key: str) -> None:
        art.rules[key.split(".")[-1] if key != "article.date" else "published"] = f"selector {key} = {profile.get(key)!r}"

    title = lxml_text(one("article.title"))
    if not title:
        og = root.xpath("//meta[@property='og:title']/@content") or root.xpath("//meta[@name='og:title']/@content")
        title = clean_text(og[0]) if og else ""
    if not title:
        h1 = root.find(".//h1")
        title = lxml_text(h1)
    art.title = title or None
    if art.title:
        rule("article.title")
    texts = [lxml_text(el) for el in lxml_select(root, profile.get("article.category")) or []]
    texts = [t for t in texts if t and t.lower() not in ("trang chủ", "home", ">", "»")]
    art.category = texts[-1] if texts else None
    if art.category:
        rule("article.category")
    raw = lxml_text(one("article.date")) or None
    art.published, art.published_raw = None, raw
    value = parse_datetime(raw, now=now) if raw else None
    if value is not None:
        art.published = value
        rule("article.date")
    art.views_raw = lxml_text(one("article.views")) or None
    art.views = parse_views(art.views_raw)
    if art.views is not None:
        rule("article.views")
    lead_el = one("article.lead")
    lead = lxml_text(lead_el) or None
    body_el = one("article.body")
    if body_el is not None:
        if lead_el is not None and any(a is body_el for a in lead_el.iterancestors()):
            lead_el.drop_tree()
        body = lxml_fragment(body_el) if lxml_text(body_el) else None
        if body is None or not body.get_text(strip=True):
            # An empty body: lxml cuts a tree nested thousands deep (BeautifulSoup does not), so
            # the whole page the slow way, which gives the same result on every other page.
            for k in [k for k in art.rules if k != "extraction"]:
                del art.rules[k]
            _with_profile_soup(art, text, url, profile, now)
            return
        if body is not None:
            _strip_body(body, profile)
            _lines_to_body(art, text_lines_without_captions(body), lead)
            if art.body_text:
                art.body_html = sanitize(body, lxml_base(root, url))
                rule("article.body")
    for key in ("article.author", "article.source"):
        found = _clean_field(lxml_text(one(key)))
        if key == "article.author" and found:
            art.author = found
            rule(key)
        elif key == "article.source":
            art.source = found or art.source


def _with_profile_soup(art: Article, text: str, url: str, profile: Profile, now: datetime | None) -> None:
    """The fields a profile's selectors find (BeautifulSoup, CSS)."""
    soup = parse(text)

    def rule(key: str, what: str | None = None) -> None:
        art.rules[key.split(".")[-1] if key != "article.date" else "published"] = what or f"selector {key} = {profile.get(key)!r}"

    art.title = _title(soup, profile)
    if art.title:
        rule("article.title")
    art.category = _category(soup, profile)
    if art.category:
        rule("article.category")
    art.published, art.published_raw = _published(soup, url, profile, now)
    if art.published is not None:
        rule("article.date")
    views_el = select_one(soup, profile.get("article.views"))
    art.views_raw = element_text(views_el) or None
    art.views = parse_views(art.views_raw)
    if art.views is not None:
        rule("article.views")
    lead_el = select_one(soup, profile.get("article.lead"))
    lead = element_text(lead_el) or None
    body = select_one(soup, profile.get("article.body"))
    if body is not None:
        if lead_el is not None and lead_el in body.descendants:
            lead_el.extract()
        _strip_body(body, profile)
        _lines_to_body(art, text_lines_without_captions(body), lead)
        if art.body_text:
            art.body_html = sanitize(body, document_base(soup, url))
            rule("article.body")
    field_author = _field(soup, profile, "article.author")
    if field_author:
        art.author = field_author
        rule("article.author")
    art.source = _field(soup, profile, "article.source") or art.source
