"""Get it back out: the ``archiver`` command. One verb, one command, each with an example.

Domain errors (``archiver.exceptions``) become a clean message and a non-zero exit here, at the
edge, never a traceback.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, NoReturn

import click

from archiver.exceptions import ArchiverError, UnknownPortal
from archiver.profiles import get_portal, portals

DEFAULT_DB = "data/archive.db"
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_LOCKED = 0, 1, 2, 75


def _fail(message: str, code: int = EXIT_FAILED) -> NoReturn:
    click.echo(f"archiver: {message}", err=True)
    sys.exit(code)


def _table(rows: list[dict[str, Any]], columns: list[str]) -> str:
    widths = {c: max(len(c), *(len(str(r.get(c) if r.get(c) is not None else "")) for r in rows)) for c in columns}
    lines = ["  ".join(c.ljust(widths[c]) for c in columns)]
    for r in rows:
        lines.append("  ".join(str(r.get(c) if r.get(c) is not None else "").ljust(widths[c]) for c in columns))
    return "\n".join(lines)


def _summary(rows: list[dict[str, Any]]) -> str:
    for r in rows:
        r["duration_s"] = _duration(r)
    cols = [
        "portal",
        "status",
        "mode",
        "pages",
        "new",
        "updated",
        "unchanged",
        "stored",
        "store_errors",
        "duplicates",
        "not_articles",
        "errors",
        "gone",
        "duration_s",
    ]
    out = _table(rows, cols)
    reasons = [f"  {r['portal']}: {r['reason']}" for r in rows if r.get("reason")]
    return out + ("\n" + "\n".join(reasons) if reasons else "")


class ArchiverGroup(click.Group):
    """Click's group, with usage errors as one line on stderr (cron mails it; no usage block)."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        kwargs["standalone_mode"] = False
        try:
            rv = super().main(*args, **kwargs)
        except click.UsageError as exc:
            command = exc.ctx.command_path if exc.ctx is not None else "archiver"
            click.echo(f"archiver: {exc.format_message()} (see: {command} --help)", err=True)
            sys.exit(exc.exit_code)
        except click.ClickException as exc:
            click.echo(f"archiver: {exc.format_message()}", err=True)
            sys.exit(exc.exit_code)
        except click.Abort:
            click.echo("archiver: aborted", err=True)
            sys.exit(EXIT_FAILED)
        sys.exit(rv if isinstance(rv, int) else EXIT_OK)


@click.group(cls=ArchiverGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="vn-portal-archiver")
def main() -> None:
    """Archive Vietnamese provincial government news portals into SQLite."""


DB_OPTION = click.option("--db", default=DEFAULT_DB, show_default=True, envvar="ARCHIVER_DB", show_envvar=True,
                         help="Path of the SQLite archive.")  # fmt: skip


def _check_base_url(base_url: str) -> str:
    from archiver.profiles import valid_origin

    if not valid_origin(base_url.rstrip("/")):
        raise click.UsageError(f"--base-url {base_url!r}: expected an http:// or https:// origin, "
                               "e.g. http://127.0.0.1:8000")  # fmt: skip
    return base_url.rstrip("/")


def _check_writable_file(option: str, path: str) -> None:
    """A file the command will write: its directory must exist or be creatable, and hold files."""
    target = Path(path)
    if target.is_dir():
        raise click.UsageError(f"{option} {path}: is a directory")
    for parent in target.parents:
        if parent.exists():
            if not parent.is_dir():
                raise click.UsageError(f"{option} {path}: {parent} is not a directory")
            break
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(target, "a", encoding="utf-8"):
            pass
    except OSError as exc:
        raise click.UsageError(f"{option} {path}: cannot write there ({exc.strerror or exc})") from None


@main.command()
@click.argument("portal_slugs", metavar="[PORTAL|URL]...", nargs=-1)
@click.option("--all", "crawl_all", is_flag=True, help="Crawl every enabled portal (registry and profiles).")
@click.option("--province", help="Crawl the enabled portals of this old province, or of every old province of "
                                 "this new unit (\"Cần Thơ\": Cần Thơ, Sóc Trăng, Hậu Giang).")  # fmt: skip
@DB_OPTION
@click.option("--full", is_flag=True, help="Walk every listing page and fetch every article again.")
@click.option("--max-pages", type=click.IntRange(min=1), help="Stop each portal after this many pages.")
@click.option("--base-url", help="Fetch from this mirror origin instead of the portal (one portal only).")
@click.option("--allow-private", is_flag=True,
              help="Allow hosts on private or loopback addresses (a portal mirrored on 127.0.0.1).")  # fmt: skip
@click.option("--source", type=click.Choice(["live", "wayback", "auto"]), default=None,
              help="live (default; a portal recorded gone is taken from the Wayback Machine), wayback (its "
                   "captures in the Wayback Machine), auto (live, then Wayback captures of what live lacks).")  # fmt: skip
@click.option("--from", "since", metavar="YYYY[MM[DD]]", help="Wayback: captures from this day on.")
@click.option("--to", "until", metavar="YYYY[MM[DD]]", help="Wayback: captures up to this day.")
@click.option("-s", "--set", "set_pairs", multiple=True, metavar="NAME=VALUE", help="Override a setting (repeatable).")
@click.option("--log-file", type=click.Path(dir_okay=False), help="Write the log here instead of stderr.")
@click.option("--log-level", default="WARNING", show_default=True,
              type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False))  # fmt: skip
@click.option("-q", "--quiet", is_flag=True,
              help="Print nothing when every portal is ok; the summary (and the log) when not. For cron.")  # fmt: skip
@click.option("--redis", "redis_url", metavar="redis://HOST:PORT/DB",
              help="Be one worker of a crawl over Redis: the queue is shared, `archiver ingest --redis` writes.")  # fmt: skip
@click.option("--worker", "worker_name", metavar="NAME",
              help="With --redis: this worker's name (its WARC directory; default host-pid).")  # fmt: skip
def crawl(portal_slugs: tuple[str, ...], crawl_all: bool, province: str | None, db: str, full: bool,
          max_pages: int | None, base_url: str | None, allow_private: bool, source: str | None, since: str | None,
          until: str | None, set_pairs: tuple[str, ...], log_file: str | None, log_level: str,
          quiet: bool, redis_url: str | None, worker_name: str | None) -> None:  # fmt: skip
    """Crawl portals into the archive, incrementally unless --full. A portal is named by its
    slug, or given by its address (http://…): a portal with no profile is crawled by discovery
    (sitemaps, feeds, menus, listings and their pagination found on the site).

    Example: archiver crawl --all --db data/archive.db --log-file data/logs/crawl.log --quiet

    With --redis the process is one worker of a crawl over many processes and machines: it
    takes its requests from the portal run's shared queue, writes its own WARC files and sends
    the rest to the writer (`archiver ingest --redis`); the writer records the runs.

    Example: archiver crawl demo --redis redis://127.0.0.1:6379/0 --base-url http://127.0.0.1:8000 --allow-private

    Exit codes: 0 every portal ok (a worker: it did its part), 1 some portal failed or degraded
    (or an article could not be stored; a worker: Redis cannot be reached), 2 usage error, 75
    another crawl holds the archive's lock.
    """
    import tempfile

    from archiver.lock import ArchiveLock, LockHeld

    chosen = sum(bool(x) for x in (crawl_all, portal_slugs, province))
    if chosen > 1:
        raise click.UsageError("give portals, --all or --province, not more than one")
    if not chosen:
        raise click.UsageError("name at least one portal (a slug or a URL), or --all, or --province")
    if Path(db).is_dir():
        raise click.UsageError(f"--db {db}: is a directory, not an archive file")
    try:
        known = portals()
        if crawl_all:
            profiles = [p for p in known.values() if p.enabled]
        elif province:
            from archiver.registry import of_province

            profiles = [p for p in of_province(province, known) if p.enabled]
            if not of_province(province, known):
                raise click.UsageError(f"--province {province!r}: no portal of that province or unit in the registry")
        else:
            profiles = [_portal_or_address(s, known) for s in portal_slugs]
    except ArchiverError as exc:
        _fail(str(exc), EXIT_USAGE)
    if base_url is not None:
        if len(profiles) != 1:
            raise click.UsageError("--base-url needs exactly one portal")
        base_url = _check_base_url(base_url)
    if not profiles:
        click.echo("no enabled portal to crawl", err=True)
        return
    from archiver.crawl import parse_overrides, run_crawls

    try:
        overrides = parse_overrides(set_pairs)
    except ArchiverError as exc:
        _fail(str(exc), EXIT_USAGE)
    if allow_private:
        overrides["ARCHIVER_ALLOW_PRIVATE"] = True
    from archiver.wayback import stamp

    for option, value, name in (("--from", since, "ARCHIVER_WAYBACK_FROM"), ("--to", until, "ARCHIVER_WAYBACK_TO")):
        if value:
            try:
                overrides[name] = stamp(value)
            except ValueError as exc:
                raise click.UsageError(f"{option} {exc}") from None
    if (since or until) and source not in ("wayback", "auto"):
        raise click.UsageError("--from and --to need --source wayback or auto")
    gone = _seen_gone(db) if source is None else set()
    sources = {p.slug: source or ("wayback" if p.get("status") == "gone" or p.slug in gone else "live")
               for p in profiles}  # fmt: skip
    if log_file:
        _check_writable_file("--log-file", log_file)
    if worker_name and not redis_url:
        raise click.UsageError("--worker needs --redis")
    if redis_url:
        _crawl_worker(profiles, db, redis_url, worker_name, list(portal_slugs), base_url=base_url,
                      max_pages=max_pages, log_level=log_level.upper(), overrides=overrides, full=full,
                      log_file=log_file, source=source, quiet=quiet)  # fmt: skip
        return
    captured = None
    if quiet and not log_file:
        # The log is kept aside and shown only if a portal is not ok: cron mails any output.
        captured = tempfile.NamedTemporaryFile(prefix="archiver-log-", suffix=".log", delete=False)
        captured.close()
    try:
        with ArchiveLock(db):
            rows = run_crawls(profiles, db, base_url=base_url, max_pages=max_pages, log_level=log_level.upper(),
                              overrides=overrides, full=full, sources=sources,
                              log_file=log_file or (captured.name if captured else None))  # fmt: skip
    except LockHeld as exc:
        _fail(str(exc), EXIT_LOCKED)
    except ArchiverError as exc:
        _fail(str(exc))
    finally:
        kept = Path(captured.name).read_text(encoding="utf-8", errors="replace") if captured else ""
        if captured:
            Path(captured.name).unlink(missing_ok=True)
    all_ok = all(r.get("status") == "ok" for r in rows)
    summary = _summary(rows)
    if not (quiet and all_ok):
        if kept.strip():
            click.echo(kept.rstrip()[-20_000:], err=True)
        click.echo(summary)
    if log_file:
        try:
            with open(log_file, "a", encoding="utf-8") as fh:
                fh.write("run summary\n" + summary + "\n")
        except OSError as exc:
            click.echo(f"archiver: --log-file {log_file}: cannot append the summary ({exc.strerror})", err=True)
    if not all_ok:
        sys.exit(EXIT_FAILED)


def _crawl_worker(profiles: list[Any], db: str, redis_url: str, worker: str | None, args: list[str], *,
                  source: str | None, quiet: bool, **kw: Any) -> None:  # fmt: skip
    """``crawl --redis``: this process is one worker of the portals' cluster runs."""
    from archiver.cluster import check_url, check_worker_name
    from archiver.worker import run_workers

    try:
        check_url(redis_url)
        if worker:
            check_worker_name(worker)
    except ArchiverError as exc:
        _fail(str(exc), EXIT_USAGE)
    if source in ("wayback", "auto"):
        raise click.UsageError("--source wayback/auto runs on one machine: the Wayback Machine's limits are per client")
    try:
        rows = run_workers(profiles, db, redis_url, args=args or None, worker=worker, **kw)
    except ArchiverError as exc:
        _fail(str(exc))
    failed = [r for r in rows if r["status"] == "failed"]
    if not quiet or failed:
        for r in rows:
            click.echo(f"{r['portal']}: worker {r['worker']} {'opened' if r['opened'] else 'joined'} cluster run "
                       f"{r['run']}: {r['pages']} pages, {r['articles']} articles sent, {r['errors']} errors, "
                       f"{r['requeued']} requeued; {r['status']} ({r['reason'] or 'finished'})")  # fmt: skip
    if failed:
        sys.exit(EXIT_FAILED)


@main.command()
@DB_OPTION
@click.option("--redis", "redis_url", required=True, metavar="redis://HOST:PORT/DB", help="The cluster's Redis.")
@click.option("--exit-when-idle", type=click.FloatRange(min=0), metavar="SECONDS",
              help="End once no message has come, no run is open and no worker is alive for this long.")  # fmt: skip
@click.option("-s", "--set", "set_pairs", multiple=True, metavar="NAME=VALUE", help="Override a setting (repeatable).")
@click.option("--log-level", default="WARNING", show_default=True,
              type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False))  # fmt: skip
def ingest(db: str, redis_url: str, exit_when_idle: float | None, set_pairs: tuple[str, ...], log_level: str) -> None:
    """The one writer of a crawl over Redis: applies what the workers send to the archive, in
    order and exactly once (a restart goes on where the last commit ended), records each portal's
    run and closes it once every worker has left it; publishes what the archive holds for the
    workers' incremental runs. Holds the archive's lock while it runs.

    Example: archiver ingest --redis redis://127.0.0.1:6379/0 --db data/archive.db --exit-when-idle 30

    Exit codes: 0 stopped (SIGTERM) or idle, 1 Redis cannot be reached or storing failed, 2 usage
    error, 75 another process holds the archive's lock.
    """
    import logging

    from archiver.cluster import check_url
    from archiver.crawl import make_settings, parse_overrides
    from archiver.ingester import ClusterIngester
    from archiver.lock import ArchiveLock, LockHeld

    logging.basicConfig(level=log_level.upper(), format="%(asctime)s [%(name)s] %(levelname)s: %(message)s")
    if Path(db).is_dir():
        raise click.UsageError(f"--db {db}: is a directory, not an archive file")
    try:
        check_url(redis_url)
        settings = make_settings(db, overrides=parse_overrides(set_pairs))
    except ArchiverError as exc:
        _fail(str(exc), EXIT_USAGE)
    try:
        with ArchiveLock(db):
            writer = ClusterIngester(db, redis_url, batch_size=max(50, settings.getint("ARCHIVER_BATCH_SIZE", 50)),
                                     revisit_days=settings.getint("ARCHIVER_REVISIT_DAYS", 14),
                                     retry_for=settings.getfloat("ARCHIVER_STORE_RETRY_SECONDS", 300.0),
                                     cache_mb=settings.getint("ARCHIVER_CACHE_MB", 256))  # fmt: skip
            code = writer.run(exit_when_idle)
    except LockHeld as exc:
        _fail(str(exc), EXIT_LOCKED)
    except ArchiverError as exc:
        _fail(str(exc))
    click.echo(f"{writer.messages} message(s) applied" + (f"; {writer.stop_reason}" if writer.stop_reason else ""),
               err=True)  # fmt: skip
    sys.exit(code)


def _seen_gone(db: str) -> set[str]:
    """The portals the archive last saw gone (a plain crawl takes them from the Wayback Machine,
    as it does those whose profile or registry entry says ``status = "gone"``)."""
    if not Path(db).exists():
        return set()
    try:
        from archiver.store import Archive

        archive = Archive(db, create=False, readonly=True)
    except Exception:  # noqa: BLE001 - an archive that cannot be read here is reported by the crawl itself
        return set()
    try:
        return {r["portal"] for r in archive.portal_states() if r["status"] == "gone"}
    except Exception:  # noqa: BLE001 - an archive from before portal_status
        return set()
    finally:
        archive.close()


def _portal_or_address(ref: str, known: dict[str, Any]) -> Any:
    """A slug, or an address: the portal that owns the host, else a portal found by discovery."""
    if "://" not in ref:
        return get_portal(ref)
    from archiver.profiles import valid_origin
    from archiver.registry import profile_for_address

    if not valid_origin(ref.split("?")[0].rstrip("/") or ref):
        raise click.UsageError(f"{ref!r}: expected a portal slug or an http:// or https:// address")
    return profile_for_address(ref, known)


RUN_COLUMNS = ["id", "portal", "started_at", "mode", "status", "pages", "new", "updated", "unchanged", "stored",
               "store_errors", "errors", "gone", "duration_s"]  # fmt: skip


@main.command()
@DB_OPTION
@click.option("--portal", help="Only this portal.")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 10_000), help="Number of runs.")
@click.option("--errors", "show_errors", is_flag=True, help="List the failed URLs of each run too.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per run (with its errors) instead of a table.")
def runs(db: str, portal: str | None, limit: int, show_errors: bool, as_json: bool) -> None:
    """Recent crawl runs: when, mode, status and why, pages, new, updated, unchanged, stored, errors.

    Example: archiver runs --portal haugiang --errors
    """
    import json

    archive = _open(db)
    try:
        if portal and not list(archive.query("SELECT 1 FROM crawl_runs WHERE portal = ? LIMIT 1", (portal,))):
            known = [r["portal"] for r in archive.query("SELECT DISTINCT portal FROM crawl_runs ORDER BY 1")]
            archive.close()
            _fail(f"no run of portal {portal!r} in {db}; portals with runs: {', '.join(known) or '(none)'}", EXIT_USAGE)
        rows = archive.recent_runs(limit, portal)
        errors = {r["id"]: list(archive.query("SELECT url, status, error, attempts, stage FROM fetch_errors "
                                              "WHERE run_id = ? ORDER BY id", (r["id"],)))
                  for r in rows} if (show_errors or as_json) else {}  # fmt: skip
        workers: dict[int, list[dict[str, Any]]] = {}
        for w in archive.run_workers([r["id"] for r in rows]):
            w.pop("stats", None)
            workers.setdefault(w["run_id"], []).append(w)
    finally:
        archive.close()
    for r in rows:
        r["duration_s"] = _duration(r)
    if as_json:
        for r in rows:
            r["fill"] = json.loads(r["fill"]) if r.get("fill") else None
            click.echo(json.dumps(r | {"fetch_errors": errors.get(r["id"], []), "workers": workers.get(r["id"], [])},
                                  ensure_ascii=False))  # fmt: skip
        return
    if not rows:
        click.echo(f"{db}: no crawl run recorded yet")
        return
    click.echo(_table(rows, RUN_COLUMNS))
    for r in rows:
        if r.get("reason"):
            click.echo(f"  run {r['id']} {r['portal']}: {r['reason']}")
        for w in workers.get(r["id"], []):
            click.echo(f"  run {r['id']} worker {w['worker']}: {w['status']}, {w['pages']} pages, {w['articles']} "
                       f"articles, {w['errors']} errors (last heard {w['last_seen']})")  # fmt: skip
    if show_errors:
        for run_id, errs in errors.items():
            for e in errs:
                stage = "" if e["stage"] == "fetch" else f"[{e['stage']}] "
                click.echo(f"  run {run_id}: {stage}{e['url']}  {e['status'] or ''} {e['error']} "
                           f"({e['attempts']} attempt(s))")  # fmt: skip


def _duration(row: dict[str, Any]) -> str:
    from datetime import datetime

    if not row.get("ended_at"):
        return ""
    return str(
        int((datetime.fromisoformat(row["ended_at"]) - datetime.fromisoformat(row["started_at"])).total_seconds())
    )


@main.command(name="portals")
@click.option("--province", help="Only the portals of this old province, or of every old province of this new unit.")
@click.option("--units", "show_units", is_flag=True, help="List the 34 provincial units since 1 July 2025 instead.")
@click.option("--db", help="Also show each portal's last seen status (live, moved, gone) from this archive.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per portal instead of a table.")
def list_portals(province: str | None, show_units: bool, db: str | None, as_json: bool) -> None:
    """List the portals: the registry of real portals and the hand-written profiles (slug, name,
    old province, unit since 2025, base URL, CMS family or "discovery", enabled).

    Example: archiver portals --province "Cần Thơ"
    """
    import json

    try:
        known = portals()
    except ArchiverError as exc:
        _fail(str(exc), EXIT_USAGE)
    if show_units:
        from archiver.registry import units

        unit_rows = [{"unit": u.name, "old_provinces": ", ".join(u.old_provinces), "portal": u.portal,
                      "confirmed": "yes" if u.confirmed else "no", "sources": u.sources} for u in units()]  # fmt: skip
        for r in unit_rows if as_json else []:
            click.echo(json.dumps(r, ensure_ascii=False))
        if not as_json:
            click.echo(_table(unit_rows, ["unit", "old_provinces", "portal", "confirmed", "sources"]))
        return
    chosen = list(known.values())
    if province:
        from archiver.registry import of_province

        chosen = of_province(province, known)
        if not chosen:
            _fail(f"--province {province!r}: no portal of that old province or new unit", EXIT_USAGE)
    status: dict[str, dict[str, Any]] = {}
    if db:
        archive = _open(db)
        try:
            status = {r["portal"]: r for r in archive.portal_states()}
        finally:
            archive.close()
    rows = [
        {"slug": p.slug, "name": p.name, "province": p.province, "new_unit": p.new_unit or "",
         "base_url": p.base_url, "family": p.family, "enabled": "yes" if p.enabled else "no",
         **({"status": _status_text(status.get(p.slug))} if db else {})}
        for p in chosen
    ]  # fmt: skip
    if as_json:
        for r in rows:
            click.echo(json.dumps(r, ensure_ascii=False))
        return
    cols = ["slug", "name", "province", "new_unit", "base_url", "family", "enabled"] + (["status"] if db else [])
    click.echo(_table(rows, cols))


def _status_text(row: dict[str, Any] | None) -> str:
    if not row:
        return "not crawled"
    detail = f" ({row['detail']})" if row.get("detail") else ""
    return f"{row['status']}{detail} {row['last_seen'][:10]}"


@main.command()
@DB_OPTION
@click.option("--json", "as_json", is_flag=True, help="One JSON object per portal instead of a table.")
def stats(db: str, as_json: bool) -> None:
    """Per portal: articles, date range, view observations, last run.

    Example: archiver stats --db data/archive.db
    """
    import json

    archive = _open(db)
    try:
        rows = archive.portal_stats()
    finally:
        archive.close()
    if as_json:
        for r in rows:
            click.echo(json.dumps(r, ensure_ascii=False))
        return
    if not rows:
        click.echo(f"{db}: no portal archived yet")
        return
    click.echo(_table(rows, ["portal", "province", "articles", "first_published", "last_published",
                             "view_observations", "last_run", "last_status"]))  # fmt: skip


@main.command()
@DB_OPTION
@click.option("--site", type=click.Path(file_okay=False, path_type=Path), help="Directory of the demo site.")
def demo(db: str, site: Path | None) -> None:
    """Serve the bundled demo portal on 127.0.0.1, crawl it into the archive, show what it holds.

    Example: archiver demo --db data/archive.db
    """
    from archiver import demo as demo_site
    from archiver.crawl import run_crawls
    from archiver.lock import ArchiveLock, LockHeld
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
        with ArchiveLock(db):
            rows = run_crawls([get_portal("demo")], db, base_url=url, overrides=fast, full=True)
    except LockHeld as exc:
        _fail(str(exc), EXIT_LOCKED)
    finally:
        server.shutdown()
    click.echo(_summary(rows))
    with Archive(db, create=False) as archive:
        total = archive.count("articles")
        click.echo(f"\nThe archive {db} holds {total} demo articles, "
                   f"{archive.count('article_revisions')} revisions, {archive.count('view_counts')} view observations, "
                   f"{archive.count('attachments')} attached documents.")  # fmt: skip
        q1 = "SELECT category, count(*) AS articles FROM articles WHERE portal='demo' GROUP BY category ORDER BY 2 DESC"
        q2 = ("SELECT substr(published,1,10) AS published, views, title FROM articles WHERE portal='demo' "
              "AND views IS NOT NULL ORDER BY views DESC LIMIT 3")  # fmt: skip
        for q in (q1, q2):
            click.echo(f'\n$ sqlite3 {db} "{q}"')
            result = list(archive.query(q))
            click.echo(_table(result, list(result[0]) if result else []))
    if any(r.get("status") == "failed" for r in rows):
        sys.exit(EXIT_FAILED)


@main.command()
@DB_OPTION
@click.option("--portal", "portal_slugs", multiple=True, help="Only this portal (repeatable).")
@click.option("--since", help="Only articles published on or after this day (YYYY, YYYY-MM or YYYY-MM-DD).")
def reparse(db: str, portal_slugs: tuple[str, ...], since: str | None) -> None:
    """Re-extract stored captures with the current extractors, with no network.

    An article whose extraction changed gets a new revision with reason "reextract"; nothing is
    fetched, no view count is added. Prints what was read, changed, unchanged and failed.

    Example: archiver reparse --portal haugiang --since 2021
    """
    from archiver.lock import ArchiveLock, LockHeld
    from archiver.offline import reparse as run_reparse
    from archiver.store.queries import _check_date

    _open(db).close()  # a clear error for a missing or damaged archive
    try:
        _check_date("since", since)
    except ArchiverError as exc:
        _fail(str(exc), EXIT_USAGE)
    try:
        with ArchiveLock(db):
            counts = run_reparse(db, portals=list(portal_slugs) or None, since=since)
    except LockHeld as exc:
        _fail(str(exc), EXIT_LOCKED)
    except ArchiverError as exc:
        _fail(str(exc))
    click.echo(f"read {counts.read}, changed {counts.changed}, unchanged {counts.unchanged}, failed {counts.failed}, "
               f"without a stored capture {counts.no_capture}")  # fmt: skip
    for line in counts.failures[:20]:
        click.echo(f"  {line}", err=True)
    if counts.failed:
        sys.exit(EXIT_FAILED)


@main.command(name="import-warc")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--portal", "portal_slug", required=True, help="The portal the WARC files hold pages of.")
@click.option("--base-url", help="The origin the WARC was recorded from, if a mirror (rewritten onto the portal).")
@DB_OPTION
def import_warc_cmd(files: tuple[Path, ...], portal_slug: str, base_url: str | None, db: str) -> None:
    """Ingest WARC files made by other tools (wget --warc-file, Heritrix, Browsertrix, webrecorder).

    Their response records go through the same path as a crawl; the files are copied under the
    archive's WARC directory. A damaged record is reported with its file and offset (exit 1);
    pages of hosts that are not the portal's are refused.

    Example: archiver import-warc demo.warc.gz --portal demo --base-url http://127.0.0.1:8000
    """
    from archiver.lock import ArchiveLock, LockHeld
    from archiver.offline import import_warc

    if base_url is not None:
        base_url = _check_base_url(base_url)
    try:
        get_portal(portal_slug)
        with ArchiveLock(db):
            counts = import_warc(db, list(files), portal_slug, base_url=base_url)
    except LockHeld as exc:
        _fail(str(exc), EXIT_LOCKED)
    except UnknownPortal as exc:
        _fail(str(exc), EXIT_USAGE)
    except ArchiverError as exc:
        _fail(str(exc))
    click.echo(f"{counts.files} file(s): {counts.responses} responses of portal {portal_slug}, {counts.articles} article "
               f"pages: {counts.new} new, {counts.updated} updated, {counts.unchanged} unchanged, {counts.duplicates} "
               f"duplicates, {counts.not_articles} not articles; {counts.other_pages} other pages")  # fmt: skip
    for line in counts.bad:
        click.echo(f"archiver: {line}", err=True)
    if counts.foreign:
        hosts = ", ".join(f"{h} ({n})" for h, n in counts.foreign.most_common(5))
        click.echo(f"archiver: refused pages of hosts that are not portal {portal_slug}'s: {hosts}", err=True)
    if counts.responses == 0 and counts.foreign:
        _fail(f"{', '.join(str(f) for f in files)}: no page of portal {portal_slug} (its hosts: "
              f"{', '.join(get_portal(portal_slug).hosts)}{'; or give --base-url' if not base_url else ''})")  # fmt: skip
    if counts.bad:
        sys.exit(EXIT_FAILED)


@main.command(name="extract")
@click.argument("source", metavar="URL|FILE")
@click.option("--url", "page_url", help="The page's URL, for a saved FILE (its host picks the portal profile).")
@click.option("--portal", "portal_slug", help="Use this portal's profile (default: by the URL's host, else the "
                                              "CMS family detected in the page, else the generic extractor).")  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="The record as JSON, with the rule behind each field.")
@click.option("--timeout", default=30.0, show_default=True, help="Seconds to wait for a URL.")
def extract_cmd(source: str, page_url: str | None, portal_slug: str | None, as_json: bool, timeout: float) -> None:
    """Show what the archive would store for one page, and which selector or rule gave each field.

    SOURCE is a saved page or an http(s) URL (fetched once, politely, with the archiver's
    User-Agent). The first thing to try on a new portal.

    Example: archiver extract data/demo/site/tin-tuc/kinh-te/phung-hiep-hoi-nghi-ban-ve-bao-ve-moi-truong-nam-2020-1053.html
    """
    import json

    from archiver.extract import extract_article

    content_type = None
    if source.startswith(("http://", "https://")):
        import urllib.error
        import urllib.request

        from archiver.crawl import user_agent
        from archiver.settings import ARCHIVER_CONTACT_URL

        page_url = page_url or source
        request = urllib.request.Request(source, headers={"User-Agent": user_agent(ARCHIVER_CONTACT_URL)})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - http(s) only, checked above
                body = response.read(20 * 2**20)
                content_type = response.headers.get("Content-Type")
                page_url = response.geturl()
        except (urllib.error.URLError, OSError, ValueError) as exc:
            _fail(f"{source}: cannot fetch ({getattr(exc, 'reason', exc)})")
    else:
        path = Path(source)
        if not path.is_file():
            _fail(f"{source}: no such file (give a saved page or an http(s) URL)", EXIT_USAGE)
        body = path.read_bytes()
        page_url = page_url or path.resolve().as_uri()
    profile = None
    if portal_slug:
        try:
            profile = get_portal(portal_slug)
        except ArchiverError as exc:
            _fail(str(exc), EXIT_USAGE)
    art = extract_article(body, page_url, profile=profile, content_type=content_type)
    record = art.to_dict() | {"problems": art.problems()}
    if as_json:
        click.echo(json.dumps({"record": record, "rules": art.rules}, ensure_ascii=False, indent=1, default=str))
        return
    click.echo(f"{page_url}\n{art.rules.get('extraction')}")
    for name in ("title", "category", "published", "views", "author", "source", "lead"):
        value = record.get(name)
        shown = value if value is not None else "-"
        if name == "published" and art.published_raw:
            shown = f"{shown}  (raw: {art.published_raw!r})"
        rule = art.rules.get(name, "")
        click.echo(f"{name:<10} {str(shown)[:160]}" + (f"\n{'':<10} <- {rule}" if rule else ""))
    paragraphs = [p for p in art.body_text.split("\n\n") if p]
    click.echo(f"body       {len(paragraphs)} paragraph(s), {len(art.body_text)} characters"
               + (f"\n{'':<10} <- {art.rules['body']}" if art.rules.get("body") else ""))  # fmt: skip
    for p in paragraphs[:3]:
        click.echo(f"  | {p[:200]}")
    if len(paragraphs) > 3:
        click.echo(f"  | ... ({len(paragraphs) - 3} more)")
    if art.problems():
        click.echo(f"not an article: {', '.join(art.problems())}")


def filter_options(fn: Any) -> Any:
    """--portal, --province, --since, --until, --category: shared by search and export."""
    fn = click.option("--category", help="Category as printed (case and diacritics ignored).")(fn)
    fn = click.option("--until", help="Published on or before: YYYY, YYYY-MM or YYYY-MM-DD.")(fn)
    fn = click.option("--since", help="Published on or after: YYYY, YYYY-MM or YYYY-MM-DD.")(fn)
    fn = click.option("--province", help="Old province or unit since 2025 (e.g. 'Hậu Giang' or 'Cần Thơ').")(fn)
    fn = click.option("--portal", "portal_slugs", multiple=True, help="Portal slug (repeatable).")(fn)
    return fn


def _filters(portal_slugs: tuple[str, ...], province: str | None, since: str | None, until: str | None,
             category: str | None) -> Any:  # fmt: skip
    from archiver.store.queries import Filters

    return Filters(list(portal_slugs), province, since, until, category)


def _open(db: str) -> Any:
    """The archive for reading: never written, opened read-only on a read-only medium."""
    from archiver.store import Archive

    try:
        return Archive(db, create=False, cache_mb=32, readonly=True)  # a small page cache keeps memory flat
    except ArchiverError as exc:
        _fail(str(exc))


@main.command()
@click.argument("query")
@DB_OPTION
@filter_options
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 10_000), help="Number of hits.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per hit instead of text.")
def search(query: str, db: str, portal_slugs: tuple[str, ...], province: str | None, since: str | None,
           until: str | None, category: str | None, limit: int, as_json: bool) -> None:  # fmt: skip
    """Full-text search, with or without diacritics: "bao ve an ninh" finds "bảo vệ an ninh".

    Words must all appear; "a phrase" in quotes, prefix*, and OR between two terms work. A query
    typed with diacritics ranks exact matches first.

    Example: archiver search "bảo vệ an ninh" --province "Cần Thơ" --since 2021 --limit 10
    """
    import json

    from archiver.store.queries import fts_query, snippet
    from archiver.store.queries import search as run_search

    archive = _open(db)
    try:
        hits = run_search(archive.conn, query, _filters(portal_slugs, province, since, until, category), limit)
        _, words = fts_query(query)
        behind = archive.search_behind()
    except ArchiverError as exc:
        _fail(str(exc), EXIT_USAGE)
    finally:
        archive.close()
    if behind:
        click.echo(f"note: {behind} change(s) made outside the archiver are not in the search index yet; the next "
                   "crawl (or any command that writes the archive) applies them", err=True)  # fmt: skip
    tty = sys.stdout.isatty() and not as_json
    mark = ("\033[1m", "\033[0m") if tty else ("<b>", "</b>") if as_json else ("[", "]")
    for hit in hits:
        text = snippet(hit["body_text"] or hit["lead"] or "", words, mark=mark)
        if hit.get("attachment"):
            text = f"(found in its attachment {hit['attachment']})"
        if as_json:
            out = {k: hit[k] for k in ("id", "portal", "published", "title", "url")} | {
                "snippet": text,
                "rank": hit["rank"],
                "attachment": hit.get("attachment"),
            }
            click.echo(json.dumps(out, ensure_ascii=False))
        else:
            click.echo(
                f"{(hit['published'] or '????-??-??')[:16]}  {hit['portal']}  {hit['title']}\n  {hit['url']}\n  {text}\n"
            )
    if not hits and not as_json:
        click.echo("no article matches", err=True)


@main.command()
@click.argument("ref", metavar="ID|URL")
@DB_OPTION
@click.option("--json", "as_json", is_flag=True, help="The article, its revisions and views as JSON.")
def show(ref: str, db: str, as_json: bool) -> None:
    """Show an article with its revisions (what changed, when) and its view-count series.

    Example: archiver show 7d8217afa8e7bf21
    """
    import difflib
    import json

    from archiver.store.queries import captures_of, find_article, history, urls_of

    archive = _open(db)
    try:
        art = find_article(archive.conn, ref)
        if art is None:
            _fail(f"no article with id or URL {ref!r} in {db}")
        revs, views = history(archive.conn, art["id"])
        urls = urls_of(archive.conn, art["id"])
        captures = captures_of(archive.conn, art["id"])
        files = archive.attachments_of(art["id"])
    finally:
        archive.close()
    if as_json:
        click.echo(json.dumps({"article": art, "urls": urls, "revisions": revs, "views": views, "captures": captures,
                               "attachments": files}, ensure_ascii=False, indent=1))  # fmt: skip
        return
    click.echo(f"{art['title']}\n{art['url']}\nid {art['id']}  portal {art['portal']}  category {art['category']}")
    click.echo(f"published {art['published'] or '(unreadable)'}  (raw: {art['published_raw']!r})")
    click.echo(
        f"author {art['author'] or '-'}  source {art['source'] or '-'}  views {art['views'] if art['views'] is not None else '-'}"
    )
    click.echo(f"first seen {art['first_seen']}  last seen {art['last_seen']}")
    if captures:
        last = captures[-1]
        click.echo(f"archived copy: capture {last['id']} of {last['fetched_at']} ({last['source']}, "
                   f"{last['target_uri']}), WARC {last['payload_file']} @ {last['payload_offset']}; "
                   f"{len(captures)} capture(s) in all; `archiver serve` shows it at /-/capture/{last['id']}")  # fmt: skip
    if files:
        click.echo(f"Attachments ({len(files)}):")
        for f in files:
            what = (f"{f['mime_sniffed']}, {f['bytes']:,} bytes, sha256 {f['sha256'][:16]}…, text: {f['text_how']}"
                    + (f", {f['doc_number']}" if f["doc_number"] else "") + (f" of {f['doc_date']}" if f["doc_date"] else "")
                    + (f", version {f['version']}" if f["version"] and f["version"] > 1 else "")
                    if f["version"] else "not fetched (off the portal, or the fetch failed)")  # fmt: skip
            click.echo(f"  {f['link_text'] or f['url'].rsplit('/', 1)[-1]}: {f['url']}\n    {what}")
    if len(urls) > 1:
        click.echo(f"Reached under {len(urls)} URLs (the first is canonical):")
        for u in urls:
            click.echo(f"  {u['url']}  published {u['published'] or '-'}  first seen {u['first_seen']}")
    click.echo("")
    click.echo(f"Revisions ({len(revs)}):")
    previous: dict[str, Any] | None = None
    for r in revs:
        changes = []
        if previous is not None:
            for f in ("title", "category", "published", "author", "source"):
                if r[f] != previous[f]:
                    changes.append(f"{f}: {previous[f]!r} -> {r[f]!r}")
            old, new = (previous["body_text"] or "").splitlines(), (r["body_text"] or "").splitlines()
            if old != new:
                diff = [
                    d
                    for d in difflib.unified_diff(old, new, lineterm="", n=0)
                    if d[:1] in "+-" and d[:3] not in ("+++", "---")
                ]
                changes.append(
                    f"body: {sum(d.startswith('+') for d in diff)} paragraph(s) added, {sum(d.startswith('-') for d in diff)} removed"
                )
                changes += [f"    {d[:160]}" for d in diff[:6]]
        why = {"first": "first version", "source": "changed at the portal", "reextract": "re-extracted (our "
               "extractor changed, the page did not)", "unknown": "changed (the portal or our extractor)"}  # fmt: skip
        label = why.get(r.get("reason") or "", "first version" if previous is None else "changed")
        origin = f"  capture {r['capture_id']}, extractor {r['extractor']}" if r.get("capture_id") else ""
        click.echo(f"  {r['revision']}  {r['seen_at']}  {r['content_hash'][:12]}  {label}{origin}")
        for c in changes:
            click.echo(f"     {c}")
        previous = r
    click.echo(f"\nView counts ({len(views)}):")
    for v in views:
        click.echo(f"  {v['seen_at']}  {v['views']}")


@main.command(name="export")
@click.option("--format", "fmt", type=click.Choice(["csv", "jsonl", "parquet"]), required=True, help="Output format.")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False),
              help="File to write (its directory is created); - writes CSV or JSONL to stdout, without a card.")  # fmt: skip
@DB_OPTION
@filter_options
@click.option("--fields", help="Comma-separated fields (default: all but body_html).")
@click.option("--no-csv-guard", "no_guard", is_flag=True,
              help="CSV: keep cells as stored (no ' before =, +, -, @): for tools that are not spreadsheets.")  # fmt: skip
@click.option("--attachments", "attachments_dir", type=click.Path(file_okay=False),
              help="Also write the documents the articles link to into this directory, with manifest.csv/.json.")
@click.option("--what", type=click.Choice(["articles", "revisions", "views", "attachments", "portals"]),
              default="articles", show_default=True,
              help="Which table of the selected articles: the articles, every revision, the view-count series, "
              "the documents they link to (every version), or their portals.")  # fmt: skip
def export_cmd(fmt: str, output: str, db: str, portal_slugs: tuple[str, ...], province: str | None,
               since: str | None, until: str | None, category: str | None, fields: str | None, no_guard: bool,
               attachments_dir: str | None, what: str) -> None:  # fmt: skip
    """Export a table of the selected articles (the articles, their revisions, view counts, documents
    or portals) to CSV, JSONL or Parquet, with beside it a dataset card (.card.md, .card.json) and a
    Frictionless data package (.datapackage.json).

    Example: archiver export --format csv --province "Hậu Giang" --since 2021 -o data/exports/haugiang.csv
    """
    from archiver.export import export

    if output == "-":
        if attachments_dir:
            raise click.UsageError("--attachments needs -o FILE (the manifest names the export)")
        from archiver.export import export_to_stream

        archive = _open(db)
        try:
            wanted = [f.strip() for f in fields.split(",") if f.strip()] if fields else None
            n = export_to_stream(archive, fmt, sys.stdout.buffer, _filters(portal_slugs, province, since, until,
                                                                           category), wanted, guard=not no_guard,
                                 what=what)  # fmt: skip
        except ArchiverError as exc:
            _fail(str(exc), EXIT_USAGE)
        except BrokenPipeError:
            sys.exit(0)  # `| head`: the reader had enough
        finally:
            archive.close()
        click.echo(f"wrote {n} {_rows_of(what)} to stdout (no dataset card: write to a file for one)", err=True)
        return
    archive = _open(db)
    try:
        wanted = [f.strip() for f in fields.split(",") if f.strip()] if fields else None
        card = export(archive, fmt, output, _filters(portal_slugs, province, since, until, category), wanted,
                      guard=not no_guard, what=what)  # fmt: skip
        files = None
        if attachments_dir:
            from archiver.export import export_attachments

            files = export_attachments(archive, attachments_dir, _filters(portal_slugs, province, since, until, category))
    except ArchiverError as exc:
        _fail(str(exc), EXIT_USAGE)
    except OSError as exc:
        _fail(f"--attachments {attachments_dir}: cannot write there ({exc.strerror or exc})")
    finally:
        archive.close()
    click.echo(f"wrote {card['rows']} {_rows_of(what)} to {output} (dataset card: {output}.card.md, "
               f"{output}.card.json; data package: {output}.datapackage.json)")  # fmt: skip
    if files is not None:
        click.echo(f"wrote {files['files']} attachment files to {attachments_dir} with manifest.csv and manifest.json "
                   f"({files['rows']} article-document rows" + (f"; {files['missing']} could not be read back from "
                   "the WARC" if files["missing"] else "") + ")")  # fmt: skip


def _rows_of(what: str) -> str:
    return {"articles": "articles", "revisions": "revisions", "views": "view observations",
            "attachments": "document versions", "portals": "portals"}[what]  # fmt: skip


@main.command()
@DB_OPTION
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8001, show_default=True, type=click.IntRange(0, 65535), help="Port to listen on.")
def serve(db: str, host: str, port: int) -> None:
    """The reading room: the archive in Datasette, read-only, on 127.0.0.1 unless --host says otherwise.

    / opens the article index; /-/article/ID reads an article as archived (its archived copy,
    documents, view-count chart, revisions and their diffs); /-/search is the CLI's search.

    Example: archiver serve --db data/archive.db --port 8001
    """
    from archiver.serve import serve as run_serve

    _open(db).close()  # a clear error for a missing or damaged archive, and migrations applied
    try:
        sys.exit(run_serve(Path(db), host, port))
    except ArchiverError as exc:
        _fail(str(exc))




@main.group(name="profile", cls=click.Group)
def profile_group() -> None:
    """Write and check portal profiles: `profile new URL --slug S`, `profile check S`.

    Example: archiver profile check soctrang --dir my-profiles
    """


def _overrides(pairs: tuple[str, ...]) -> dict[str, Any]:
    from archiver.crawl import parse_overrides

    try:
        return parse_overrides(pairs)
    except ArchiverError as exc:
        _fail(str(exc), EXIT_USAGE)


def _profiles_dir(directory: str | None) -> Path:
    import os

    return Path(directory or os.environ.get("ARCHIVER_PORTALS_DIR") or "portals")


@profile_group.command(name="new")
@click.argument("url")
@click.option("--slug", required=True, help="The portal's slug (its file's name).")
@click.option("--dir", "directory", help="Profile folder to write to (default: $ARCHIVER_PORTALS_DIR, else ./portals).")
@click.option("--province", default="", help="Old province of the portal.")
@click.option("--max-pages", default=300, show_default=True, type=click.IntRange(min=20), help="Pages to sample.")
@click.option("--allow-private", is_flag=True, help="Allow a portal on a private or loopback address.")
@click.option("-s", "--set", "set_pairs", multiple=True, metavar="NAME=VALUE", help="A crawl setting (repeatable).")
def profile_new(url: str, slug: str, directory: str | None, province: str, max_pages: int, allow_private: bool,
                set_pairs: tuple[str, ...]) -> None:  # fmt: skip
    """Learn a profile from a sample of the site (≥20 article pages, ≥3 listings): start URLs,
    listing and next-page selectors, article URL pattern, and per-template article selectors
    that agree with the generic extractor. Writes DIR/SLUG.toml and DIR/SLUG/ (the sample pages
    and expected.json) for review; fields no selector agrees on are listed and left to the
    generic path.

    Example: archiver profile new http://127.0.0.1:8000/ --slug my-portal --dir my-profiles --allow-private
    """
    import json
    import re as _re
    import shutil
    import tempfile

    from archiver.crawl import run_crawls
    from archiver.discover.learn import Sample, learn
    from archiver.profiles import valid_origin
    from archiver.registry import discovery_profile

    if not _re.match(r"^[a-z0-9][a-z0-9-]{0,62}$", slug):
        raise click.UsageError(f"--slug {slug!r}: use lower-case letters, digits and hyphens")
    parts = url.split("://", 1)
    origin = parts[0] + "://" + parts[1].split("/", 1)[0] if len(parts) == 2 else url
    if not valid_origin(origin):
        raise click.UsageError(f"{url!r}: expected an http:// or https:// address")
    out_dir = _profiles_dir(directory)
    with tempfile.TemporaryDirectory(prefix="archiver-learn-") as tmp:
        samples_dir = Path(tmp) / "samples"
        samples_dir.mkdir()
        prof = discovery_profile(slug, slug, province, origin)
        overrides: dict[str, Any] = {"ARCHIVER_SAMPLE_DIR": str(samples_dir), "ARCHIVER_WARC_ENABLED": False,
                                     "ARCHIVER_PROGRESS_INTERVAL": 0.0, **_overrides(set_pairs)}  # fmt: skip
        if allow_private:
            overrides["ARCHIVER_ALLOW_PRIVATE"] = True
        rows = run_crawls([prof], Path(tmp) / "sample.db", max_pages=max_pages, overrides=overrides)
        index = samples_dir / "samples.jsonl"
        entries = [json.loads(line) for line in index.read_text(encoding="utf-8").splitlines()] if index.exists() else []
        samples = [Sample(e["url"], (samples_dir / e["file"]).read_bytes().decode("utf-8", "replace"), e["kind"])
                   for e in entries]  # fmt: skip
        n_art = sum(s.kind == "article" for s in samples)
        n_list = sum(s.kind != "article" for s in samples)
        if n_art < 20 or n_list < 3:
            why = rows[0].get("reason") if rows else None
            _fail(f"{url}: sampled {n_art} article and {n_list} listing pages (need 20 and 3)"
                  + (f": {why}" if why else ""))  # fmt: skip
        learned = learn(samples, slug=slug, name=slug, base_url=origin, province=province)
        out_dir.mkdir(parents=True, exist_ok=True)
        target = out_dir / f"{slug}.toml"
        if target.exists():
            _fail(f"{target}: exists; remove it or choose another --slug (a profile is never overwritten)")
        target.write_text(learned.toml, encoding="utf-8")
        fixtures = out_dir / slug
        if fixtures.exists():
            shutil.rmtree(fixtures)
        fixtures.mkdir()
        expected = {}
        for i, (sample, record) in enumerate(learned.fixtures):
            name = f"{i:03d}.html"
            (fixtures / name).write_text(sample.html, encoding="utf-8")
            expected[name] = {"url": sample.url, **record}
        (fixtures / "expected.json").write_text(json.dumps(expected, ensure_ascii=False, indent=1), encoding="utf-8")
    click.echo(f"wrote {target} ({len(learned.templates)} template(s) from {n_art} article and {n_list} listing pages) "
               f"and {len(learned.fixtures)} fixture pages in {fixtures}")  # fmt: skip
    for pattern, left in learned.disagreeing.items():
        if left:
            click.echo(f"  {pattern}: no selector agrees on {', '.join(left)}: left to the generic path")


@profile_group.command(name="check")
@click.argument("slug")
@click.option("--dir", "directory", help="Profile folder (default: $ARCHIVER_PORTALS_DIR, else ./portals).")
@click.option("--live/--no-live", default=True, show_default=True, help="Also crawl a live sample of the portal.")
@click.option("--base-url", help="Fetch the live sample from this mirror origin.")
@click.option("--max-pages", default=40, show_default=True, type=click.IntRange(min=5), help="Pages of the live sample.")
@click.option("--allow-private", is_flag=True, help="Allow a portal on a private or loopback address.")
@click.option("-s", "--set", "set_pairs", multiple=True, metavar="NAME=VALUE", help="A crawl setting (repeatable).")
def profile_check(slug: str, directory: str | None, live: bool, base_url: str | None, max_pages: int,
                  allow_private: bool, set_pairs: tuple[str, ...]) -> None:  # fmt: skip
    """Re-run a profile's saved fixtures (and a live sample) and print the fill rate of every
    field, so that a redesign is seen before a night is lost. Exit 1 when a field the profile
    has a selector for is found on fewer than 80 % of the pages, or disagrees with expected.json.

    Example: archiver profile check my-portal --dir my-profiles --no-live
    """
    import json
    import tempfile

    from archiver.discover.learn import words_f1
    from archiver.extract import extract_article
    from archiver.profiles import load_portal

    folder = _profiles_dir(directory)
    path = folder / f"{slug}.toml"
    if not path.exists():
        _fail(f"{path}: no such profile", EXIT_USAGE)
    try:
        prof = load_portal(path)
    except ArchiverError as exc:
        _fail(str(exc), EXIT_USAGE)
    fixtures = folder / slug
    expected = json.loads((fixtures / "expected.json").read_text(encoding="utf-8")) if (
        fixtures / "expected.json").exists() else {}  # fmt: skip
    fields = {"title": 0, "published": 0, "views": 0, "body": 0}
    agree = dict(fields)
    for name, exp in expected.items():
        art = extract_article((fixtures / name).read_bytes(), exp["url"], profile=prof)
        got = {"title": art.title, "published": str(art.published) if art.published else None, "views": art.views,
               "body": art.body_text}  # fmt: skip
        for f in fields:
            fields[f] += bool(got[f])
        agree["title"] += got["title"] == exp["title"]
        agree["published"] += got["published"] == exp["published"]
        agree["views"] += got["views"] == exp["views"]
        agree["body"] += words_f1(str(got["body"] or ""), str(exp["body_text"] or "")) >= 0.9
    bad = False
    n = len(expected)
    if n:
        click.echo(f"fixtures ({n} pages): " + "  ".join(f"{f} {fields[f] / n:.0%} filled, {agree[f] / n:.0%} as expected"
                                                          for f in fields))  # fmt: skip
        bad = any(agree[f] / n < 0.8 for f in fields if any(exp.get("views" if f == "views" else f if f != "body" else
                                                                    "body_text") for exp in expected.values()))  # fmt: skip
    else:
        click.echo(f"{fixtures}: no fixtures to re-run")
    if live:
        from archiver.crawl import run_crawls

        overrides: dict[str, Any] = {"ARCHIVER_WARC_ENABLED": False, "ARCHIVER_PROGRESS_INTERVAL": 0.0,
                                     **_overrides(set_pairs)}  # fmt: skip
        if allow_private:
            overrides["ARCHIVER_ALLOW_PRIVATE"] = True
        with tempfile.TemporaryDirectory(prefix="archiver-check-") as tmp:
            rows = run_crawls([prof], Path(tmp) / "check.db", base_url=base_url and _check_base_url(base_url),
                              max_pages=max_pages, overrides=overrides)  # fmt: skip
        row = rows[0]
        extracted = row.get("extracted") or 0
        fill = json.loads(row.get("fill") or "{}")
        if not extracted:
            click.echo(f"live sample: no article extracted ({row.get('status')}: {row.get('reason')})")
            bad = True
        else:
            click.echo(f"live sample ({extracted} articles): " + "  ".join(
                f"{f} {fill.get(f, 0) / extracted:.0%}" for f in ("title", "published", "views", "author", "body")))
            bad = bad or any(fill.get(f, 0) / extracted < 0.8 for f in ("title", "body"))
    if bad:
        sys.exit(EXIT_FAILED)


if __name__ == "__main__":
    main()
