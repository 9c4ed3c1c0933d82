"""Record every response the crawler receives in WARC, as received.

A downloader middleware placed next to the downloader (after it, on the way out): it sees each
response before Scrapy decompresses it, so the ``response`` record holds the body and the
``Content-Encoding`` exactly as the portal sent them; redirects, error pages with a body, retried
5xx answers and robots.txt are recorded too. Each record is written and flushed at once; the
record's location goes into the request's meta (the capture of the page the spider parses) and
a ``RecordedCapture`` goes to the archive's writer, which commits it after the record is on disk.
A WARC file that cannot be written (disk full) stops storing: the runs fail with the reason.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from scrapy.http import Request, Response

from archiver.capture.warc import Previous, WarcError
from archiver.items import RecordedCapture

log = logging.getLogger(__name__)


def _pairs(headers: Any) -> list[tuple[str, str]]:
    out = []
    for key, values in headers.items():
        for value in values:
            out.append((key.decode("latin-1"), value.decode("latin-1")))
    return out


def request_kind(request: Request) -> str:
    if request.meta.get("dont_obey_robotstxt") and request.url.endswith("/robots.txt"):
        return "robots"
    return str(request.meta.get("kind") or "other")


class WarcMiddleware:
    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Any) -> WarcMiddleware:
        return cls(crawler)

    async def process_response(self, request: Request, response: Response, spider: Any = None) -> Response:
        ctx = getattr(self.crawler, "archiver", None)
        if ctx is None or ctx.warc is None or ctx.writer.failed:
            return response
        site = ctx.site
        fetched_at = datetime.now(UTC).isoformat(timespec="seconds")
        wayback = request.meta.get("wayback")
        try:
            canonical = site.canonical(wayback["original"] if wayback else response.url)
        except ValueError:
            canonical = None
        previous = None
        if canonical and request.meta.get("kind") in ("article", "listing"):
            last = ctx.writer.archive.last_payload(canonical)
            if last is not None:
                previous = Previous(last["digest"], last["record_id"], last["target_uri"],
                                    _warc_date(last["fetched_at"]))  # fmt: skip
        from functools import partial

        from scrapy.utils.defer import maybe_deferred_to_future
        from twisted.internet.threads import deferToThread

        write = partial(
            ctx.warc.record_exchange,
            url=response.url, method=request.method, request_headers=_pairs(request.headers),
            status=response.status, protocol=getattr(response, "protocol", None) or "HTTP/1.1",
            response_headers=_pairs(response.headers), body=response.body, fetched_at=fetched_at,
            ip=str(response.ip_address) if getattr(response, "ip_address", None) else None, previous=previous,
        )  # fmt: skip
        try:
            # Compressing and writing the record in a worker thread (zlib releases the GIL): the
            # event loop goes on fetching other pages meanwhile.
            loc = await maybe_deferred_to_future(deferToThread(write))
        except WarcError as exc:
            log.error("%s", exc)
            ctx.writer.fail(f"cannot write WARC: {exc}")
            return response
        self.crawler.stats.inc_value(f"archiver/warc/{loc.record_type}")
        content_type = response.headers.get("Content-Type")
        ctx.writer.add(ctx.run, RecordedCapture(
            portal=ctx.run.portal, kind=request_kind(request), target_uri=response.url, canonical_url=canonical,
            status=response.status, fetched_at=_seen_at(response.url, wayback) if wayback else fetched_at,
            source="wayback" if wayback else "mirror" if site.is_mirror else "live",
            content_type=content_type.decode("latin-1") if content_type else None, payload_digest=loc.digest,
            record_type=loc.record_type, record_id=loc.record_id, warc_file=loc.file, warc_offset=loc.offset,
            warc_length=loc.length, refers_to=loc.refers_to,
        ))  # fmt: skip
        request.meta["archiver_warc"] = {"record_id": loc.record_id, "file": loc.file, "offset": loc.offset,
                                         "digest": loc.digest, "fetched_at": fetched_at}  # fmt: skip
        return response


def _seen_at(url: str, wayback: dict[str, str]) -> str:
    """A Wayback capture's own time (the replay's timestamp), which is when the page was seen."""
    from archiver.wayback import parse_replay_url, timestamp_iso

    got = parse_replay_url(url)
    return timestamp_iso(got[0] if got else wayback["timestamp"])


def _warc_date(iso: str) -> str:
    from archiver.capture.warc import warc_date

    try:
        return warc_date(iso)
    except ValueError:
        return iso
