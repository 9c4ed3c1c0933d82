"""Datasette plugin (loaded by ``archiver serve``): the archived copy of a page.

``/-/capture/<id>`` replays a stored capture: the body as captured, with its content type, under
``Content-Security-Policy: sandbox`` so that the captured page's scripts cannot run in the
archive's origin (no cookies, no same-origin requests, no forms). Every ``capture_id`` cell links
there.
"""

from pathlib import Path

from datasette import hookimpl
from datasette.utils.asgi import Response
from markupsafe import Markup

CSP = "sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'"


async def capture(request, datasette):  # type: ignore[no-untyped-def]
    from archiver.capture.warc import WarcError, read_capture

    try:
        capture_id = int(request.url_vars["id"])
    except ValueError:
        return Response.text("not a capture id", status=400)
    db = next(d for name, d in datasette.databases.items() if not name.startswith("_"))
    rows = await db.execute(
        "SELECT c.target_uri, c.fetched_at, c.content_type, coalesce(o.warc_file, c.warc_file), "
        "coalesce(o.warc_offset, c.warc_offset) FROM captures c LEFT JOIN captures o ON o.record_id = c.refers_to "
        "WHERE c.id = ?",
        [capture_id],
    )
    row = rows.first()
    if row is None or row[3] is None:
        return Response.text(f"no stored capture {capture_id}", status=404)
    base = Path(db.path).parent
    path = Path(row[3]) if Path(row[3]).is_absolute() else base / row[3]
    try:
        stored = read_capture(path, int(row[4]))
    except WarcError as exc:
        return Response.text(str(exc), status=404)
    headers = {
        "Content-Security-Policy": CSP,
        "X-Content-Type-Options": "nosniff",
        "X-Archiver-Original-URL": row[0],
        "X-Archiver-Captured": row[1],
        "Referrer-Policy": "no-referrer",
    }
    return Response(stored.body, status=200, headers=headers, content_type=row[2] or "application/octet-stream")


@hookimpl
def register_routes():  # type: ignore[no-untyped-def]
    return [(r"^/-/capture/(?P<id>[^/]+)$", capture)]


@hookimpl
def render_cell(value, column, table, database, datasette):  # type: ignore[no-untyped-def]
    if column == "capture_id" and isinstance(value, int):
        return Markup(f'<a href="/-/capture/{value}">archived copy {value}</a>')
    if table == "captures" and column == "id" and isinstance(value, int):
        return Markup(f'<a href="/-/capture/{value}">{value}</a>')
    return None
