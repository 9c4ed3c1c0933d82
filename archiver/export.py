"""Get it back out: datasets for researchers, each describing itself.

``export(archive, fmt, path, filters, fields, what=…)`` streams the rows of one table
(``archiver.store.datasets``: articles, revisions, views, attachments, portals) for the selected
articles (constant memory) and, beside them, the dataset cards ``<path>.card.md`` and
``<path>.card.json`` and the data package ``<path>.datapackage.json`` (``archiver.cards``).
Rows and cards are read in one read transaction: they agree even while a crawl writes.

An export and its descriptions change together or not at all. Each export is written whole into
a version directory ``.<name>.versions/<version>/``; ``<path>`` and its three descriptions are
symbolic links through ``.<name>.versions/current``, and one atomic ``rename`` of ``current``
switches all four. A killed export leaves the previous export and its cards; two exports to the
same path at once each write their own version, and the last to finish is the one shown.
Earlier versions are removed.

* CSV: UTF-8 with a BOM (Excel opens Vietnamese correctly), cells that a spreadsheet would run
  as a formula (starting with ``= + - @``, tab or carriage return) are prefixed with ``'``
  (``guard=False``: as stored).
* JSONL: one row per line, ISO 8601 dates, Unicode kept.
* Parquet: typed columns (needs the optional ``pyarrow``: ``pip install 'vn-portal-archiver[parquet]'``).
"""

from __future__ import annotations

import csv
import fcntl
import hashlib
import json
import os
import secrets
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from archiver.cards import dataset_card, write_card, write_package
from archiver.exceptions import ArchiverError
from archiver.store import Archive
from archiver.store.datasets import Dataset, dataset, iter_rows
from archiver.store.queries import Filters

FORMATS = ("csv", "jsonl", "parquet")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """A CSV cell a spreadsheet will show, not run: ``=HYPERLINK(…)`` -> ``'=HYPERLINK(…)``."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _write_csv(rows: Iterator[tuple[Any, ...]], fields: list[str], out: Path, types: list[str] | None = None,
               guard: bool = True) -> int:  # fmt: skip
    n = 0
    with out.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(fields)
        for row in rows:
            writer.writerow([neutralise(v) for v in row] if guard else list(row))
            n += 1
    return n


def _write_jsonl(rows: Iterator[tuple[Any, ...]], fields: list[str], out: Path, types: list[str] | None = None) -> int:
    n = 0
    with out.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(dict(zip(fields, row, strict=True)), ensure_ascii=False))
            fh.write("\n")
            n += 1
    return n


def _instant(value: str | None) -> datetime | None:
    """An ISO 8601 date-time with its offset, as an aware datetime in UTC (None if not one)."""
    if not value:
        return None
    try:
        got = datetime.fromisoformat(value)
    except ValueError:
        return None
    return got.astimezone(UTC) if got.tzinfo is not None else None


def _day(value: str | None) -> Any:
    try:
        return datetime.fromisoformat(value[:10]).date() if value else None
    except ValueError:
        return None


def _write_parquet(rows: Iterator[tuple[Any, ...]], fields: list[str], out: Path, types: list[str] | None = None,
                   batch: int = 5000) -> int:  # fmt: skip
    """Typed columns: integers int64, booleans bool, dates date32, date-times timestamps in UTC; the
    printed ``published`` stays text (a day, or a time with +07:00) beside its typed forms."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise ArchiverError("Parquet export needs pyarrow: pip install 'vn-portal-archiver[parquet]'") from None
    types = types or ["string"] * len(fields)
    arrow = {"string": pa.string(), "integer": pa.int64(), "boolean": pa.bool_(), "date": pa.date32(),
             "datetime": pa.timestamp("us", tz="UTC")}  # fmt: skip
    convert = {"date": _day, "datetime": _instant}
    schema = pa.schema([pa.field(f, arrow[t]) for f, t in zip(fields, types, strict=True)], metadata={
        "source": "vn-portal-archiver",
        "published": "as the page printed it (ISO 8601; +07:00 when a time is shown, a plain date when not)",
        "published_utc": "the same instant in UTC, when the page shows a time; null for a date alone",
        "datetime columns": "instants in UTC (first_seen, last_seen, seen_at: when the archive saw it)"})  # fmt: skip
    converted = [(i, convert[t]) for i, t in enumerate(types) if t in convert]
    n = 0
    with pq.ParquetWriter(out, schema, compression="zstd") as writer:
        chunk: list[tuple[Any, ...]] = []

        def flush() -> None:
            cols = [list(c) for c in zip(*chunk, strict=True)] if chunk else [[] for _ in fields]
            for i, fn in converted:
                cols[i] = [fn(v) for v in cols[i]]
            writer.write_table(pa.Table.from_arrays(cols, schema=schema))

        for row in rows:
            chunk.append(row)
            n += 1
            if len(chunk) >= batch:
                flush()
                chunk = []
        if chunk or n == 0:
            flush()
    return n


WRITERS = {"csv": _write_csv, "jsonl": _write_jsonl, "parquet": _write_parquet}


def _writer(fmt: str, guard: bool) -> Any:
    """The format's writer; CSV without the formula guard when ``guard`` is off (``--no-csv-guard``)."""
    if fmt == "csv" and not guard:
        from functools import partial

        return partial(_write_csv, guard=False)
    return WRITERS[fmt]


@contextmanager
def _snapshot(archive: Archive) -> Iterator[sqlite3.Connection]:
    """The archive's connection inside one read transaction (a consistent snapshot), rolled back after."""
    conn = archive.conn
    if conn.in_transaction:
        conn.commit()
    conn.execute("BEGIN")
    try:
        yield conn
    finally:
        conn.rollback()


def _fields(ds: Dataset, fmt: str, wanted: list[str] | None) -> list[str]:
    """The fields to write. Parquet keeps the printed date's typed forms beside it (a day, and the
    instant in UTC when the page shows a time) even when ``--fields`` does not name them."""
    fields = ds.pick(wanted)
    if fmt == "parquet" and ds.name == "articles" and "published" in fields:
        fields = fields + [f for f in ("published_date", "published_utc") if f not in fields]
    return fields


def export_to_stream(archive: Archive, fmt: str, out: Any, filters: Filters, fields: list[str] | None = None,
                     *, guard: bool = True, what: str = "articles") -> int:  # fmt: skip
    """``-o -``: the selected rows as CSV or JSONL written to ``out`` (a binary stream, stdout),
    from one read snapshot; no dataset card (there is no file to put it beside). Returns the count."""
    if fmt not in ("csv", "jsonl"):
        raise ArchiverError(f"-o -: {fmt} is not a stream format; write Parquet to a file")
    ds = dataset(what)
    fields = _fields(ds, fmt, fields)
    with tempfile.TemporaryDirectory(prefix="archiver-export-") as tmp:
        data = Path(tmp) / f"export.{fmt}"
        with _snapshot(archive) as conn:
            count = _writer(fmt, guard)(iter_rows(conn, ds, filters, fields), fields, data)
        with open(data, "rb") as fh:
            shutil.copyfileobj(fh, out)
    out.flush()
    return count


def export(
    archive: Archive, fmt: str, path: str | Path, filters: Filters, fields: list[str] | None = None, *,
    guard: bool = True, what: str = "articles",
) -> dict[str, Any]:
    """Write the selected rows of table ``what`` to ``path``, and beside it its dataset cards and
    its data package; return the card's data."""
    if fmt not in WRITERS:
        raise ArchiverError(f"unknown format {fmt!r}; formats: {', '.join(FORMATS)}")
    ds = dataset(what)
    path = Path(path)
    if path.is_dir() and not path.is_symlink():
        raise ArchiverError(f"{path}: is a directory")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ArchiverError(f"{path}: cannot create its directory {path.parent} ({exc.strerror or exc})") from None
    fields = _fields(ds, fmt, fields)
    types = [ds.field(f).type for f in fields]
    versions = path.parent / f".{path.name}.versions"
    try:
        versions.mkdir(exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f"staging-{os.getpid()}-", dir=versions))
    except OSError as exc:
        raise ArchiverError(f"{path}: cannot write there ({exc.strerror or exc})") from None
    try:
        data = staging / path.name
        with _snapshot(archive) as conn:  # one snapshot for the rows and the card's counts
            count = _writer(fmt, guard)(iter_rows(conn, ds, filters, fields), fields, data, types)
            card = dataset_card(conn, fmt, path, filters, fields, count, ds)
            if fmt == "csv":
                card["csv_formula_guard"] = guard
        card["sha256"], card["bytes"] = _digest(data)
        write_card(card, data)
        write_package(card, ds, data)
        for f in staging.iterdir():
            _fsync(f)
        _publish(path, versions, staging)
    except OSError as exc:
        raise ArchiverError(f"{path}: cannot write the export ({exc.strerror or exc})") from None
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return card


def _digest(path: Path) -> tuple[str, int]:
    h = hashlib.sha256()
    size = 0
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
            size += len(chunk)
    return h.hexdigest(), size


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _publish(path: Path, versions: Path, staging: Path) -> None:
    """Switch ``path`` and its cards to the version in ``staging`` with one atomic rename."""
    names = (path.name, f"{path.name}.card.json", f"{path.name}.card.md", f"{path.name}.datapackage.json")
    token = secrets.token_hex(4)
    with (versions / ".lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        final = versions / f"{datetime.now(UTC).strftime('%Y%m%dT%H%M%S')}-{os.getpid()}-{token}"
        os.rename(staging, final)
        tmp = versions / f".current-{token}"
        os.symlink(final.name, tmp)
        os.replace(tmp, versions / "current")  # the switch: data and cards together
        for name in names:
            link = path.parent / name
            target = f"{versions.name}/current/{name}"
            if link.is_symlink() and os.readlink(link) == target:
                continue
            tmp = path.parent / f".{name}.{token}.tmp"
            os.symlink(target, tmp)
            os.replace(tmp, link)
        for old in versions.iterdir():
            if old.is_symlink() or not old.is_dir() or old == final:
                continue
            if old.name.startswith("staging-"):
                pid = old.name.split("-")[1]
                if pid.isdigit() and _alive(int(pid)):
                    continue  # another export is still writing it
            shutil.rmtree(old, ignore_errors=True)


MANIFEST_FIELDS = ["article_id", "article_url", "url", "file", "name_served", "sha256", "bytes", "mime_sniffed",
                   "doc_number", "doc_date", "text_how", "version"]  # fmt: skip


def export_attachments(archive: Archive, directory: str | Path, f: Filters) -> dict[str, int]:
    """The documents the selected articles link to, each file once (its latest version) as
    ``<sha256 prefix>-<name served>`` in ``directory``, read back from the WARC and checked
    against its SHA-256, with ``manifest.csv`` and ``manifest.json`` (one row per article and
    document). A file whose bytes cannot be read back is left out of the directory and its
    manifest row says so (``file`` empty)."""
    from archiver.capture.warc import read_capture
    from archiver.store.queries import where

    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    base = archive.path.parent
    cond, params = where(archive.conn, f)
    rows = archive.conn.execute(
        f"SELECT a.id, a.url, d.url, d.name_served, d.sha256, d.bytes, d.mime_sniffed, d.doc_number, d.doc_date, "
        f"d.text_how, d.version, d.capture_id FROM articles a JOIN article_attachments l ON l.article_id = a.id "
        f"JOIN attachments d ON d.url = l.url AND d.version = (SELECT max(version) FROM attachments WHERE url = l.url) "
        f"WHERE {cond} ORDER BY a.portal, a.published, a.id, d.url", params).fetchall()  # fmt: skip
    written: dict[str, str] = {}
    manifest = []
    for aid, aurl, url, name, sha, size, mime, number, day, how, version, capture in rows:
        if sha not in written:
            safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in (name or "file"))[:120]
            target = f"{sha[:16]}-{safe}"
            body = None
            warc_file, offset, _ = archive.payload_location(capture) if capture else (None, None, None)
            if warc_file is not None and offset is not None:
                try:
                    body = read_capture(base / warc_file, offset).body
                except (OSError, ValueError, ArchiverError):
                    body = None
            if body is not None and hashlib.sha256(body).hexdigest() == sha:
                tmp = out / f".{target}.part"
                tmp.write_bytes(body)
                os.replace(tmp, out / target)
                written[sha] = target
            else:
                written[sha] = ""
        manifest.append(dict(zip(MANIFEST_FIELDS, (aid, aurl, url, written[sha], name, sha, size, mime, number, day,
                                                   how, version), strict=True)))  # fmt: skip
    with open(out / "manifest.csv", "w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=MANIFEST_FIELDS)
        w.writeheader()
        w.writerows({k: neutralise(v) for k, v in r.items()} for r in manifest)
    (out / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    return {"files": sum(1 for v in written.values() if v), "missing": sum(1 for v in written.values() if not v),
            "rows": len(manifest)}  # fmt: skip
