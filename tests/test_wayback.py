"""The Wayback Machine as a source, against a local mock of the CDX server and its replays
(``tests/waybackmock.py``): captured history archived in time order, merged with live crawls,
resumable, within the rate limits; and the CDX parsing on what the service really returns."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from archiver.profiles import PORTALS_DIR
from archiver.wayback import parse_cdx, parse_replay_url, replay_url, stamp, timestamp_iso
from tests.crawling import QUICK, ROOT, archiver_cmd, crawl_cmd, q
from tests.waybackmock import GONE_PATH, ORIGIN, WaybackMock

FAST = ["-s", "ARCHIVER_WAYBACK_CDX_PER_MINUTE=240", "-s", "ARCHIVER_WAYBACK_REPLAYS_PER_SECOND=40",
        "-s", "ARCHIVER_WAYBACK_CDX_LIMIT=25", "-s", "RETRY_TIMES=3"]  # fmt: skip


def wayback_cmd(db: Path, mock: WaybackMock, *extra: str, portal: str = "demo") -> list[str]:
    return archiver_cmd("crawl", portal, "--db", str(db), "--source", "wayback", *QUICK, "-s",
                        f"ARCHIVER_WAYBACK_URL={mock.url}", *FAST, *extra)  # fmt: skip


def run(cmd: list[str], timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=timeout)


@pytest.fixture
def mock():
    m = WaybackMock()
    yield m
    m.stop()


def articles(db: Path) -> dict[str, tuple]:
    return {r[0].removeprefix(ORIGIN): r[1:] for r in q(db, "SELECT url, id, first_seen, revision, title FROM articles")}


def test_a_portal_history_is_archived_from_the_wayback_machine(mock: WaybackMock, tmp_path: Path) -> None:
    db = tmp_path / "w.db"
    r = run(wayback_cmd(db, mock))
    assert r.returncode == 0, r.stdout + r.stderr[-3000:]
    got = articles(db)
    truth = mock.truth
    assert set(got) == set(truth), set(truth) ^ set(got)  # every captured article once, the soft-404 not
    assert GONE_PATH in got  # what the live site no longer has
    for path, t in truth.items():
        aid, first_seen, revision, title = got[path]
        # The capture whose replay redirected to the same URL a few seconds later has that time.
        stamps = [mock.moved_to if s == mock.moved_stamp else s for s in t["stamps"]]
        assert first_seen == timestamp_iso(stamps[0]), path
        assert title == t["title"]
        if t["views"] is not None:
            seen = q(db, "SELECT seen_at, views FROM view_counts WHERE article_id = ? ORDER BY seen_at", aid)
            # One observation per capture, at its time, with the count it printed.
            assert seen == [(timestamp_iso(s), v) for s, v in zip(stamps, t["views"], strict=True)], path
        revs = q(db, "SELECT revision, seen_at, reason FROM article_revisions WHERE article_id = ? ORDER BY revision",
                 aid)  # fmt: skip
        assert revision == (2 if t["edited"] else 1) and len(revs) == revision, path
        assert [s for _, s, _ in revs] == sorted(s for _, s, _ in revs)  # revisions in capture order
    # Provenance: source wayback, the archive URL, the capture time.
    src = q(db, "SELECT source, target_uri, fetched_at FROM captures WHERE kind = 'article' AND article_id IS NOT NULL")
    assert src and all(s == "wayback" and uri.startswith(mock.url + "/web/") and "id_/" in uri for s, uri, _ in src)
    d = json.loads(q(db, "SELECT discovery FROM crawl_runs")[0][0])
    assert d["rows_repeated"] >= 1 and d["replays_moved"] == 1 and d["cdx_queries"] >= 4, d
    assert q(db, "SELECT mode, status FROM crawl_runs")[0] == ("wayback", "ok")
    # Never more than the configured rates (240 a minute, 40 a second), 429 bursts included.
    assert mock.rate("cdx", 60.0) <= 240 and mock.rate("cdx", 1.0) <= 5
    assert mock.rate("replay", 1.0) <= 41
    # The next night: nothing is fetched again; only newer captures are asked for.
    before = len(mock.requests)
    r = run(wayback_cmd(db, mock))
    assert r.returncode == 0, r.stderr[-2000:]
    replays = [p for _, k, p in mock.requests[before:] if k == "replay"]
    assert len(replays) <= 3, replays  # the soft-404 (never stored) and the moved capture
    assert all("from=2023" in p for _, k, p in mock.requests[before:] if k == "cdx")


def test_live_and_wayback_are_one_history(mock: WaybackMock, demo_site, tmp_path: Path) -> None:
    db = tmp_path / "m.db"
    url = demo_site
    r = run(crawl_cmd(db, url))
    assert r.returncode == 0, r.stderr[-2000:]
    live = articles(db)
    r = run(wayback_cmd(db, mock))
    assert r.returncode == 0, r.stdout + r.stderr[-3000:]
    merged = articles(db)
    assert set(merged) == set(live) | {GONE_PATH}
    for path, t in mock.truth.items():
        if path == GONE_PATH or path not in live:
            continue
        aid, first_seen, _, _ = merged[path]
        first = mock.moved_to if t["stamps"][0] == mock.moved_stamp else t["stamps"][0]
        assert first_seen == timestamp_iso(first), path  # seen first by the Wayback Machine, years before
        reasons = [row[0] for row in q(db, "SELECT reason FROM article_revisions WHERE article_id = ? "
                                           "ORDER BY revision", aid)]  # fmt: skip
        # The edited text seen only in 2023 is a revision of that time; the current text stays the live one.
        assert reasons == (["first", "archived"] if t["edited"] else ["first"]), (path, reasons)
        current = q(db, "SELECT content_hash FROM articles WHERE id = ?", aid)[0][0]
        first = q(db, "SELECT content_hash FROM article_revisions WHERE article_id = ? AND revision = 1", aid)[0][0]
        assert current == first
    # A later live crawl continues the history: no duplicate, the archived article kept.
    r = run(crawl_cmd(db, url))
    assert r.returncode == 0 and set(articles(db)) == set(merged)


def test_a_killed_wayback_run_resumes_from_its_cursor(tmp_path: Path) -> None:
    mock = WaybackMock(burst_429=0)
    try:
        db = tmp_path / "k.db"
        slow = ["-s", "ARCHIVER_WAYBACK_REPLAYS_PER_SECOND=8", "-s", "ARCHIVER_BATCH_SIZE=1"]
        proc = subprocess.Popen(wayback_cmd(db, mock, *slow), cwd=ROOT, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True)  # fmt: skip
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            time.sleep(0.3)
            if db.exists():
                try:
                    if q(db, "SELECT count(*) FROM wayback_cursors WHERE resume_key IS NOT NULL")[0][0]:
                        break
                except Exception:  # noqa: BLE001 - the archive is still being created
                    pass
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)
        stored = q(db, "SELECT count(*) FROM articles")[0][0]
        assert 0 < stored < len(mock.truth)
        before = len(mock.requests)
        r = run(wayback_cmd(db, mock))
        assert r.returncode == 0, r.stdout + r.stderr[-3000:]
        assert set(articles(db)) == set(mock.truth)
        first_cdx = next(p for _, k, p in mock.requests[before:] if k == "cdx")
        assert "resumeKey=" in first_cdx
        counts = q(db, "SELECT count(*) FROM view_counts GROUP BY article_id, seen_at HAVING count(*) > 1")
        assert counts == []  # no capture stored twice
    finally:
        mock.stop()


def test_access_control_errors_are_reported_not_retried(tmp_path: Path) -> None:
    mock = WaybackMock(burst_429=0)
    mock.blocked = True
    try:
        db = tmp_path / "b.db"
        r = run(wayback_cmd(db, mock))
        assert r.returncode == 1
        status, reason = q(db, "SELECT status, reason FROM crawl_runs")[0]
        assert status == "failed" and "RobotAccessControlException" in reason, reason
        assert sum(1 for _, k, _ in mock.requests if k == "cdx") == 1
    finally:
        mock.stop()


def test_a_portal_marked_gone_is_taken_from_the_wayback_machine_by_all(mock: WaybackMock, tmp_path: Path) -> None:
    portals = tmp_path / "portals"
    portals.mkdir()
    text = (PORTALS_DIR / "demo.toml").read_text(encoding="utf-8").replace("enabled = false", 'status = "gone"')
    (portals / "demo.toml").write_text(text, encoding="utf-8")
    db = tmp_path / "a.db"
    cmd = archiver_cmd("crawl", "--all", "--db", str(db), *QUICK, "-s", f"ARCHIVER_WAYBACK_URL={mock.url}", *FAST)
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=300,
                       env=dict(os.environ, ARCHIVER_PORTALS_DIR=str(portals)))  # fmt: skip
    assert r.returncode == 0, r.stdout + r.stderr[-2000:]
    assert q(db, "SELECT mode FROM crawl_runs") == [("wayback",)]
    assert q(db, "SELECT count(*) FROM articles")[0][0] == len(mock.truth)


# -- the pure parts -------------------------------------------------------------------------------
def test_cdx_pages_as_the_service_returns_them() -> None:
    rows = [["urlkey", "timestamp", "original", "mimetype", "statuscode", "digest", "length"],
            ["vn,gov,x)/a", "20210101000000", "https://x.gov.vn/a", "text/html", "200", "D1", "10"],
            ["vn,gov,x)/a", "20210101000000", "https://x.gov.vn/a", "text/html", "200", "D1", "10"],
            ["vn,gov,x)/a", "20220101000000", "https://x.gov.vn/a", "warc/revisit", "-", "D1", "0"],
            ["vn,gov,x)/b", "20210101000000", "https://x.gov.vn/b", "text/html", "301", "D2", "0"],
            [], ["vn%2Cgov%2Cx%29%2Fb+20210101000000"]]  # fmt: skip
    page = parse_cdx(json.dumps(rows).encode())
    assert [r.original for r in page.rows] == ["https://x.gov.vn/a"]
    assert (page.repeated, page.revisits, page.other) == (1, 1, 1)
    assert page.resume_key == "vn%2Cgov%2Cx%29%2Fb+20210101000000"
    text = "vn,gov,x)/a 20210101000000 https://x.gov.vn/a text/html 200 D1 10\n\nKEY\n"
    assert parse_cdx(text).resume_key == "KEY" and len(parse_cdx(text).rows) == 1
    assert parse_cdx(b"[]").rows == []
    denied = parse_cdx(b"org.archive.wayback.exception.RobotAccessControlException: Blocked By Robots")
    assert denied.error and "RobotAccessControlException" in denied.error
    assert parse_cdx(b"<html>oops").error or parse_cdx(b"<html>oops").rows == []


def test_replay_urls_and_timestamps() -> None:
    u = replay_url("https://web.archive.org", "20210305080000", "https://x.gov.vn/a.aspx?ItemID=1&l=2")
    assert u == "https://web.archive.org/web/20210305080000id_/https://x.gov.vn/a.aspx?ItemID=1&l=2"
    assert parse_replay_url(u) == ("20210305080000", "https://x.gov.vn/a.aspx?ItemID=1&l=2")
    assert parse_replay_url("https://web.archive.org/web/20210305080000id_/https:/x.gov.vn/a")[1] == "https://x.gov.vn/a"
    assert timestamp_iso("20210305080000") == "2021-03-05T08:00:00+00:00"
    assert stamp("2021-03") == "202103" and stamp("20210305") == "20210305"
    for bad in ("21", "2021-13", "20210230", "yesterday"):
        with pytest.raises(ValueError):
            stamp(bad)


def test_bad_wayback_options_are_one_line(tmp_path: Path) -> None:
    r = run(archiver_cmd("crawl", "demo", "--db", str(tmp_path / "x.db"), "--source", "wayback", "--from", "2021-13"))
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and "--from" in r.stderr
    r = run(archiver_cmd("crawl", "demo", "--db", str(tmp_path / "x.db"), "--from", "2021"))
    assert r.returncode == 2 and "--source" in r.stderr
    shutil.rmtree(tmp_path, ignore_errors=True)


def test_auto_takes_from_the_wayback_machine_only_what_live_lacks(mock: WaybackMock, demo_site, tmp_path: Path) -> None:
    db = tmp_path / "auto.db"
    cmd = archiver_cmd("crawl", "demo", "--db", str(db), "--source", "auto", "--base-url", demo_site, *QUICK,
                       "-s", f"ARCHIVER_WAYBACK_URL={mock.url}", *FAST)  # fmt: skip
    r = run(cmd)
    assert r.returncode == 0, r.stdout + r.stderr[-2000:]
    assert [m for (m,) in q(db, "SELECT mode FROM crawl_runs ORDER BY id")] == ["incremental", "wayback"]
    assert GONE_PATH in articles(db)
    replayed = {p.split("id_/", 1)[1] for _, k, p in mock.requests if k == "replay"}
    assert ORIGIN + GONE_PATH in replayed and len(replayed) <= 3, replayed  # not what the live crawl had
