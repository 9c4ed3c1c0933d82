"""Bounded work, whatever a site does: pagers that fan out, endless listings of dead links, deep
chains, servers that never finish, and SIGTERM, which always ends a crawl within seconds with
what was extracted committed."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

from tests import crawling
from tests.crawling import ROOT, q
from tests.faultportal import FaultPortal, site

SLOW_OK = ["-s", "DOWNLOAD_TIMEOUT=90", "-s", "RETRY_TIMES=1"]  # a hanging download is not ended by its timeout
TITLES = {a.title for a in site()[0]}


def cmd(db: Path, server: FaultPortal, *extra: str) -> list[str]:
    return crawling.crawl_cmd(db, server.url, *SLOW_OK, *extra)


def crawl(db: Path, server: FaultPortal, *extra: str) -> subprocess.CompletedProcess[str]:
    return crawling.crawl(db, server.url, *SLOW_OK, *extra)


def last_run(db: Path) -> tuple:
    return crawling.last_run(db, "status, reason, complete, stored, new")


def test_a_pager_of_10000_pages_is_not_followed_link_by_link(tmp_path: Path) -> None:
    server = FaultPortal({"pager"})
    try:
        result = crawl(tmp_path / "a.db", server, "--full")
    finally:
        server.stop()
    assert result.returncode == 0, result.stdout + result.stderr
    listing_hits = [p for p in server.hits if "/trang-" in p]
    assert len(listing_hits) <= 120, len(listing_hits)  # ARCHIVER_MAX_NEXT_LINKS (50) per page, then the trap guard
    assert {r[0] for r in q(tmp_path / "a.db", "SELECT title FROM articles")} == TITLES


def test_endless_dead_links_end_the_run_with_the_reason(tmp_path: Path) -> None:
    server = FaultPortal({"deadlinks"})
    db = tmp_path / "a.db"
    try:
        result = crawl(db, server, "--full", "-s", "ARCHIVER_MAX_FETCH_ERRORS=40")
    finally:
        server.stop()
    assert result.returncode == 1, result.stdout + result.stderr
    status, reason, complete, _, _ = last_run(db)
    assert status == "interrupted" and "too many failed fetches" in reason and complete == 0
    assert len([p for p in server.hits if "/chet-" in p]) < 200
    assert "Traceback" not in result.stderr


def test_a_deep_listing_chain_is_cut_at_the_depth_limit(tmp_path: Path) -> None:
    server = FaultPortal({"deadlinks"})
    db = tmp_path / "a.db"
    try:
        result = crawl(db, server, "--full", "-s", "ARCHIVER_MAX_FETCH_ERRORS=0", "-s", "ARCHIVER_MAX_LISTING_DEPTH=8")
    finally:
        server.stop()
    assert result.returncode == 0, result.stdout + result.stderr
    status, reason, complete, stored, _ = last_run(db)
    assert status == "ok" and "ARCHIVER_MAX_LISTING_DEPTH" in reason and complete == 0  # not a complete walk
    assert stored == len(TITLES)
    # the pager links page k to k + 1 from depth k - 2: the chain ends near page 10, not at the budget
    assert max(int(p.split("/trang-")[1].strip("/")) for p in server.hits if "/kinh-te/trang-" in p) <= 11


def test_the_wall_time_budget_ends_a_run_that_drips(tmp_path: Path) -> None:
    server = FaultPortal(set(), delay=0.5)
    db = tmp_path / "a.db"
    try:
        t0 = time.monotonic()
        result = crawl(db, server, "--full", "-s", "ARCHIVER_MAX_RUNTIME=2")
        elapsed = time.monotonic() - t0
    finally:
        server.stop()
    assert result.returncode == 1
    status, reason, complete, stored, new = last_run(db)
    assert status == "interrupted" and "wall-time budget" in reason and complete == 0
    assert stored == new == q(db, "SELECT count(*) FROM articles")[0][0]
    assert elapsed < 60


def test_sigterm_ends_the_crawl_within_seconds_and_commits_what_was_extracted(tmp_path: Path) -> None:
    server = FaultPortal({"hang"}, delay=0.2)  # article 2 holds a download open for a minute
    db = tmp_path / "a.db"
    try:
        proc = subprocess.Popen(cmd(db, server, "--full"), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not any(p.endswith(".html") for p in list(server.hits)[5:]):
            time.sleep(0.2)
        time.sleep(1.5)
        t0 = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
        stopped_in = time.monotonic() - t0
        status, reason, complete, stored, new = last_run(db)
        assert proc.returncode == 1, out + err
        assert status == "interrupted" and "SIGTERM" in reason and complete == 0, reason
        assert stored == new == q(db, "SELECT count(*) FROM articles")[0][0] > 0
        assert "Traceback" not in err
        assert stopped_in < 30  # the grace is 5 s; the hanging download does not hold the crawl
        # the next run picks up what was not stored
        server.faults.clear()
        again = crawl(db, server)
        assert again.returncode == 0, again.stdout + again.stderr
        assert {r[0] for r in q(db, "SELECT title FROM articles")} == TITLES
    finally:
        server.stop()
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
