"""Keep it raw: every response in WARC/1.1 files (ISO 28500), written and read with warcio.

``WarcStore`` writes one portal's files under ``<warc dir>/<portal>/``: a ``warcinfo`` record
at the start of each file, then per response a ``response`` record (the HTTP headers and body
exactly as received, ``Content-Encoding`` included; only ``Transfer-Encoding`` is dropped, the
body being stored de-chunked) or, when the payload is the same as the URL's last capture, a
``revisit`` record (identical-payload-digest profile) pointing at it; a ``request`` record
concurrent to it; and per article a ``metadata`` record with the extraction outcome and the
extractor version. Each record is its own gzip member; files roll over at a size limit; each
record is flushed when written, so the archive database, committed later, never points to a
record that is not completely written. A file left half-written by a killed crawl is cut back
to its last complete record by ``repair``.

``read_capture`` reads one record back as a ``Capture``; ``iter_captures`` reads a whole file
(ours or another tool's: wget, Heritrix, Browsertrix, webrecorder), reporting a bad record with
its offset instead of stopping at it.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import io
import json
import os
import socket
import threading
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from pathlib import Path
from typing import Any

from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import GzippingWrapper, WARCWriter

from archiver import __version__
from archiver.exceptions import ArchiverError
from archiver.items import Capture

# Headers that describe the transfer, not the payload: the body is stored de-chunked.
_TRANSFER = {"transfer-encoding"}


class WarcError(ArchiverError):
    """A WARC file cannot be written (disk full, read-only) or read: the message names the file
    and the offset."""


@dataclass(frozen=True)
class Location:
    """Where a record is: the file (relative to the archive's directory when inside it), its
    offset and length, its WARC-Record-ID, its type and the payload digest."""

    file: str
    offset: int
    length: int
    record_id: str
    record_type: str
    digest: str | None = None
    refers_to: str | None = None  # a revisit: the record id holding the payload


@dataclass(frozen=True)
class Previous:
    """The last capture of a URL with a payload: a revisit refers to it."""

    digest: str
    record_id: str
    target_uri: str
    date: str


def _locked(fn: Any) -> Any:
    """One writer at a time: records are written from a worker thread (compression releases the
    GIL, the event loop keeps fetching), syncs and closes from the event loop."""
    import functools

    @functools.wraps(fn)
    def run(self: Any, *args: Any, **kwargs: Any) -> Any:
        with self.lock:
            return fn(self, *args, **kwargs)

    return run


COMPRESSORS = ("isal", "zlib")
# ISA-L has four levels (0-3); a zlib level 1-9 maps onto its 1-3.
_ISAL_LEVEL = {1: 1, 2: 1, 3: 1, 4: 2, 5: 2, 6: 2, 7: 3, 8: 3, 9: 3}


def gzip_compressor(level: int, library: str = "isal") -> Any:
    """A compressor making one gzip member: ISA-L (``isal``, ~10× faster than zlib on portal
    pages for ~15 % more bytes at level 6) or zlib (``library`` is one of COMPRESSORS: WarcStore
    checks). Both write standard gzip, which every WARC reader reads; both release the GIL."""
    if library == "isal":
        from isal import isal_zlib

        return isal_zlib.compressobj(_ISAL_LEVEL[level], isal_zlib.DEFLATED, isal_zlib.MAX_WBITS + 16)
    return zlib.compressobj(level, zlib.DEFLATED, zlib.MAX_WBITS + 16)


class _Gzip(GzippingWrapper):
    """warcio's per-record gzip member, at a chosen level and library (warcio's own is zlib at 9:
    on 170 KB portal pages that is most of a crawl's CPU for a few per cent of size)."""

    def __init__(self, out: Any, level: int, library: str) -> None:
        super().__init__(out)
        self.compressor = gzip_compressor(level, library)


class _Writer(WARCWriter):
    """warcio's WARCWriter (records, digests, headers unchanged), each record one gzip member at
    ``level`` with ``library``."""

    def __init__(self, fh: Any, level: int, library: str = "isal") -> None:
        super().__init__(fh, gzip=True, warc_version="1.1")
        self.level = level
        self.library = library

    def _write_warc_record(self, out: Any, record: Any) -> Any:
        self.gzip = False  # the member is made here, at our level
        try:
            return super()._write_warc_record(_Gzip(out, self.level, self.library), record)
        finally:
            self.gzip = True


def payload_digest(body: bytes) -> str:
    """``sha1:<base32>``, the form WARC-Payload-Digest takes."""
    return "sha1:" + base64.b32encode(hashlib.sha1(body).digest()).decode("ascii")


def warc_date(iso: str | None = None) -> str:
    """A WARC-Date (UTC, second precision): from an ISO time, or now."""
    when = datetime.fromisoformat(iso) if iso else datetime.now(UTC)
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


class _File:
    """An unbuffered append-only file that writes every byte or raises: a full disk leaves no
    buffered tail to be written later, and the record cut back at once."""

    def __init__(self, path: Path) -> None:
        self.fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        self.pos = os.lseek(self.fd, 0, os.SEEK_END)

    def write(self, data: bytes) -> int:
        view = memoryview(data)
        while view:
            n = os.write(self.fd, view)
            self.pos += n
            view = view[n:]
        return len(data)

    def tell(self) -> int:
        return self.pos

    def flush(self) -> None:
        pass

    def fileno(self) -> int:
        return self.fd

    def truncate(self, size: int) -> None:
        os.ftruncate(self.fd, size)
        self.pos = size

    def seek(self, pos: int) -> None:
        self.pos = os.lseek(self.fd, pos, os.SEEK_SET)

    def close(self) -> None:
        os.close(self.fd)


class WarcStore:
    """The WARC files of one portal's crawls."""

    def __init__(self, directory: Path, portal: str, *, base: Path | None = None, max_bytes: int = 1 << 30,
                 operator: str = "", gzip_level: int = 6, compressor: str = "isal") -> None:  # fmt: skip
        self.dir = directory / portal
        self.gzip_level = min(9, max(1, gzip_level))
        if compressor not in COMPRESSORS:
            raise WarcError(f"ARCHIVER_WARC_COMPRESSOR: {compressor!r} is not one of {', '.join(COMPRESSORS)}")
        self.compressor = compressor
        self.lock = threading.RLock()
        self.portal = portal
        self.base = base
        self.max_bytes = max_bytes
        self.operator = operator
        self.fh: Any = None
        self.path: Path | None = None
        self.writer: WARCWriter | None = None
        self.seq = 0
        self.written_since_sync = False
        self.opened: list[Path] = []
        self.on_open: Any = None  # called with the path of each new file

    # -- files ------------------------------------------------------------------------------
    def relative(self, path: Path) -> str:
        if self.base is not None:
            try:
                return str(path.resolve().relative_to(self.base.resolve()))
            except ValueError:
                pass
        return str(path)

    def _open(self) -> None:
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
            self.seq += 1
            stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
            self.path = self.dir / f"{self.portal}-{stamp}-{self.seq:05d}-{os.getpid()}.warc.gz"
            self.fh = _File(self.path)
        except OSError as exc:
            raise WarcError(f"{self.dir}: cannot create a WARC file ({exc.strerror or exc})") from None
        self.writer = _Writer(self.fh, self.gzip_level, self.compressor)
        self.opened.append(self.path)
        if self.on_open is not None:
            self.on_open(self.path)
        info = {
            "software": f"vn-portal-archiver/{__version__} (warcio)",
            "format": "WARC File Format 1.1",
            "conformsTo": "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/",
            "isPartOf": self.portal,
            "hostname": socket.gethostname(),
            "operator": self.operator,
            "description": "Responses as received by the crawler: Content-Encoding kept, Transfer-Encoding removed "
            "(bodies de-chunked).",
        }
        self._write(self.writer.create_warcinfo_record(self.path.name, info))

    def _current(self) -> WARCWriter:
        if self.writer is None or (self.fh is not None and self.fh.tell() >= self.max_bytes):
            self.close()
            self._open()
        assert self.writer is not None
        return self.writer

    def _write(self, record: Any) -> Location:
        assert self.fh is not None and self.path is not None and self.writer is not None
        offset = self.fh.tell()
        try:
            self.writer.write_record(record)
            self.fh.flush()
        except OSError as exc:
            # A half-written record is cut off at once: the file stays readable to its last record.
            try:
                self.fh.truncate(offset)
                self.fh.seek(offset)
            except OSError:
                pass
            raise WarcError(f"{self.path}: cannot write a WARC record at offset {offset} "
                            f"({exc.strerror or exc})") from None  # fmt: skip
        self.written_since_sync = True
        h = record.rec_headers
        return Location(self.relative(self.path), offset, self.fh.tell() - offset, h.get_header("WARC-Record-ID"),
                        h.get_header("WARC-Type"), h.get_header("WARC-Payload-Digest"),
                        h.get_header("WARC-Refers-To"))  # fmt: skip

    @_locked
    def sync(self) -> None:
        """Make what was written durable (before the database commit that refers to it)."""
        if self.fh is not None and self.written_since_sync:
            try:
                os.fsync(self.fh.fileno())
            except OSError as exc:
                raise WarcError(f"{self.path}: cannot sync ({exc.strerror or exc})") from None
            self.written_since_sync = False

    @_locked
    def close(self) -> None:
        if self.fh is not None:
            try:
                self.sync()
            except WarcError:
                pass  # every record is written whole already; durability was the best effort
            finally:
                self.fh.close()
        self.fh = self.writer = None

    # -- records ----------------------------------------------------------------------------
    @_locked
    def record_exchange(self, *, url: str, method: str, request_headers: list[tuple[str, str]], status: int,
                        protocol: str, response_headers: list[tuple[str, str]], body: bytes, fetched_at: str,
                        ip: str | None = None, previous: Previous | None = None) -> Location:  # fmt: skip
        """The response (or a revisit when the payload equals ``previous``'s) and its request."""
        writer = self._current()
        digest = payload_digest(body)
        date = warc_date(fetched_at)
        headers = [(k, v) for k, v in response_headers if k.lower() not in _TRANSFER]
        http = StatusAndHeaders(f"{status} {_reason(status)}", headers, protocol=protocol or "HTTP/1.1")
        extra = {"WARC-Date": date}
        if ip:
            extra["WARC-IP-Address"] = ip
        if previous is not None and previous.digest == digest:
            record = writer.create_revisit_record(url, digest, previous.target_uri, previous.date,
                                                  http_headers=http, warc_headers_dict=extra)  # fmt: skip
            record.rec_headers.add_header("WARC-Refers-To", previous.record_id)
            record.rec_headers.replace_header("WARC-Profile", WARCWriter.REVISIT_PROFILE_1_1)
        else:
            record = writer.create_warc_record(url, "response", payload=io.BytesIO(body), length=len(body),
                                               http_headers=http, warc_headers_dict=extra)  # fmt: skip
        location = self._write(record)
        split = url.split("/", 3)
        target = "/" + (split[3] if len(split) > 3 else "")
        req_http = StatusAndHeaders(f"{method} {target} {protocol or 'HTTP/1.1'}", request_headers,
                                    is_http_request=True)  # fmt: skip
        req = writer.create_warc_record(url, "request", http_headers=req_http,
                                        warc_headers_dict={"WARC-Date": date,
                                                           "WARC-Concurrent-To": location.record_id})  # fmt: skip
        self._write(req)
        return location

    @_locked
    def record_metadata(self, *, url: str, concurrent_to: str | None, fetched_at: str, outcome: dict[str, Any]) -> Location:
        """A ``metadata`` record: what the extractor made of the page, and which extractor."""
        writer = self._current()
        payload = json.dumps(outcome, ensure_ascii=False, sort_keys=True).encode("utf-8")
        extra = {"WARC-Date": warc_date(fetched_at)}
        if concurrent_to:
            extra["WARC-Concurrent-To"] = concurrent_to
        record = writer.create_warc_record(url, "metadata", payload=io.BytesIO(payload), length=len(payload),
                                           warc_content_type="application/json", warc_headers_dict=extra)  # fmt: skip
        return self._write(record)


# -- reading --------------------------------------------------------------------------------------
def _capture(record: Any, path: str, offset: int, source: str) -> Capture:
    http = record.http_headers
    headers = tuple((k, v) for k, v in (http.headers if http else []) if k.lower() not in ("content-encoding",
                                                                                           "transfer-encoding"))  # fmt: skip
    body = record.content_stream().read()  # de-chunked and Content-Encoding undone by warcio
    status = int(http.get_statuscode() or 0) if http else 0
    h = record.rec_headers
    date = h.get_header("WARC-Date") or ""
    fetched = datetime.strptime(date[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC).isoformat() if date else ""
    url = h.get_header("WARC-Target-URI") or ""
    return Capture(url=url, final_url=url, status=status, headers=headers, body=body, fetched_at=fetched,
                   source=source, warc_file=path, warc_offset=offset, record_id=h.get_header("WARC-Record-ID"),
                   payload_digest=h.get_header("WARC-Payload-Digest"))  # fmt: skip


def read_capture(path: Path, offset: int, *, stored_as: str | None = None, source: str = "warc") -> Capture:
    """The response record at ``offset`` of ``path`` as a Capture."""
    try:
        with open(path, "rb") as fh:
            fh.seek(offset)
            for record in ArchiveIterator(fh):
                if record.rec_type not in ("response", "resource"):
                    raise WarcError(f"{path}: the record at offset {offset} is a {record.rec_type} record, "
                                    "not a response")  # fmt: skip
                return _capture(record, stored_as or str(path), offset, source)
    except OSError as exc:
        raise WarcError(f"{path}: cannot read ({exc.strerror or exc})") from None
    except WarcError:
        raise
    except Exception as exc:  # noqa: BLE001 - warcio raises several kinds on damaged input
        raise WarcError(f"{path}: no readable WARC record at offset {offset} ({type(exc).__name__}: {exc})") from None
    raise WarcError(f"{path}: no WARC record at offset {offset}")


@dataclass(frozen=True)
class BadRecord:
    """A record of a WARC file that cannot be read: where, and why."""

    path: str
    offset: int
    error: str


def iter_captures(path: Path, *, stored_as: str | None = None) -> Iterator[Capture | BadRecord]:
    """Every HTTP response record of a WARC file as a Capture; a damaged record (truncated,
    corrupt gzip, bad headers) as a BadRecord with its offset, after which reading stops (the
    rest of a damaged gzip stream cannot be trusted)."""
    name = stored_as or str(path)
    with open(path, "rb") as fh:
        gzipped = fh.read(2) == b"\x1f\x8b"
    # warcio reads a gzip member cut short without complaint: records must lie in complete ones.
    good = complete_members(path)[1] if gzipped else path.stat().st_size
    with open(path, "rb") as fh:
        it = ArchiveIterator(fh)
        end = 0  # where the last good record ended: a bad one starts there
        try:
            for record in it:
                if record.format not in ("warc", "warc/1.0", "warc/1.1") and not str(record.format).startswith("warc"):
                    yield BadRecord(str(path), end, f"not a WARC record (read as {record.format})")
                    return
                capture = None
                # Read the record before asking its offset: warcio's get_record_offset() reads the
                # record to its end first, leaving nothing to read.
                if record.rec_type == "response" and record.http_headers is not None:
                    if (record.http_headers.protocol or "").upper().startswith("HTTP"):
                        capture = _capture(record, name, 0, "warc")
                else:
                    record.content_stream().read()
                it.read_to_end(record)
                offset = it.get_record_offset()
                if getattr(record.raw_stream, "limit", 0) > 0 or offset + it.get_record_length() > good:
                    # The file ends inside this record (fewer bytes than it says, or a cut gzip member).
                    yield BadRecord(str(path), end, "a record cut short (the file ends inside it)")
                    return
                end = offset + it.get_record_length()
                if capture is not None:
                    yield dataclasses.replace(capture, warc_offset=offset)
        except Exception as exc:  # noqa: BLE001 - warcio raises several kinds on damaged input
            yield BadRecord(str(path), end, f"{type(exc).__name__}: {exc}"[:300])
            return
    size = path.stat().st_size
    if end < size:  # warcio stops quietly at data it cannot read: a truncated or foreign tail
        yield BadRecord(str(path), end, f"{size - end} bytes that are no complete WARC record")


def records(path: Path) -> list[tuple[int, int, str]]:
    """(offset, length, type) of every complete record of a file; raises on a damaged one."""
    out = []
    with open(path, "rb") as fh:
        it = ArchiveIterator(fh)
        for record in it:
            record.content_stream().read()
            it.read_to_end(record)
            out.append((it.get_record_offset(), it.get_record_length(), record.rec_type))
    return out


def complete_members(path: Path) -> tuple[list[tuple[int, int]], int]:
    """The gzip members of a file that are complete, as (offset, length), and where the last one
    ends. Each of our records is one member, written whole: a member cut short is a record the
    crawler was writing when it died. (warcio reads a truncated member without complaint.)"""
    members: list[tuple[int, int]] = []
    good = start = consumed = 0
    d = zlib.decompressobj(16 + zlib.MAX_WBITS)
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            buf = chunk
            while buf:
                try:
                    d.decompress(buf, 1 << 20)
                    while d.unconsumed_tail and not d.eof:  # output is discarded, a chunk at a time
                        d.decompress(d.unconsumed_tail, 1 << 20)
                except zlib.error:
                    return members, good
                if d.eof:
                    end = consumed + len(buf) - len(d.unused_data)
                    members.append((start, end - start))
                    good = start = consumed = end
                    buf = d.unused_data
                    d = zlib.decompressobj(16 + zlib.MAX_WBITS)
                else:
                    consumed += len(buf)
                    buf = b""
    return members, good


def repair(path: Path) -> int:
    """Cut a WARC file back to its last complete record (a crawl killed while writing one);
    return the bytes removed."""
    _, good = complete_members(path)
    size = path.stat().st_size
    if size > good:
        with open(path, "r+b") as fh:
            fh.truncate(good)
    return size - good
