"""The reading room: what an article page, a revision diff and a search result show.

Pure functions over the archive's connection (the SQL is in ``archiver.store.queries``), with
no Datasette in them: the Datasette plugin (``archiver/datasette_plugins/archiver_reading.py``)
only renders what these return, so every part is tested without a server.

Nothing on these pages points at the live portal where the archive holds a copy: an article's
archived copy, its documents and images link to ``/-/capture/<id>`` (the stored bytes, served
sandboxed); the live URL is shown beside it, marked as such, because it is the link that dies.
An image the archive did not fetch is not loaded from the portal (the reading room never makes
a visitor's browser call a portal); its place and its caption are shown with the live link.
"""

from __future__ import annotations

import difflib
import html
import re
import sqlite3
from datetime import datetime
from typing import Any

import nh3

from archiver.store.queries import (
    Filters,
    QueryError,
    archived_copies,
    article_attachments,
    captures_of,
    find_article,
    fts_query,
    history,
    portal_row,
    search,
    snippet,
)

CAPTURE_URL = "/-/capture/{}"
_MARK = ("\x02", "\x03")  # snippet marks, replaced by <mark> once the text is escaped

BODY_TAGS = {"p", "br", "b", "strong", "i", "em", "u", "s", "sub", "sup", "blockquote", "ul", "ol", "li", "h2", "h3",
             "h4", "h5", "h6", "table", "thead", "tbody", "tfoot", "tr", "th", "td", "caption", "figure",
             "figcaption", "img", "a", "span", "div", "hr", "pre", "code"}  # fmt: skip
BODY_ATTRS = {"a": {"href", "title", "class"}, "img": {"src", "alt", "title", "width", "height"},
              "td": {"colspan", "rowspan"}, "th": {"colspan", "rowspan"}, "span": {"class"}, "figure": {"class"}}  # fmt: skip


# --- the body -------------------------------------------------------------------------------------
def render_body(body_html: str | None, archived: dict[str, int], documents: dict[str, int]) -> str:
    """The stored body, sanitised again (an allow-list, by ammonia), with each image and document
    pointing at the archive's copy: ``archived`` maps URLs to captures, ``documents`` maps
    document URLs to their capture. An image with no copy becomes a labelled placeholder with
    the live link; a document link with no copy keeps its live URL, marked ``live``."""
    if not body_html:
        return ""

    def image(m: re.Match[str]) -> str:
        tag = m.group(0)
        src = _attr(tag, "src")
        alt = _attr(tag, "alt") or ""
        if src and src in archived:
            return f'<img src="{CAPTURE_URL.format(archived[src])}" alt="{html.escape(alt)}">'
        live = f' <a class="live" href="{html.escape(src)}">live image</a>' if src else ""
        return (f'<span class="img-missing">[image not archived{": " + html.escape(alt) if alt else ""}]'
                f"{live}</span>")  # fmt: skip

    def link(m: re.Match[str]) -> str:
        tag = m.group(0)
        href = _attr(tag, "href")
        copy = (documents.get(href) or archived.get(href)) if href else None
        if copy:
            return f'<a class="archived" href="{CAPTURE_URL.format(copy)}" title="archived copy of {html.escape(href or "")}">'
        return f'<a class="live" href="{html.escape(href)}">' if href else "<a>"

    text = re.sub(r"<img\b[^>]*>", image, body_html, flags=re.I)
    text = re.sub(r"<a\b[^>]*>", link, text, flags=re.I)
    return nh3.clean(text, tags=BODY_TAGS, attributes=BODY_ATTRS, url_schemes={"http", "https"},
                     link_rel="noopener noreferrer nofollow", strip_comments=True)  # fmt: skip


def _attr(tag: str, name: str) -> str | None:
    m = re.search(rf'\b{name}\s*=\s*(?:"([^"]*)"|\'([^\']*)\'|([^\s>]+))', tag, flags=re.I)
    if not m:
        return None
    return html.unescape(next(g for g in m.groups() if g is not None))


def image_urls(body_html: str | None) -> list[str]:
    return [u for t in re.findall(r"<img\b[^>]*>", body_html or "", flags=re.I) if (u := _attr(t, "src"))]


def link_urls(body_html: str | None) -> list[str]:
    return [u for t in re.findall(r"<a\b[^>]*>", body_html or "", flags=re.I) if (u := _attr(t, "href"))]


# --- view counts ----------------------------------------------------------------------------------
def views_svg(series: list[dict[str, Any]], width: int = 640, height: int = 180) -> str:
    """The view-count series as an inline SVG line chart (no script, no network): one point per
    observation, its date and count in a tooltip; the first and last counts and dates labelled."""
    points = [(s["seen_at"], int(s["views"])) for s in series if s.get("views") is not None and s.get("seen_at")]
    if not points:
        return ""
    left, right, top, bottom = 56, 16, 16, 34
    times = [_seconds(t) for t, _ in points]
    t0, t1 = min(times), max(times)
    v0, v1 = min(v for _, v in points), max(v for _, v in points)
    lo, hi = (v0 - 1, v1 + 1) if v0 == v1 else (v0, v1)

    def x(t: float) -> float:
        return left + (width - left - right) * ((t - t0) / (t1 - t0) if t1 > t0 else 0.5)

    def y(v: int) -> float:
        return top + (height - top - bottom) * (1 - (v - lo) / (hi - lo))

    xy = [(x(t), y(v)) for t, (_, v) in zip(times, points, strict=True)]
    out = [f'<svg class="views-chart" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" role="img" aria-label="View count over time">',
           f'<line x1="{left}" y1="{height - bottom}" x2="{width - right}" y2="{height - bottom}" stroke="#999"/>',
           f'<line x1="{left}" y1="{top}" x2="{left}" y2="{height - bottom}" stroke="#999"/>',
           f'<text x="{left - 6}" y="{y(v1) + 4:.1f}" text-anchor="end" font-size="11">{v1:,}</text>']  # fmt: skip
    if v0 != v1:
        out.append(f'<text x="{left - 6}" y="{y(v0) + 4:.1f}" text-anchor="end" font-size="11">{v0:,}</text>')
    out.append(f'<text x="{left}" y="{height - 12}" font-size="11">{html.escape(points[0][0][:10])}</text>')
    if len(points) > 1:
        out.append(f'<text x="{width - right}" y="{height - 12}" text-anchor="end" font-size="11">'
                   f"{html.escape(points[-1][0][:10])}</text>")  # fmt: skip
    if len(xy) > 1:
        path = " ".join(f"{px:.1f},{py:.1f}" for px, py in xy)
        out.append(f'<polyline fill="none" stroke="#1f6feb" stroke-width="2" points="{path}"/>')
    for (px, py), (t, v) in zip(xy, points, strict=True):
        out.append(f'<circle cx="{px:.1f}" cy="{py:.1f}" r="3.5" fill="#1f6feb"><title>{html.escape(t)}: '
                   f"{v:,} views</title></circle>")  # fmt: skip
    out.append("</svg>")
    return "".join(out)


def _seconds(stamp: str) -> float:
    try:
        return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return 0.0


# --- revisions --------------------------------------------------------------------------------------
_TOKEN = re.compile(r"\s+|\w+|[^\w\s]", re.UNICODE)
DIFF_FIELDS = ("title", "category", "published", "author", "source")


def word_diff(old: str | None, new: str | None) -> str:
    """HTML of ``new`` against ``old``, paragraph by paragraph, words removed in ``<del>`` and
    added in ``<ins>``; unchanged paragraphs far from a change are folded into one line."""
    a = [p for p in (old or "").split("\n\n")]
    b = [p for p in (new or "").split("\n\n")]
    out: list[str] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            same = a[i1:i2]
            if len(same) > 2:
                out.append(f"<p>{html.escape(same[0])}</p>")
                out.append(f'<p class="folded">… {len(same) - 2} unchanged paragraph(s) …</p>')
                out.append(f"<p>{html.escape(same[-1])}</p>")
            else:
                out += [f"<p>{html.escape(p)}</p>" for p in same]
        elif op == "delete":
            out += [f"<p><del>{html.escape(p)}</del></p>" for p in a[i1:i2]]
        elif op == "insert":
            out += [f"<p><ins>{html.escape(p)}</ins></p>" for p in b[j1:j2]]
        else:
            out.append(f"<p>{_words(' '.join(a[i1:i2]), ' '.join(b[j1:j2]))}</p>")
    return "\n".join(out)


def _words(old: str, new: str) -> str:
    x, y = _TOKEN.findall(old), _TOKEN.findall(new)
    parts = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, x, y, autojunk=False).get_opcodes():
        if op == "equal":
            parts.append(html.escape("".join(x[i1:i2])))
        if op in ("delete", "replace"):
            parts.append(f"<del>{html.escape(''.join(x[i1:i2]))}</del>")
        if op in ("insert", "replace"):
            parts.append(f"<ins>{html.escape(''.join(y[j1:j2]))}</ins>")
    return "".join(parts)


def revision_changes(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """What changed from revision ``old`` to ``new``: the fields (before, after) and the body diff."""
    fields = [(f, old.get(f), new.get(f)) for f in DIFF_FIELDS if old.get(f) != new.get(f)]
    same_body = (old.get("body_text") or "") == (new.get("body_text") or "")
    return {
        "from": old["revision"], "to": new["revision"], "seen_at": new["seen_at"], "reason": new.get("reason"),
        "fields": [{"field": f, "before": b, "after": a, "diff": _words(b or "", a or "")} for f, b, a in fields],
        "body_changed": not same_body,
        "body_diff": "" if same_body else word_diff(old.get("body_text"), new.get("body_text")),
    }  # fmt: skip


# --- pages -------------------------------------------------------------------------------------------
def article_page(conn: sqlite3.Connection, ref: str) -> dict[str, Any] | None:
    """Everything the article page shows, or None when the archive has no such article (``ref``:
    its id, canonical URL or any URL it was reached under)."""
    art = find_article(conn, ref)
    if art is None:
        return None
    portal = portal_row(conn, art["portal"]) or {"slug": art["portal"], "name": art["portal"]}
    revisions, views = history(conn, art["id"])
    docs = article_attachments(conn, art["id"])
    documents = {d["url"]: d["capture_id"] for d in docs if d.get("capture_id")}
    images = image_urls(art["body_html"])
    archived = archived_copies(conn, images + link_urls(art["body_html"]))
    captures = captures_of(conn, art["id"])
    changes = [revision_changes(revisions[i - 1], revisions[i]) for i in range(1, len(revisions))]
    return {
        "article": art,
        "portal": portal,
        "body": render_body(art["body_html"], archived, documents),
        "archived_copy": CAPTURE_URL.format(art["capture_id"]) if art.get("capture_id") else None,
        "captures": captures,
        "attachments": [dict(d, archived_copy=CAPTURE_URL.format(d["capture_id"]) if d.get("capture_id") else None)
                        for d in docs],  # fmt: skip
        "views": views,
        "views_chart": views_svg(views),
        "revisions": revisions,
        "changes": changes,
        "images_archived": sum(1 for u in images if u in archived),
        "images": len(images),
    }


def diff_page(conn: sqlite3.Connection, ref: str, to: int) -> dict[str, Any] | None:
    """Revision ``to`` of an article against the one before it (None: no such article or revision)."""
    art = find_article(conn, ref)
    if art is None:
        return None
    revisions, _ = history(conn, art["id"])
    by_number = {r["revision"]: r for r in revisions}
    if to not in by_number or to - 1 not in by_number:
        return None
    return {"article": art, "change": revision_changes(by_number[to - 1], by_number[to]),
            "old": by_number[to - 1], "new": by_number[to], "revisions": len(revisions)}  # fmt: skip


def search_filters(portal: str | None, province: str | None, since: str | None, until: str | None) -> Filters:
    """The search filters of a form or a canned query: empty is none; portals by slug, separated
    by spaces or commas."""
    return Filters(portals=(portal or "").replace(",", " ").split(), province=province or None,
                   since=since or None, until=until or None)  # fmt: skip


def search_page(conn: sqlite3.Connection, query: str, filters: Filters, limit: int = 50) -> list[dict[str, Any]]:
    """The CLI's search (same query language, filters, ranking, snippets) as rows for a page:
    each hit with its rank order, portal, provinces and a snippet whose hits are ``<mark>``ed
    (HTML, escaped). Raises ``QueryError`` for a query or filter that cannot run."""
    if not query.strip():
        return []
    hits = search(conn, query, filters, limit)
    _, words = fts_query(query)
    portals: dict[str, dict[str, Any]] = {}
    out = []
    for n, hit in enumerate(hits, 1):
        p = portals.setdefault(hit["portal"], portal_row(conn, hit["portal"]) or {})
        text = snippet(hit["body_text"] or hit["lead"] or "", words, mark=_MARK)
        marked = html.escape(text).replace(_MARK[0], "<mark>").replace(_MARK[1], "</mark>")
        out.append({"n": n, "id": hit["id"], "title": hit["title"], "url": hit["url"], "portal": hit["portal"],
                    "portal_name": p.get("name"), "province": p.get("province"), "new_unit": p.get("new_unit"),
                    "published": hit["published"], "rank": hit["rank"], "attachment": hit.get("attachment"),
                    "snippet_html": marked, "snippet": text.replace(_MARK[0], "<b>").replace(_MARK[1], "</b>")})  # fmt: skip
    return out


def search_json(conn: sqlite3.Connection, query: str | None, portal: str | None = None, province: str | None = None,
                since: str | None = None, until: str | None = None, limit: int | None = 100) -> list[dict[str, Any]]:  # fmt: skip
    """The hits of ``search_page`` for the SQL function ``archiver_search`` (Datasette's canned
    query): empty filters are no filters; a query that cannot run gives one row saying why."""
    try:
        hits = search_page(conn, query or "", search_filters(portal, province, since, until), int(limit or 100))
    except QueryError as exc:
        return [{"n": 0, "error": str(exc)}]
    return [{k: v for k, v in h.items() if k != "snippet_html"} for h in hits]
