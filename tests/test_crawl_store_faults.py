"""A store error never loses an article silently, in a real crawl: the archive locked by another
process for a while (kept, retried, nothing lost), for too long (the run fails and says why, the
next run stores everything), and a full disk (one clear line, the archive intact, the next run
resumes)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from archiver import demo
from tests import crawling
from tests.crawling import ROOT, q

SMALL_BATCHES = ["-s", "ARCHIVER_BATCH_SIZE=10", "-s", "ARCHIVER_COMMIT_INTERVAL=1"]
ALL = {a.title for a in demo.articles()}


@pytest.fixture(scope="module")
def site(demo_site: str) -> str:
    return demo_site


def crawl_cmd(db: Path, url: str, *extra: str) -> list[str]:
    return crawling.crawl_cmd(db, url, *SMALL_BATCHES, *extra)


HOLD = """import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)
conn.execute("BEGIN IMMEDIATE")
print("held", flush=True)
time.sleep(float(sys.argv[2]))
conn.execute("ROLLBACK")
"""


def check_warc(base: Path) -> None:
    """Every WARC file reads to its last complete record, and every record the archive points
    to is there, whole (warcio's own check)."""
    from archiver.capture.warc import complete_members, read_capture

    files = sorted((base / "warc").rglob("*.warc.gz"))
    assert files
    for f in files:
        members, end = complete_members(f)
        assert end == f.stat().st_size, f  # no half-written record left
        assert subprocess.run([sys.executable, "-m", "warcio.cli", "check", str(f)], capture_output=True).returncode == 0
    for warc_file, offset, rtype in q(base / "a.db", "SELECT warc_file, warc_offset, record_type FROM captures"):
        if rtype == "response":
            assert read_capture(base / warc_file, offset).status


def crawl_while_locked(db: Path, url: str, hold: float, *extra: str) -> subprocess.CompletedProcess[str]:
    """Start a crawl; once its run is recorded, another process takes the write lock for ``hold`` s."""
    crawl = subprocess.Popen(crawl_cmd(db, url, "-s", "DOWNLOAD_DELAY=0.05", *extra), cwd=ROOT, text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
    for _ in range(400):
        if db.exists() and q(db, "SELECT name FROM sqlite_master WHERE name = 'crawl_runs'") and q(
            db, "SELECT count(*) FROM crawl_runs WHERE status = 'running'"
        )[0][0]:
            break
        time.sleep(0.05)
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(db), str(hold)], stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    out, err = crawl.communicate(timeout=240)
    holder.wait(timeout=120)
    return subprocess.CompletedProcess(crawl.args, crawl.returncode, out, err)


def test_a_lock_held_for_a_while_loses_nothing(tmp_path: Path, site: str) -> None:
    db = tmp_path / "a.db"
    result = crawl_while_locked(db, site, 6, "-s", "ARCHIVER_STORE_RETRY_SECONDS=120")
    assert result.returncode == 0, result.stdout + result.stderr
    assert {r[0] for r in q(db, "SELECT title FROM articles")} == ALL
    run = q(db, "SELECT status, new, stored, store_errors FROM crawl_runs")[0]
    assert run == ("ok", 66, 66, 0)
    assert "cannot write to the archive" in result.stderr and "Traceback" not in result.stderr


def test_a_lock_held_too_long_fails_the_run_and_the_next_run_stores_everything(tmp_path: Path, site: str) -> None:
    db = tmp_path / "a.db"
    # Storing gives up after 3 s; the run's final row waits for the lock (up to a minute) and says why.
    result = crawl_while_locked(db, site, 16, "-s", "ARCHIVER_STORE_RETRY_SECONDS=3")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    status, reason, new, store_errors = q(db, "SELECT status, reason, new, store_errors FROM crawl_runs")[0]
    assert status == "failed" and "storing failed" in reason and "locked" in reason
    stored = q(db, "SELECT count(*) FROM articles")[0][0]
    assert new == stored < 66 and store_errors > 0  # counters count only what was committed
    assert "storing failed" in result.stdout
    again = subprocess.run(crawl_cmd(db, site), capture_output=True, text=True, cwd=ROOT, timeout=240)
    assert again.returncode == 0, again.stdout + again.stderr
    assert {r[0] for r in q(db, "SELECT title FROM articles")} == ALL
    assert q(db, "SELECT count(*) - count(DISTINCT url) FROM articles") == [(0,)]


def test_a_full_disk_is_one_clear_line_and_the_next_run_resumes(tmp_path: Path, site: str) -> None:
    """A real full disk: an 800 KB tmpfs (room for the schema, then a few articles), mounted in a mount
    namespace of the test's own."""
    small = tmp_path / "small"
    small.mkdir()
    saved = tmp_path / "saved"
    saved.mkdir()
    cmd = " ".join(f"'{c}'" for c in crawl_cmd(small / "a.db", site, "-s", "ARCHIVER_STORE_RETRY_SECONDS=2"))
    script = (f"mount -t tmpfs -o size=800k tmpfs '{small}' && cd '{ROOT}' && {cmd}; rc=$?; "
              f"cp -a '{small}'/. '{saved}'/; exit $rc")  # fmt: skip
    result = subprocess.run(["unshare", "--map-root-user", "--mount", "sh", "-c", script], capture_output=True,
                            text=True, timeout=240)  # fmt: skip
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    # the WARC file or the database, whichever the disk refuses first
    lines = [ln for ln in result.stdout.splitlines() if "disk is full" in ln or "No space left on device" in ln]
    assert len(lines) == 1 and "storing failed" in lines[0], result.stdout
    db = tmp_path / "a.db"
    shutil.copytree(saved, tmp_path, dirs_exist_ok=True)
    assert q(db, "PRAGMA integrity_check") == [("ok",)]
    check_warc(tmp_path)
    before = q(db, "SELECT count(*) FROM articles")[0][0]
    assert before < 66
    again = subprocess.run(crawl_cmd(db, site), capture_output=True, text=True, cwd=ROOT, timeout=240)
    assert again.returncode == 0, again.stdout + again.stderr
    assert {r[0] for r in q(db, "SELECT title FROM articles")} == ALL
