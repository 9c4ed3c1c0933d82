"""Work on what was fetched, with no network: re-extract stored captures, import WARC files made
by other tools. Both go through the one ingest path and the archive's one writer.

* ``reparse(db, ...)``: the current extractor over every selected article's latest capture; an
  article whose extraction changed gets a revision with reason ``reextract`` (no view
  observation, no ``last_seen``: nothing was fetched).
* ``import_warc(db, files, portal, base_url)``: the response records of WARC files (wget
  ``--warc-file``, Heritrix, Browsertrix, webrecorder) ingested as if crawled; the files are
  copied under the archive's WARC directory so the archive keeps the bytes it points to.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from archiver.capture.warc import BadRecord, WarcError, iter_captures
from archiver.exceptions import ArchiverError, UnknownPortal
from archiver.ingest import Ingested, Ingestor, Reextracted, archive_history, read_stored
from archiver.items import Capture, RecordedCapture
from archiver.profiles import compiled, get_portal
from archiver.runs import RunCounts
from archiver.site import Site
from archiver.store.writer import Writer

log = logging.getLogger(__name__)


@dataclass
class ReparseCounts:
    read: int = 0
    changed: int = 0
    unchanged: int = 0
    failed: int = 0  # the capture could not be read, or is no article for today's extractor
    no_capture: int = 0  # stored before captures were kept
    failures: list[str] = field(default_factory=list)


def reparse(db: str | Path, *, portals: list[str] | None = None, since: str | None = None) -> ReparseCounts:
    """Re-extract the selected articles from their stored captures (see the module docstring)."""
    base = Path(db).parent
    counts = ReparseCounts()
    with Writer(db, batch_size=200, interval=1e9) as writer:
        archive = writer.archive
        where, params = ["1"], []
        if portals:
            where.append(f"a.portal IN ({', '.join('?' * len(portals))})")
            params += portals
        if since:
            where.append(f"substr(a.published, 1, {len(since)}) >= ?")
            params.append(since)
        slugs = [r["portal"] for r in archive.query(
            f"SELECT DISTINCT a.portal FROM articles a WHERE {' AND '.join(where)} ORDER BY 1", tuple(params))]  # fmt: skip

        def outcome(_run: Any, item: Any, result: str) -> None:
            if isinstance(item, Reextracted):
                if result == "changed":
                    counts.changed += 1
                elif result == "unchanged":
                    counts.unchanged += 1

        writer.on_outcome.append(outcome)
        for slug in slugs:
            try:
                profile = get_portal(slug)
            except UnknownPortal:
                n = archive.conn.execute("SELECT count(*) FROM articles WHERE portal = ?", (slug,)).fetchone()[0]
                counts.failed += n
                counts.failures.append(f"{slug}: no profile of that portal any more ({n} articles left as they are)")
                continue
            ingestor = Ingestor(Site.of(profile))
            run = writer.open_run(profile, "(stored captures)", "reparse")
            rows = list(archive.query(
                f"SELECT a.id, a.url, a.capture_id FROM articles a WHERE a.portal = ? AND {' AND '.join(where)} "
                "ORDER BY a.rowid", (slug, *params)))  # fmt: skip
            for row in rows:
                if not row["capture_id"]:
                    counts.no_capture += 1
                    continue
                warc_file, offset, _ = archive.payload_location(row["capture_id"])
                capture = read_stored(base, warc_file, offset)
                if capture is None:
                    counts.failed += 1
                    counts.failures.append(f"{row['url']}: its capture cannot be read ({warc_file} @ {offset})")
                    continue
                counts.read += 1
                art = ingestor.extract(_as_fetched(capture, archive, row["capture_id"]))
                if art.problems():
                    counts.failed += 1
                    counts.failures.append(f"{row['url']}: not an article for the current extractor "
                                           f"({', '.join(art.problems())}); kept as it was")  # fmt: skip
                    continue
                writer.add(run, Reextracted(row["id"], art, row["capture_id"], ingestor.extractor))
            writer.flush(block=True)
            done = RunCounts(pages=counts.read, updated=counts.changed, unchanged=counts.unchanged)
            writer.finish_run(run, done, "ok" if not writer.failed else "failed", writer.failed, False)
        if writer.failed:
            raise ArchiverError(f"storing failed: {writer.failed}")
    return counts


def _as_fetched(capture: Capture, archive: Any, capture_id: int) -> Capture:
    """The stored capture as the crawl saw it: its time and its URL on the portal (a mirror's
    host is not the portal's) from the captures row; a revisit's payload is read from the record
    it refers to."""
    import dataclasses

    row = archive.conn.execute("SELECT target_uri, canonical_url, fetched_at FROM captures WHERE id = ?",
                               (capture_id,)).fetchone()  # fmt: skip
    if row is None:
        return capture
    return dataclasses.replace(capture, url=row[0], final_url=row[1] or row[0], fetched_at=row[2])


@dataclass
class ImportCounts:
    files: int = 0
    responses: int = 0
    articles: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    not_articles: int = 0
    duplicates: int = 0
    other_pages: int = 0  # listings, redirects, errors, assets of the portal
    foreign: Counter = field(default_factory=Counter)  # host -> responses refused
    bad: list[str] = field(default_factory=list)  # "file: bad record at offset N (error)"


def is_article_url(site: Site, url: str) -> bool:
    """Whether a URL of the portal is an article page, by the profile's ``urls.article_pattern``
    (every page, when the profile has none: extraction then tells)."""
    pattern = site.profile.get("urls.article_pattern")
    if not pattern:
        return True
    from urllib.parse import urlsplit

    parts = urlsplit(site.canonical(url))
    return bool(compiled(pattern).search(parts.path + (f"?{parts.query}" if parts.query else "")))


def _copy_in(path: Path, target_dir: Path) -> Path:
    """The WARC file copied into the archive's WARC directory (once: named by its digest)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    target = target_dir / f"{h.hexdigest()[:12]}-{path.name}"
    if not target.exists():
        target_dir.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + ".part")
        shutil.copyfile(path, tmp)
        tmp.replace(target)
    return target


def import_warc(db: str | Path, files: list[Path], portal: str, *, base_url: str | None = None,
                warc_root: Path | None = None) -> ImportCounts:  # fmt: skip
    """Ingest the response records of WARC files as captures of ``portal`` (see the module
    docstring). ``base_url``: the origin the WARC was recorded from (a mirror), rewritten onto
    the portal's base URL as ``crawl --base-url`` does."""
    profile = get_portal(portal)
    site = Site.of(profile, base_url)
    base = Path(db).parent
    counts = ImportCounts()
    for f in files:
        if not f.is_file():
            raise ArchiverError(f"{f}: no such WARC file")
    with Writer(db, batch_size=200, interval=1e9) as writer:
        ingestor = Ingestor(site, history=archive_history(writer.archive, base, portal))
        run = writer.open_run(profile, site.fetch_origin, "import")
        target_dir = (warc_root or base / "warc") / portal / "imported"
        for f in files:
            counts.files += 1
            try:
                stored = _copy_in(f, target_dir)
            except OSError as exc:
                raise ArchiverError(f"{f}: cannot copy into {target_dir} ({exc.strerror or exc})") from None
            rel = str(stored.resolve().relative_to(base.resolve())) if stored.resolve().is_relative_to(
                base.resolve()) else str(stored)  # fmt: skip
            try:
                for item in iter_captures(stored, stored_as=rel):
                    if isinstance(item, BadRecord):
                        counts.bad.append(f"{f}: bad record at offset {item.offset} ({item.error})")
                        continue
                    _one(item, site, ingestor, writer, run, counts)
            except (OSError, WarcError) as exc:
                counts.bad.append(f"{f}: cannot read ({exc})")
        writer.flush(block=True)
        status = "ok" if not counts.bad and not writer.failed else ("failed" if writer.failed else "degraded")
        reason = writer.failed or ("; ".join(counts.bad[:3]) if counts.bad else None)
        if counts.foreign:
            note = "refused pages of other hosts: " + ", ".join(f"{h} ({n})" for h, n in counts.foreign.most_common(5))
            reason = f"{reason}; {note}" if reason else note
        done = RunCounts(pages=counts.responses, new=run.counts.new, updated=run.counts.updated,
                         unchanged=run.counts.unchanged, duplicates=run.counts.duplicates,
                         not_articles=counts.not_articles, store_errors=run.counts.store_errors)  # fmt: skip
        writer.finish_run(run, done, status, reason, False)
        counts.new, counts.updated, counts.unchanged = run.counts.new, run.counts.updated, run.counts.unchanged
    return counts


def _one(capture: Capture, site: Site, ingestor: Ingestor, writer: Writer, run: Any, counts: ImportCounts) -> None:
    from urllib.parse import urlsplit

    if not site.may_fetch(capture.final_url):
        counts.foreign[urlsplit(capture.final_url).netloc or "?"] += 1
        return
    counts.responses += 1
    ctype = (capture.content_type or "").lower()
    html = capture.status == 200 and ("html" in ctype or not ctype)
    article = html and is_article_url(site, capture.final_url)
    try:
        canonical = site.canonical(capture.final_url)
    except ValueError:
        canonical = None
    assert capture.record_id and capture.warc_file is not None and capture.warc_offset is not None
    writer.add(run, RecordedCapture(
        portal=site.portal, kind="article" if article else ("listing" if html else "other"),
        target_uri=capture.final_url, canonical_url=canonical, status=capture.status, fetched_at=capture.fetched_at,
        source="warc", content_type=capture.content_type, payload_digest=capture.payload_digest,
        record_type="response", record_id=capture.record_id, warc_file=capture.warc_file,
        warc_offset=capture.warc_offset, warc_length=0,
    ))  # fmt: skip
    if not article:
        counts.other_pages += 1
        return
    counts.articles += 1
    outcome = ingestor.ingest(capture)
    if outcome.item is None:
        if (outcome.dropped or "").startswith("duplicate"):
            counts.duplicates += 1
        else:
            counts.not_articles += 1
        return
    assert isinstance(outcome.item, Ingested)
    writer.add(run, outcome.item)
