"""Helpers of the crawl tests: run the archiver as a user does (a subprocess of the CLI) and read
the archive it wrote."""

from __future__ import annotations

import socket
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# A server on 127.0.0.1 answers at once: no need to be gentle with it. No progress line.
QUICK = ["-s", "AUTOTHROTTLE_ENABLED=False", "-s", "DOWNLOAD_DELAY=0", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=4",
         "-s", "ARCHIVER_PROGRESS_INTERVAL=0"]  # fmt: skip


def archiver_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "archiver.cli", *args]


def crawl_cmd(db: Path, base_url: str, *extra: str, portal: str = "demo") -> list[str]:
    """``archiver crawl PORTAL`` fetched from the mirror ``base_url``, quick settings first."""
    return archiver_cmd("crawl", portal, "--db", str(db), "--base-url", base_url, *QUICK, *extra)


def crawl(db: Path, base_url: str, *extra: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    return subprocess.run(crawl_cmd(db, base_url, *extra), capture_output=True, text=True, cwd=ROOT, timeout=timeout)


def q(db: Path, sql: str, *args: object) -> list[tuple]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


def last_run(db: Path, columns: str = "status, reason, complete") -> tuple:
    return q(db, f"SELECT {columns} FROM crawl_runs ORDER BY id DESC LIMIT 1")[0]


def respond(handler: object, status: int, body: bytes, ctype: str, headers: dict[str, str] | None = None) -> None:
    """Write one HTTP answer from a test server's request handler."""
    h: Any = handler
    h.send_response(status)
    h.send_header("Content-Type", ctype)
    h.send_header("Content-Length", str(len(body)))
    for k, v in (headers or {}).items():
        h.send_header(k, v)
    h.end_headers()
    h.wfile.write(body)


def free_port() -> int:
    """A port on 127.0.0.1 that nobody listens on."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


EDITED_DEMO_PAGE = "tin-tuc/tin-trong-tinh/hau-giang-ban-hanh-chi-thi-ve-viec-day-manh-cai-cach-hanh-chinh-1001.html"


def demo_archive_with_a_revision(tmp: Path) -> Path:
    """An archive of the demo portal crawled twice from a copy of its site, served on 127.0.0.1:
    between the two crawls one article's text and view count changed (revision 2, a second view
    observation of every article). Returns the archive's path."""
    import shutil

    from archiver import demo

    site = tmp / "site"
    shutil.copytree(demo.SITE_DIR, site)
    server = demo.serve(site)
    db = tmp / "archive.db"
    try:
        first = crawl(db, demo.server_url(server), "--allow-private")
        assert first.returncode == 0, first.stderr
        page = site / EDITED_DEMO_PAGE
        text = page.read_text(encoding="utf-8")
        edited = text.replace("hơn 1.234 tỷ đồng", "hơn 1.500 tỷ đồng").replace("Số lần xem: 1.371", "Số lần xem: 1.602")
        assert edited != text
        page.write_text(edited, encoding="utf-8")
        second = crawl(db, demo.server_url(server), "--allow-private", "--full")
        assert second.returncode == 0, second.stderr
    finally:
        server.shutdown()
        server.server_close()
    return db
