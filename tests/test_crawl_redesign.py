"""Silent zeros are flagged: a portal whose markup changed between two runs (a redesign) is not a
quiet night. The run is ``degraded``, the reason names the field and the selector, exit code 1."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

from tests.faultportal import FaultPortal

ROOT = Path(__file__).resolve().parents[1]
FAST = ["-s", "AUTOTHROTTLE_ENABLED=False", "-s", "DOWNLOAD_DELAY=0", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=4",
        "-s", "ARCHIVER_PROGRESS_INTERVAL=0"]  # fmt: skip


def crawl(db: Path, server: FaultPortal, *extra: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "archiver.cli", "crawl", "demo", "--db", str(db), "--base-url", server.url, *FAST, *extra]
    return subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=180)


def last(db: Path) -> tuple:
    conn = sqlite3.connect(db)
    try:
        return conn.execute("SELECT status, reason, complete FROM crawl_runs ORDER BY id DESC LIMIT 1").fetchone()
    finally:
        conn.close()


def test_article_markup_changed_is_degraded_naming_field_and_selector(tmp_path: Path) -> None:
    server = FaultPortal(set())
    db = tmp_path / "a.db"
    try:
        first = crawl(db, server)
        assert first.returncode == 0 and last(db)[0] == "ok"
        server.faults.add("redesign")
        second = crawl(db, server, "--full")
        third = crawl(db, server, "--full")  # still broken: still compared with the last good run
    finally:
        server.stop()
    assert second.returncode == 1, second.stdout + second.stderr
    for result in (second, third):
        assert "degraded" in result.stdout
    status, reason, complete = last(db)
    assert status == "degraded" and complete == 0
    assert "'published'" in reason and "article.date = '.news-detail .news-info'" in reason
    assert "'views'" in reason  # the view count was in the same element


def test_listing_markup_changed_is_degraded_naming_the_listing_selector(tmp_path: Path) -> None:
    server = FaultPortal({"relist"})
    db = tmp_path / "a.db"
    try:
        result = crawl(db, server)
    finally:
        server.stop()
    assert result.returncode == 1, result.stdout + result.stderr
    status, reason, _ = last(db)
    assert status == "degraded"
    assert "no article link found" in reason and "listing.article_links" in reason


def test_an_incremental_night_with_nothing_new_is_ok(tmp_path: Path) -> None:
    server = FaultPortal(set())
    db = tmp_path / "a.db"
    try:
        assert crawl(db, server).returncode == 0
        quiet = crawl(db, server, "--quiet")
    finally:
        server.stop()
    assert quiet.returncode == 0 and last(db)[0] == "ok"
    assert quiet.stdout == "" and quiet.stderr == ""  # --quiet: nothing for cron to mail
