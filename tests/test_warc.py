"""Keep what was fetched: every response in WARC (warcio's own check and index accept every file),
revisits for unchanged pages, the body as received (Content-Encoding kept, read back right),
metadata per article, files cut back to their last complete record after a crash."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from archiver.capture.warc import Previous, WarcStore, complete_members, iter_captures, read_capture, repair
from tests.crawling import crawl, q
from tests.faultportal import FaultPortal, site

HTML = "<html><body><h1>Tiêu đề</h1><p>Nội dung có dấu.</p></body></html>".encode()


def warcio(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "warcio.cli", *args], capture_output=True, text=True, timeout=120)


def all_records(path: Path) -> list[tuple[str, dict, bytes]]:
    out = []
    with open(path, "rb") as fh:
        for rec in ArchiveIterator(fh):
            out.append((rec.rec_type, dict(rec.rec_headers.headers), rec.content_stream().read()))
    return out


@pytest.mark.parametrize("compressor", ["isal", "zlib"])
def test_a_record_round_trip_keeps_the_bytes_and_the_encoding(tmp_path: Path, compressor: str) -> None:
    store = WarcStore(tmp_path / "warc", "demo", base=tmp_path, compressor=compressor)
    sent = gzip.compress(HTML)
    loc = store.record_exchange(url="http://127.0.0.1:1/a.html?id=5&page=2", method="GET",
                                request_headers=[("User-Agent", "vn-portal-archiver/test")], status=200,
                                protocol="HTTP/1.1", response_headers=[("Content-Type", "text/html; charset=utf-8"),
                                ("Content-Encoding", "gzip"), ("Transfer-Encoding", "chunked")], body=sent,
                                fetched_at="2026-12-01T10:00:00+00:00", ip="127.0.0.1")  # fmt: skip
    store.close()
    path = tmp_path / loc.file
    assert loc.file.startswith("warc/demo/") and loc.record_type == "response"
    # a standard reader gets the page back, decoded
    with open(path, "rb") as fh:
        fh.seek(loc.offset)
        rec = next(iter(ArchiveIterator(fh)))
        assert rec.http_headers.get_header("Content-Encoding") == "gzip"  # as received
        assert rec.http_headers.get_header("Transfer-Encoding") is None  # stored de-chunked
        assert rec.content_stream().read() == HTML
        assert rec.rec_headers.get_header("WARC-Target-URI") == "http://127.0.0.1:1/a.html?id=5&page=2"
        assert rec.rec_headers.get_header("WARC-IP-Address") == "127.0.0.1"
    capture = read_capture(path, loc.offset)
    assert capture.body == HTML and capture.status == 200 and capture.fetched_at == "2026-12-01T10:00:00+00:00"
    types = [t for t, _, _ in all_records(path)]
    assert types == ["warcinfo", "response", "request"]
    request = all_records(path)[2]
    assert request[1]["WARC-Concurrent-To"] == loc.record_id
    assert warcio("check", str(path)).returncode == 0
    index = [json.loads(line) for line in warcio("index", "-f", "warc-type,warc-target-uri", str(path)).stdout.splitlines()]
    assert [r["warc-type"] for r in index] == ["warcinfo", "response", "request"]


def test_an_unchanged_payload_is_a_revisit(tmp_path: Path) -> None:
    store = WarcStore(tmp_path / "warc", "demo", base=tmp_path)
    args = dict(method="GET", request_headers=[], status=200, protocol="HTTP/1.1",
                response_headers=[("Content-Type", "text/html")], body=HTML)  # fmt: skip
    first = store.record_exchange(url="http://a/x.html", fetched_at="2026-12-01T10:00:00+00:00", **args)  # type: ignore[arg-type]
    prev = Previous(first.digest or "", first.record_id, "http://a/x.html", "2026-12-01T10:00:00Z")
    again = store.record_exchange(url="http://a/x.html", fetched_at="2026-12-02T10:00:00+00:00", previous=prev, **args)  # type: ignore[arg-type]
    changed = store.record_exchange(url="http://a/x.html", fetched_at="2026-12-03T10:00:00+00:00", previous=prev,
                                    **{**args, "body": HTML + "<!-- sửa -->".encode()})  # type: ignore[arg-type]  # fmt: skip
    store.close()
    assert (again.record_type, again.refers_to) == ("revisit", first.record_id)
    assert changed.record_type == "response"
    path = tmp_path / first.file
    revisit = [h for t, h, _ in all_records(path) if t == "revisit"][0]
    assert revisit["WARC-Profile"].endswith("/revisit/identical-payload-digest")
    assert revisit["WARC-Refers-To-Target-URI"] == "http://a/x.html"
    assert warcio("check", str(path)).returncode == 0


@pytest.mark.parametrize("compressor", ["isal", "zlib"])
def test_a_half_written_record_is_cut_back(tmp_path: Path, compressor: str) -> None:
    store = WarcStore(tmp_path / "warc", "demo", base=tmp_path, compressor=compressor)
    locs = [store.record_exchange(url=f"http://a/{i}.html", method="GET", request_headers=[], status=200,
                                  protocol="HTTP/1.1", response_headers=[], body=HTML * (i + 1),
                                  fetched_at="2026-12-01T10:00:00+00:00") for i in range(3)]  # fmt: skip
    store.close()
    path = tmp_path / locs[0].file
    whole = path.read_bytes()
    # one gzip member per record (warcinfo, then response and request of each page)
    assert len(complete_members(path)[0]) == 7
    path.write_bytes(whole[: locs[2].offset + 20])  # killed while writing the third response
    assert repair(path) == 20
    assert complete_members(path)[1] == path.stat().st_size
    assert [c.final_url for c in iter_captures(path)] == ["http://a/0.html", "http://a/1.html"]
    assert warcio("check", str(path)).returncode == 0


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory):
    """The fault-free fault portal, pages gzip-compressed by the server, crawled twice."""
    server = FaultPortal({"gzip"})
    db = tmp_path_factory.mktemp("warc") / "archive.db"
    try:
        first = crawl(db, server.url)
        second = crawl(db, server.url, "--full")
    finally:
        server.stop()
    return db, first, second


def test_every_file_the_crawler_writes_passes_warcio_check(crawled) -> None:
    db, first, second = crawled
    assert first.returncode == second.returncode == 0, first.stderr + second.stderr
    files = sorted((db.parent / "warc" / "demo").glob("*.warc.gz"))
    assert len(files) == 2  # one per run
    for f in files:
        assert warcio("check", str(f)).returncode == 0, f
        assert warcio("index", str(f)).returncode == 0


def test_one_response_record_per_fetched_page_and_revisits_the_second_time(crawled) -> None:
    db, _, _ = crawled
    runs = q(db, "SELECT id, pages FROM crawl_runs ORDER BY id")
    for run_id, pages in runs:
        kinds = dict(q(db, "SELECT record_type, count(*) FROM captures WHERE run_id = ? AND kind IN "
                           "('article', 'listing') GROUP BY 1", run_id))  # fmt: skip
        assert sum(kinds.values()) == pages, (run_id, kinds)
    assert dict(q(db, "SELECT record_type, count(*) FROM captures WHERE run_id = ? GROUP BY 1", runs[0][0])).get(
        "revisit") is None  # fmt: skip
    # the second walk found every page unchanged: revisit records, no second copy of the bytes
    second = dict(q(db, "SELECT record_type, count(*) FROM captures WHERE run_id = ? AND kind IN ('article', 'listing')"
                        " GROUP BY 1", runs[1][0]))  # fmt: skip
    assert second == {"revisit": runs[1][1]}
    # robots.txt is recorded too
    assert q(db, "SELECT count(*) FROM captures WHERE kind = 'robots'")[0][0] == 2


def test_the_body_is_kept_as_received_and_read_back_right(crawled) -> None:
    db, _, _ = crawled
    a = site()[0][0]
    (warc_file, offset, capture_id) = q(db, "SELECT warc_file, warc_offset, id FROM captures WHERE record_type = "
                                            "'response' AND target_uri LIKE ?", "%" + a.slug + "%")[0]  # fmt: skip
    with open(db.parent / warc_file, "rb") as fh:
        fh.seek(offset)
        rec = next(iter(ArchiveIterator(fh)))
        assert rec.http_headers.get_header("Content-Encoding") == "gzip"  # the server's encoding, kept
        page = rec.content_stream().read().decode("utf-8")
    assert a.title in page
    # each stored article points to its capture, and its revision says which extractor made it
    rev = q(db, "SELECT r.capture_id, r.extractor, r.reason FROM article_revisions r JOIN articles x ON "
                "x.id = r.article_id WHERE x.title = ?", a.title)  # fmt: skip
    assert rev == [(capture_id, rev[0][1], "first")] and rev[0][1].startswith("2026.")


def test_a_metadata_record_per_article(crawled) -> None:
    db, _, _ = crawled
    f = sorted((db.parent / "warc" / "demo").glob("*.warc.gz"))[0]
    meta = [json.loads(body) for t, _, body in all_records(f) if t == "metadata"]
    stored = [m for m in meta if m["outcome"] == "stored"]
    assert len(stored) == q(db, "SELECT count(*) FROM articles")[0][0] == 30
    assert all(m["extractor"].startswith("2026.") and m["fields"]["title"] for m in stored)
