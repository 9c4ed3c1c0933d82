"""Datasette plugin (loaded by ``archiver serve`` with ``--plugins-dir``): the SQL function
``archiver_fold`` on Datasette's connections, so that queries can fold text the way the archive's
search index does (``WHERE articles_fts MATCH archiver_fold(:q)``)."""

from datasette import hookimpl

from archiver.normalize.text import fold


@hookimpl
def prepare_connection(conn):  # type: ignore[no-untyped-def]
    conn.create_function("archiver_fold", 1, fold, deterministic=True)


@hookimpl
def asgi_wrapper(datasette):  # type: ignore[no-untyped-def]
    """The tables' search box folds what it is given as the CLI does (``Đảng`` finds ``dang`` in
    the folded index): ``_search`` values are folded before Datasette reads them."""
    from urllib.parse import parse_qsl, urlencode

    def wrap(app):  # type: ignore[no-untyped-def]
        async def folded(scope, receive, send):  # type: ignore[no-untyped-def]
            if scope.get("type") == "http" and b"_search" in scope.get("query_string", b""):
                pairs = parse_qsl(scope["query_string"].decode("utf-8", "replace"), keep_blank_values=True)
                pairs = [(k, fold(v) if k == "_search" or k.startswith("_search_") else v) for k, v in pairs]
                scope = dict(scope, query_string=urlencode(pairs).encode("ascii"))
            await app(scope, receive, send)

        return folded

    return wrap
