"""Datasette plugin (loaded by ``archiver serve`` with ``--plugins-dir``): the SQL function
``archiver_fold`` on Datasette's connections, so that queries can fold text the way the archive's
search index does (``WHERE articles_fts MATCH archiver_fold(:q)``)."""

from datasette import hookimpl

from archiver.normalize.text import fold


@hookimpl
def prepare_connection(conn):  # type: ignore[no-untyped-def]
    conn.create_function("archiver_fold", 1, fold, deterministic=True)
