"""On a terminal, one progress line for the whole crawl, rewritten in place (it does not scroll);
nothing of it when stderr is not a terminal (cron)."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
from pathlib import Path

from tests.faultportal import FaultPortal

ROOT = Path(__file__).resolve().parents[1]


def test_progress_line_updates_in_place_on_a_terminal(tmp_path: Path) -> None:
    server = FaultPortal(set(), delay=0.1)
    master, slave = pty.openpty()
    try:
        proc = subprocess.Popen([sys.executable, "-m", "archiver.cli", "crawl", "demo", "--db", str(tmp_path / "a.db"),
                                 "--base-url", server.url, "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "DOWNLOAD_DELAY=0",
                                 "-s", "ARCHIVER_PROGRESS_INTERVAL=0.3", "--log-level", "ERROR"],
                                cwd=ROOT, stdout=subprocess.PIPE, stderr=slave)  # fmt: skip
        os.close(slave)
        seen = b""
        while True:
            ready, _, _ = select.select([master], [], [], 60)
            if not ready:
                break
            try:
                chunk = os.read(master, 4096)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            seen += chunk
        out, _ = proc.communicate(timeout=60)
    finally:
        os.close(master)
        server.stop()
    assert proc.returncode == 0
    text = seen.decode("utf-8", errors="replace")
    updates = text.count("portal(s) running")
    assert updates >= 2, text
    assert "\n" not in text.replace("\r\n", "\n").strip("\n"), repr(text[:300])  # rewritten with \r, never scrolled
    assert "\r" in text and b"portal(s) running" not in out  # the summary on stdout is not mixed with it


def test_no_progress_line_when_stderr_is_not_a_terminal(tmp_path: Path) -> None:
    server = FaultPortal(set())
    try:
        result = subprocess.run([sys.executable, "-m", "archiver.cli", "crawl", "demo", "--db", str(tmp_path / "a.db"),
                                 "--base-url", server.url, "-s", "ARCHIVER_PROGRESS_INTERVAL=0.1", "--max-pages", "5"],
                                capture_output=True, text=True, cwd=ROOT, timeout=120)  # fmt: skip
    finally:
        server.stop()
    assert result.returncode == 0 and "portal(s) running" not in result.stderr
