"""Datasette plugin (loaded by ``archiver serve``): the reading room.

* ``/`` opens on ``article_index`` (the articles with their provinces, to browse and facet);
* ``/-/article/<id>`` an article as a reader sees it: title, meta line, the sanitised body with
  its images and documents from the archive, the archived copy beside the live URL, the
  documents, the view-count chart and the revisions, each with a readable diff;
* ``/-/article/<id>/diff/<n>`` revision n against the one before it;
* ``/-/search`` the CLI's search (its query language, filters, ranking and snippets);
* the SQL function ``archiver_search(q, portal, province, since, until)`` (JSON hits, the same
  search) behind the canned query ``search``; table cells link titles and ids to the reading
  room and URLs to the archived copy as well as the live page.

What is shown is built by ``archiver.reading`` (pure, tested without a server); this file only
renders it.
"""

import json

from datasette import hookimpl
from datasette.utils.asgi import Response
from markupsafe import Markup, escape


def _db(datasette):  # type: ignore[no-untyped-def]
    return next(d for name, d in datasette.databases.items() if not name.startswith("_"))


async def _page(datasette, request, template, context, status=200):  # type: ignore[no-untyped-def]
    body = await datasette.render_template(template, context, request=request)
    return Response.html(body, status=status)


def _trusted(change):  # type: ignore[no-untyped-def]
    """A revision's diffs are HTML built by archiver.reading (page text escaped there): not escaped again."""
    change["body_diff"] = Markup(change["body_diff"])
    for f in change["fields"]:
        f["diff"] = Markup(f["diff"])


async def home(request, datasette):  # type: ignore[no-untyped-def]
    return Response.redirect(datasette.urls.table(_db(datasette).name, "article_index"))


async def article(request, datasette):  # type: ignore[no-untyped-def]
    from archiver import reading

    db = _db(datasette)
    ref = request.url_vars["id"]
    page = await db.execute_fn(lambda conn: reading.article_page(conn, ref))
    if page is None:
        return await _page(datasette, request, "archiver_missing.html", {"what": f"no article {ref}"}, 404)
    for key in ("body", "views_chart"):
        page[key] = Markup(page[key])
    for change in page["changes"]:
        _trusted(change)
    page["database"] = db.name
    return await _page(datasette, request, "archiver_article.html", page)


async def diff(request, datasette):  # type: ignore[no-untyped-def]
    from archiver import reading

    db = _db(datasette)
    ref = request.url_vars["id"]
    try:
        to = int(request.url_vars["n"])
    except ValueError:
        to = -1
    page = await db.execute_fn(lambda conn: reading.diff_page(conn, ref, to))
    if page is None:
        return await _page(datasette, request, "archiver_missing.html",
                           {"what": f"no revision {request.url_vars['n']} after another of article {ref}"}, 404)  # fmt: skip
    _trusted(page["change"])
    return await _page(datasette, request, "archiver_diff.html", page)


async def search(request, datasette):  # type: ignore[no-untyped-def]
    from archiver import reading
    from archiver.store.queries import QueryError

    db = _db(datasette)
    args = {k: (request.args.get(k) or "").strip() for k in ("q", "portal", "province", "since", "until")}
    f = reading.search_filters(args["portal"], args["province"], args["since"], args["until"])
    error = None
    try:
        hits = await db.execute_fn(lambda conn: reading.search_page(conn, args["q"], f))
    except QueryError as exc:
        hits, error = [], str(exc)
    for h in hits:
        h["snippet_html"] = Markup(h["snippet_html"])
    portals = await db.execute("SELECT slug, name FROM portals ORDER BY name")
    if request.args.get("_format") == "json":
        return Response.json({"query": args, "error": error, "hits": [
            {k: v for k, v in h.items() if k != "snippet_html"} for h in hits]}, status=400 if error else 200)  # fmt: skip
    context = {"args": args, "hits": hits, "error": error, "portals": [dict(r) for r in portals.rows],
               "database": db.name}  # fmt: skip
    return await _page(datasette, request, "archiver_search.html", context, 400 if error else 200)


@hookimpl
def register_routes():  # type: ignore[no-untyped-def]
    return [
        (r"^/$", home),
        (r"^/-/article/(?P<id>[^/]+)$", article),
        (r"^/-/article/(?P<id>[^/]+)/diff/(?P<n>[^/]+)$", diff),
        (r"^/-/search$", search),
    ]


@hookimpl
def prepare_connection(conn):  # type: ignore[no-untyped-def]
    from archiver import reading

    def archiver_search(q, portal=None, province=None, since=None, until=None):  # type: ignore[no-untyped-def]
        return json.dumps(reading.search_json(conn, q, portal, province, since, until), ensure_ascii=False)

    for n in range(1, 6):
        conn.create_function("archiver_search", n, archiver_search)


@hookimpl
def menu_links(datasette):  # type: ignore[no-untyped-def]
    return [{"href": "/-/search", "label": "Search the archive"},
            {"href": datasette.urls.table(_db(datasette).name, "article_index"), "label": "Browse articles"}]  # fmt: skip


@hookimpl
def render_cell(row, value, column, table, database, datasette):  # type: ignore[no-untyped-def]
    """Titles and ids open the reading room; a URL gets its archived copy beside the live link;
    a search snippet shows its hits marked."""
    keys = row.keys() if hasattr(row, "keys") else []
    if column == "snippet" and isinstance(value, str):
        return Markup(str(escape(value)).replace("&lt;b&gt;", "<mark>").replace("&lt;/b&gt;", "</mark>"))
    if column == "title" and isinstance(value, str) and "id" in keys and row["id"] and table != "attachments":
        return Markup(f'<a class="reading" href="/-/article/{escape(row["id"])}">{escape(value)}</a>')
    if column == "id" and table in ("articles", "article_index") and isinstance(value, str):
        return Markup(f'<a href="/-/article/{escape(value)}">{escape(value)}</a>')
    if column == "url" and isinstance(value, str) and table in ("articles", "article_index") and "capture_id" in keys:
        archived = (f'<a class="archived" href="/-/capture/{row["capture_id"]}">archived copy</a> · '
                    if row["capture_id"] else "")  # fmt: skip
        return Markup(f'{archived}<a class="live" href="{escape(value)}" title="{escape(value)}" '
                      f'rel="noopener noreferrer nofollow">live ↗</a>')  # fmt: skip
    return None


@hookimpl
def extra_css_urls():  # type: ignore[no-untyped-def]
    return ["/-/reading-room.css"]


async def css(request, datasette):  # type: ignore[no-untyped-def]
    from pathlib import Path

    text = (Path(__file__).parent / "reading-room.css").read_text(encoding="utf-8")
    return Response(text, content_type="text/css; charset=utf-8")


@hookimpl(specname="register_routes")
def register_css_route():  # type: ignore[no-untyped-def]
    return [(r"^/-/reading-room\.css$", css)]
