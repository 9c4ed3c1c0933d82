"""Unattended crawls against the fault-injection portal: faults, gone articles, crashes, locks."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.crawling import q
from tests.faultportal import ALL_FAULTS, NOT_ARTICLE, UNREACHABLE, FaultPortal, article_no, moved_path, site

ROOT = Path(__file__).resolve().parents[1]
BASE = "https://haugiang-demo.example"
# Quick but faithful settings for a server on 127.0.0.1 that answers instantly.
FAST = ["-s", "DOWNLOAD_TIMEOUT=3", "-s", "RETRY_TIMES=2", "-s", "ARCHIVER_BACKOFF_BASE=0.2", "-s", "AUTOTHROTTLE_ENABLED=False",
        "-s", "DOWNLOAD_DELAY=0", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=4", "-s", "ARCHIVER_PROGRESS_INTERVAL=0"]  # fmt: skip


def crawl_cmd(db: Path, server: FaultPortal, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "archiver.cli",
        "crawl",
        "demo",
        "--db",
        str(db),
        "--base-url",
        server.url,
        *FAST,
        *extra,
    ]


def crawl(db: Path, server: FaultPortal, *extra: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run(crawl_cmd(db, server, *extra), capture_output=True, text=True, cwd=ROOT, timeout=timeout)


def expected_titles() -> set[str]:
    arts, _ = site()
    return {a.title for i, a in enumerate(arts, 1) if i not in UNREACHABLE and i not in NOT_ARTICLE}


@pytest.fixture(scope="module")
def faulty(tmp_path_factory: pytest.TempPathFactory):
    server = FaultPortal(ALL_FAULTS)
    db = tmp_path_factory.mktemp("faults") / "archive.db"
    t0 = time.monotonic()
    result = crawl(db, server, "--full")
    elapsed = time.monotonic() - t0
    yield server, db, result, elapsed
    server.stop()


def test_every_reachable_article_archived_exactly_once(faulty) -> None:
    server, db, result, elapsed = faulty
    assert result.returncode == 0, result.stdout + result.stderr
    titles = [r[0] for r in q(db, "SELECT title FROM articles")]
    assert len(titles) == len(set(titles))
    assert set(titles) == expected_titles()
    assert "Traceback" not in result.stderr
    assert elapsed < 120  # the crawl ends within a bound despite timeouts, drips and traps


def test_every_failure_recorded_with_url_and_reason(faulty) -> None:
    server, db, result, _ = faulty
    errors = {
        url: (status, error, attempts)
        for url, status, error, attempts in q(db, "SELECT url, status, error, attempts FROM fetch_errors")
    }
    for n, fault in UNREACHABLE.items():
        url = server.url + article_no(n).path
        assert url in errors, (fault, sorted(errors))
        assert errors[url][1], fault
    assert any("vong-lap" in u for u in errors)  # the redirect loop
    timeout_error = errors[server.url + article_no(2).path]
    assert "took longer" in timeout_error[1] or "timeout" in timeout_error[1].lower()
    assert timeout_error[2] == 3  # first try and two retries
    run = q(db, "SELECT status, errors, not_articles, complete FROM crawl_runs")[0]
    assert run == ("ok", len(errors), 1, 1)


def test_faults_handled_as_designed(faulty) -> None:
    server, db, _, _ = faulty
    # 5xx burst and 429 retried (with Retry-After honoured): the article is there
    assert q(db, "SELECT count(*) FROM articles WHERE title = ?", article_no(1).title) == [(1,)]
    # wrong charset declaration: the title is read as UTF-8
    assert q(db, "SELECT title FROM articles WHERE url LIKE ?", "%" + article_no(9).slug + "%") == [
        (article_no(9).title,)
    ]
    # moved with 301: stored under its new URL
    assert q(db, "SELECT url FROM articles WHERE title = ?", article_no(10).title) == [
        (BASE + moved_path(article_no(10)),)
    ]
    # redirect chain: stored under the final URL
    assert q(db, "SELECT url FROM articles WHERE title = ?", article_no(6).title) == [(BASE + article_no(6).path,)]
    # the endless pagination was cut
    trap_pages = [p for p in server.hits if p.startswith("/tin-tuc/kinh-te/trang-")]
    assert 3 < len(trap_pages) < 12
    # the 200-OK error page was counted, not stored
    assert q(db, "SELECT count(*) FROM articles WHERE title LIKE 'Trang không tồn tại%'") == [(0,)]


def test_deleted_article_is_kept_and_marked_gone(tmp_path: Path) -> None:
    server = FaultPortal(set())
    try:
        db = tmp_path / "a.db"
        assert crawl(db, server).returncode == 0
        assert q(db, "SELECT count(*) FROM articles") == [(30,)]
        server.faults.add("deleted")
        result = crawl(db, server, "--full")
        assert result.returncode == 0, result.stderr
        gone = q(db, "SELECT title, gone_at IS NOT NULL, http_status FROM articles WHERE gone_at IS NOT NULL")
        assert gone == [(article_no(11).title, 1, 404)]
        assert q(db, "SELECT count(*) FROM articles") == [(30,)]
        assert q(db, "SELECT gone FROM crawl_runs ORDER BY id DESC LIMIT 1") == [(1,)]
    finally:
        server.stop()


def test_incremental_crawl_fetches_no_stored_article(tmp_path: Path) -> None:
    server = FaultPortal(set())
    try:
        db = tmp_path / "a.db"
        assert crawl(db, server).returncode == 0
        before = dict(server.hits)
        result = crawl(db, server)
        assert result.returncode == 0
        refetched = [
            p for p in server.hits if p.endswith(".html") and "/trang-" not in p and server.hits[p] > before.get(p, 0)
        ]
        assert refetched == []
        run = q(db, "SELECT mode, new, unchanged, pages FROM crawl_runs ORDER BY id DESC LIMIT 1")[0]
        assert run[:3] == ("incremental", 0, 0)
        # a complete earlier walk: each category stops after ARCHIVER_STOP_AFTER pages with nothing new
        assert run[3] <= 3 * 3
    finally:
        server.stop()


def integrity(db: Path) -> None:
    assert q(db, "PRAGMA integrity_check") == [("ok",)]
    assert q(db, "SELECT count(*) - count(DISTINCT url) FROM articles") == [(0,)]
    # no half-written article: every article has its first revision and its URL
    assert q(
        db,
        "SELECT count(*) FROM articles a WHERE NOT EXISTS (SELECT 1 FROM article_revisions r WHERE r.article_id = a.id AND r.revision = 1)",
    ) == [(0,)]
    assert q(
        db, "SELECT count(*) FROM articles a WHERE NOT EXISTS (SELECT 1 FROM article_urls u WHERE u.article_id = a.id)"
    ) == [(0,)]
    conn = sqlite3.connect(db)
    conn.execute("INSERT INTO articles_fts(articles_fts) VALUES ('integrity-check')")
    conn.close()


def warc_intact(db: Path, *, repaired: bool = False) -> None:
    """Every WARC file reads to its last complete record, and every record the archive points to
    is complete and readable. ``repaired``: no file has a half-written tail any more."""
    from archiver.capture.warc import complete_members, read_capture

    ends = {}
    for f in (db.parent / "warc").rglob("*.warc.gz"):
        members, end = complete_members(f)
        ends[str(f.relative_to(db.parent))] = end
        if repaired:
            assert end == f.stat().st_size, f
            assert subprocess.run([sys.executable, "-m", "warcio.cli", "check", str(f)]).returncode == 0
    for warc_file, offset, length, rtype in q(db, "SELECT warc_file, warc_offset, warc_length, record_type FROM captures"):
        assert offset + length <= ends[warc_file], (warc_file, offset)
        if rtype == "response":
            assert read_capture(db.parent / warc_file, offset).status in (200, 301, 302, 404, 503)


def test_kill_9_at_random_moments_then_resume(tmp_path: Path) -> None:
    server = FaultPortal(set(), delay=0.03)
    try:
        ref = tmp_path / "reference.db"
        assert crawl(ref, server).returncode == 0
        reference = set(q(ref, "SELECT url, content_hash FROM articles"))
        assert len(reference) == 30
        db = tmp_path / "crashed.db"
        rng = random.Random(20251126)
        for _trial in range(10):
            proc = subprocess.Popen(
                crawl_cmd(db, server), cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
            time.sleep(rng.uniform(0.4, 3.0))
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            if db.exists() and q(db, "SELECT name FROM sqlite_master WHERE name = 'crawl_runs'"):
                integrity(db)
                warc_intact(db)
                # a killed run's row shows what it had committed: its counters are written with its articles
                assert q(db, "SELECT coalesce(sum(new), 0) FROM crawl_runs") == q(db, "SELECT count(*) FROM articles")
        result = crawl(db, server)
        assert result.returncode == 0, result.stderr
        integrity(db)
        warc_intact(db, repaired=True)
        assert set(q(db, "SELECT url, content_hash FROM articles")) == reference
        statuses = [r[0] for r in q(db, "SELECT status FROM crawl_runs")]
        assert statuses[-1] == "ok" and "running" not in statuses
    finally:
        server.stop()


def test_two_crawls_on_one_archive(tmp_path: Path) -> None:
    server = FaultPortal(set(), delay=0.2)
    db = tmp_path / "a.db"
    try:
        first = subprocess.Popen(
            crawl_cmd(db, server), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        lock = Path(f"{db}.lock")
        for _ in range(200):
            if lock.exists() and lock.read_text().strip():
                break
            time.sleep(0.05)
        second = crawl(db, server)
        assert second.returncode == 75
        assert "another crawl holds the lock" in second.stderr
        out, err = first.communicate(timeout=180)
        assert first.returncode == 0, err
        assert lock.read_text() == ""  # released cleanly
    finally:
        server.stop()


def test_stale_lock_is_taken_over(tmp_path: Path) -> None:
    server = FaultPortal(set())
    db = tmp_path / "a.db"
    try:
        Path(f"{db}.lock").write_text('{"pid": 999999, "host": "elsewhere", "since": "2026-01-01T00:00:00+00:00"}')
        result = crawl(db, server, "--log-level", "INFO")
        assert result.returncode == 0, result.stderr
        assert "taking over the stale lock" in result.stderr
    finally:
        server.stop()


def test_crawl_all_isolates_portals_and_exits_1_when_one_fails(tmp_path: Path) -> None:
    server = FaultPortal(set())
    profiles = tmp_path / "portals"
    profiles.mkdir()
    with socket_port() as dead:
        for slug, base in (("song", server.url), ("chet", f"http://127.0.0.1:{dead}"), ("tat", server.url)):
            enabled = "false" if slug == "tat" else "true"
            (profiles / f"{slug}.toml").write_text(
                f'name = "{slug}"\nprovince = "Hậu Giang"\nextends = "hgportal"\nbase_url = "{base}"\n'
                f'start_urls = ["/tin-tuc/tin-trong-tinh/"]\nallow_private = true\nenabled = {enabled}\n',
                encoding="utf-8",
            )
        db = tmp_path / "a.db"
        env = dict(os.environ, ARCHIVER_PORTALS_DIR=str(profiles))
        try:
            result = subprocess.run([sys.executable, "-m", "archiver.cli", "crawl", "--all", "--db", str(db), *FAST],
                                    capture_output=True, text=True, cwd=ROOT, env=env, timeout=180)  # fmt: skip
        finally:
            server.stop()
    assert result.returncode == 1
    runs = dict(q(db, "SELECT portal, status FROM crawl_runs"))
    assert runs == {"song": "ok", "chet": "failed"}  # the disabled portal is not crawled
    assert q(db, "SELECT count(*) FROM articles WHERE portal = 'song'") == [(10,)]
    assert "chet" in result.stdout and "failed" in result.stdout
    listed = subprocess.run([sys.executable, "-m", "archiver.cli", "runs", "--db", str(db), "--errors"], capture_output=True,
                            text=True, cwd=ROOT, env=env, timeout=60)  # fmt: skip
    assert listed.returncode == 0 and "chet" in listed.stdout and "Connection was refused" in listed.stdout


class socket_port:
    """A port on 127.0.0.1 that nobody listens on."""

    def __enter__(self) -> int:
        import socket

        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        self.port = s.getsockname()[1]
        s.close()
        return self.port

    def __exit__(self, *exc: object) -> None:
        pass
