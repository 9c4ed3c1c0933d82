"""Get it back out: the ``archiver`` command. One verb, one command, each with an example.

Domain errors (``archiver.exceptions``) become a clean message and a non-zero exit here, at the
edge, never a traceback.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from archiver.exceptions import ArchiverError, UnknownPortal
from archiver.profiles import get_portal, portals

DEFAULT_DB = "data/archive.db"
EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def _fail(message: str, code: int = EXIT_FAILED) -> None:
    click.echo(f"archiver: {message}", err=True)
    sys.exit(code)


def _table(rows: list[dict[str, Any]], columns: list[str]) -> str:
    widths = {c: max(len(c), *(len(str(r.get(c) if r.get(c) is not None else "")) for r in rows)) for c in columns}
    lines = ["  ".join(c.ljust(widths[c]) for c in columns)]
    for r in rows:
        lines.append("  ".join(str(r.get(c) if r.get(c) is not None else "").ljust(widths[c]) for c in columns))
    return "\n".join(lines)


def _summary(rows: list[dict[str, Any]]) -> str:
    cols = ["portal", "status", "pages", "new", "updated", "unchanged", "duplicates", "not_articles", "errors"]
    out = _table(rows, cols)
    reasons = [f"  {r['portal']}: {r['reason']}" for r in rows if r.get("reason")]
    return out + ("\n" + "\n".join(reasons) if reasons else "")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="vn-portal-archiver")
def main() -> None:
    """Archive Vietnamese provincial government news portals into SQLite."""


@main.command()
@click.argument("portal_slugs", metavar="PORTAL...", nargs=-1, required=True)
@click.option("--db", default=DEFAULT_DB, show_default=True, help="Path of the SQLite archive.")
@click.option("--max-pages", type=click.IntRange(min=1), help="Stop each portal after this many pages.")
@click.option("--base-url", help="Fetch from this mirror origin instead of the portal (one portal only).")
@click.option("--log-level", default="WARNING", show_default=True,
              type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False))  # fmt: skip
def crawl(portal_slugs: tuple[str, ...], db: str, max_pages: int | None, base_url: str | None, log_level: str) -> None:
    """Crawl portals into the archive.

    Example: archiver crawl haugiang kontum --db data/archive.db --max-pages 200

    Exit codes: 0 every portal crawled, 1 some portal failed, 2 usage error.
    """
    try:
        profiles = [get_portal(slug) for slug in portal_slugs]
    except UnknownPortal as exc:
        _fail(str(exc), EXIT_USAGE)
    except ArchiverError as exc:
        _fail(str(exc), EXIT_USAGE)
    if base_url and len(profiles) != 1:
        raise click.UsageError("--base-url needs exactly one portal")
    from archiver.crawl import run_crawls

    try:
        rows = run_crawls(profiles, db, base_url=base_url, max_pages=max_pages, log_level=log_level.upper())
    except ArchiverError as exc:
        _fail(str(exc))
    click.echo(_summary(rows))
    if any(r.get("status") == "failed" for r in rows):
        sys.exit(EXIT_FAILED)


@main.command(name="portals")
def list_portals() -> None:
    """List the portal profiles: slug, name, old province, unit since 2025, CMS family.

    Example: archiver portals
    """
    try:
        known = portals()
    except ArchiverError as exc:
        _fail(str(exc), EXIT_USAGE)
    rows = [
        {"slug": p.slug, "name": p.name, "province": p.province, "new_unit": p.new_unit or "",
         "family": p.family, "enabled": "yes" if p.enabled else "no"}
        for p in known.values()
    ]  # fmt: skip
    click.echo(_table(rows, ["slug", "name", "province", "new_unit", "family", "enabled"]))


@main.command()
@click.option("--db", default=DEFAULT_DB, show_default=True, help="Path of the SQLite archive.")
def stats(db: str) -> None:
    """Per portal: articles, date range, view observations, last run.

    Example: archiver stats --db data/archive.db
    """
    from archiver.store import Archive

    try:
        with Archive(db, create=False) as archive:
            rows = archive.portal_stats()
    except ArchiverError as exc:
        _fail(str(exc))
    if not rows:
        click.echo(f"{db}: no portal archived yet")
        return
    click.echo(_table(rows, ["portal", "province", "articles", "first_published", "last_published",
                             "view_observations", "last_run", "last_status"]))  # fmt: skip


@main.command()
@click.option("--db", default=DEFAULT_DB, show_default=True, help="Path of the SQLite archive.")
@click.option("--site", type=click.Path(file_okay=False, path_type=Path), help="Directory of the demo site.")
def demo(db: str, site: Path | None) -> None:
    """Serve the bundled demo portal on 127.0.0.1, crawl it into the archive, show what it holds.

    Example: archiver demo --db data/archive.db
    """
    from archiver import demo as demo_site
    from archiver.crawl import run_crawls
    from archiver.store import Archive

    directory = site or demo_site.SITE_DIR
    if not (directory / "index.html").exists():
        _fail(f"{directory}: no demo site here (regenerate it: python -m archiver.demo data/demo)")
    server = demo_site.serve(directory)
    url = demo_site.server_url(server)
    try:
        shown = directory.resolve().relative_to(Path.cwd())
    except ValueError:
        shown = directory
    click.echo(f"Serving the demo portal from {shown} at {url}")
    try:
        # A local static mirror: no need to be gentle with it.
        fast = {"AUTOTHROTTLE_ENABLED": False, "DOWNLOAD_DELAY": 0, "CONCURRENT_REQUESTS_PER_DOMAIN": 8}
        rows = run_crawls([get_portal("demo")], db, base_url=url, overrides=fast)
    finally:
        server.shutdown()
    click.echo(_summary(rows))
    with Archive(db, create=False) as archive:
        total = archive.count("articles")
        click.echo(f"\nThe archive {db} holds {total} demo articles, "
                   f"{archive.count('article_revisions')} revisions, {archive.count('view_counts')} view observations.")  # fmt: skip
        q1 = "SELECT category, count(*) AS articles FROM articles WHERE portal='demo' GROUP BY category ORDER BY 2 DESC"
        q2 = ("SELECT substr(published,1,10) AS published, views, title FROM articles WHERE portal='demo' "
              "AND views IS NOT NULL ORDER BY views DESC LIMIT 3")  # fmt: skip
        for q in (q1, q2):
            click.echo(f'\n$ sqlite3 {db} "{q}"')
            result = list(archive.query(q))
            click.echo(_table(result, list(result[0]) if result else []))
    if any(r.get("status") == "failed" for r in rows):
        sys.exit(EXIT_FAILED)


if __name__ == "__main__":
    main()
