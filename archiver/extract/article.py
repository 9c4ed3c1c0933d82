"""Find it: an article page -> ``Article``. Pure: ``(html, url, profile, now)`` in, record out."""

from __future__ import annotations

import re
from datetime import datetime

from bs4 import BeautifulSoup, NavigableString, PageElement, Tag

from archiver.extract.html import (
    block_lines,
    document_base,
    element_text,
    parse,
    sanitize,
    select_all,
    select_one,
)
from archiver.items import Article
from archiver.normalize import (
    clean_lines,
    clean_text,
    date_from_url,
    dateline_source,
    parse_datetime,
    parse_views,
    split_byline,
)
from archiver.profiles import Profile, detect_family, profile_for_url

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


def _resolve(url: str, html: str, profile: Profile | None) -> Profile | None:
    if profile is not None:
        return profile
    return profile_for_url(url) or detect_family(html)


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


def _body_lines(body: Tag) -> list[str]:
    lines = block_lines(body)
    return [
        ln
        for ln in lines
        if ln.lower() not in BOILERPLATE_LINES and not _STRAY.match(ln) and not _ATTACHMENT.search(ln)
    ]


def _strip_body(body: Tag, profile: Profile | None) -> None:
    for sel in profile.get("article.remove", []) if profile else []:
        for el in select_all(body, sel):
            el.decompose()
    markers = tuple(profile.get("article.stop_markers", ())) if profile else ()
    _cut_at_markers(body, markers + DEFAULT_STOP_MARKERS)


def _generic_body(soup: BeautifulSoup) -> Tag | None:
    """The element holding the most paragraph text: a best-effort body for unknown pages."""
    best, best_len = None, 0
    for p in soup.find_all("p"):
        parent = p.parent
        if not isinstance(parent, Tag):
            continue
        length = sum(len(x.get_text()) for x in parent.find_all("p", recursive=False))
        if length > best_len:
            best, best_len = parent, length
    return best


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
    meta = _meta(soup, "article:published_time", "og:published_time", "pubdate", "date")
    if meta:
        value = parse_datetime(meta, now=now)
        if value is not None:
            return value, meta
    from_url = date_from_url(url)
    if from_url is not None:
        return from_url, url
    return None, raw


def _field(soup: BeautifulSoup, profile: Profile | None, key: str) -> str | None:
    el = select_one(soup, profile.get(key)) if profile else None
    text = element_text(el)
    if not text:
        return None
    text = re.sub(r"^(?:tác\s+giả|nguồn(?:\s+tin)?|tin\s*(?:và|,)\s*ảnh)\s*:\s*", "", text, flags=re.I)
    return text.strip() or None


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
    recognised in the page, else a best-effort generic extraction. Never raises on page content;
    ``Article.problems()`` says whether the result is an article at all. Bytes are decoded by
    ``content_type`` (the HTTP header), the page's declaration, or as windows-1258 when neither
    says and the page is not UTF-8.
    """
    soup = parse(html, content_type)
    text_html = str(soup) if profile is None else ""
    profile = _resolve(url, text_html, profile)
    art = Article(url=url, profile=profile.slug if profile else None)

    art.title = _title(soup, profile)
    art.category = _category(soup, profile)
    art.published, art.published_raw = _published(soup, url, profile, now)
    views_el = select_one(soup, profile.get("article.views")) if profile else None
    art.views_raw = element_text(views_el) or None
    art.views = parse_views(art.views_raw)

    lead_el = select_one(soup, profile.get("article.lead")) if profile else None
    lead = element_text(lead_el) or None
    body = select_one(soup, profile.get("article.body")) if profile else None
    if body is None:
        body = _generic_body(soup)
    if body is not None:
        if lead_el is not None and lead_el in body.descendants:
            lead_el.extract()
        _strip_body(body, profile)
        lines = _body_lines(body)
        if art.title and lines and lines[0] == art.title:
            lines = lines[1:]
        lines, author, source = split_byline(clean_lines(lines))
        if lead:
            lines = [lead, *lines]
        art.lead = lead or (lines[0] if lines else None)
        art.body_text = "\n\n".join(lines)
        art.body_html = sanitize(body, document_base(soup, url))
        art.author, art.source = author, source

    art.author = _field(soup, profile, "article.author") or art.author
    art.source = _field(soup, profile, "article.source") or art.source or dateline_source(art.lead)

    markers = tuple(profile.get("article.not_found_markers", ())) if profile else ()
    head = f"{art.title or ''}\n{art.body_text[:300]}".lower()
    if any(m.lower() in head for m in markers + DEFAULT_NOT_FOUND):
        art.body_text, art.body_html = "", ""
    return art
