"""The one writer: batches by count and by time, counts only what was committed, keeps and
retries a batch the archive refuses (locked, disk full), records an item that cannot be stored
and stores the rest, and stops storing (never silently) when the archive stays unwritable."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest

from archiver.items import Article, FetchError
from archiver.profiles import get_portal
from archiver.store import Archive
from archiver.store.writer import Writer

URL = "https://haugiang-demo.example/tin-tuc/tin-trong-tinh/a-{}.html"


def art(n: int, views: int | None = 10, body: str = "Nội dung bài viết.") -> Article:
    url = URL.format(n)
    return Article(url=url, canonical_url=url, fetched_url=url, portal="demo", title=f"Bài {n}",
                   body_text=f"{body} {n}", views=views)  # fmt: skip


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def committed(db: Path, sql: str = "SELECT count(*) FROM articles") -> int:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql).fetchone()[0]
    finally:
        conn.close()


def writer(db: Path, clock: Clock | None = None, **kw: object) -> Writer:
    clock = clock or Clock()
    return Writer(db, clock=clock, sleep=clock.sleep, busy_timeout=0.05, **kw)  # type: ignore[arg-type]


def test_commits_every_n_items_and_counts_only_what_is_committed(tmp_db: Path) -> None:
    w = writer(tmp_db, batch_size=3, interval=1e9)
    run = w.open_run(get_portal("demo"), "http://127.0.0.1:1", "full")
    for n in (1, 2):
        w.add(run, art(n))
    assert committed(tmp_db) == 0 and run.counts.new == 0  # pending, not counted
    w.add(run, art(3))
    assert committed(tmp_db) == 3 and run.counts.new == 3
    # the run's row shows what was committed, in the same transaction (a kill -9 leaves it so)
    assert committed(tmp_db, f"SELECT new FROM crawl_runs WHERE id = {run.id}") == 3
    w.close()


def test_commits_after_the_interval_even_with_few_items(tmp_db: Path) -> None:
    clock = Clock()
    w = writer(tmp_db, clock, batch_size=1000, interval=30)
    run = w.open_run(get_portal("demo"), "http://127.0.0.1:1", "full")
    w.add(run, art(1))
    w.tick()
    assert committed(tmp_db) == 0
    clock.now += 31
    w.tick()
    assert committed(tmp_db) == 1
    w.close()


def test_two_portals_share_one_writer_and_never_contend(tmp_db: Path) -> None:
    w = writer(tmp_db, batch_size=7)
    a = w.open_run(get_portal("demo"), "http://127.0.0.1:1", "full")
    b = w.open_run(get_portal("haugiang"), "https://www.haugiang.gov.vn", "full")
    for n in range(1, 101):
        w.add(a, art(n))
        other = art(n)
        other.portal = "haugiang"
        other.canonical_url = other.url = other.url.replace("haugiang-demo.example", "www.haugiang.gov.vn")
        w.add(b, other)
    w.close()
    assert committed(tmp_db, "SELECT count(*) FROM articles WHERE portal = 'demo'") == 100
    assert committed(tmp_db, "SELECT count(*) FROM articles WHERE portal = 'haugiang'") == 100
    assert (a.counts.new, b.counts.new) == (100, 100)


def hold_write_lock(db: Path, seconds: float) -> threading.Thread:
    """Another process's connection holding the archive's write lock for ``seconds``."""
    ready = threading.Event()

    def hold() -> None:
        conn = sqlite3.connect(db, isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")
        ready.set()
        time.sleep(seconds)
        conn.execute("ROLLBACK")
        conn.close()

    t = threading.Thread(target=hold, daemon=True)
    t.start()
    ready.wait()
    return t


def test_a_locked_archive_keeps_the_batch_and_retries_until_it_is_free(tmp_db: Path) -> None:
    w = Writer(tmp_db, batch_size=5, busy_timeout=0.05, retry_for=30)
    run = w.open_run(get_portal("demo"), "http://127.0.0.1:1", "full")
    holder = hold_write_lock(tmp_db, 1.5)
    for n in range(1, 11):
        w.add(run, art(n))  # the first batch fails on the lock and is kept
    assert run.counts.new == 0 and len(w.pending) == 10 and w.failed is None
    holder.join()
    assert w.flush(block=True)
    assert committed(tmp_db) == 10 and run.counts.new == 10 and run.counts.store_errors == 0
    w.close()


def test_a_lock_held_too_long_stops_storing_and_says_so(tmp_db: Path) -> None:
    clock = Clock()
    w = writer(tmp_db, clock, batch_size=2, retry_for=60)
    run = w.open_run(get_portal("demo"), "http://127.0.0.1:1", "full")
    stopped: list[str] = []
    w.on_failure.append(stopped.append)
    holder = hold_write_lock(tmp_db, 2.0)
    try:
        for n in range(1, 5):
            w.add(run, art(n))
        assert not w.flush(block=True)  # the fake clock runs out the 60 s at once
    finally:
        holder.join()
    assert w.failed and "locked" in w.failed and stopped == [w.failed]
    assert run.counts.new == 0 and run.counts.store_errors == 4
    w.add(run, art(5))  # after the failure nothing is queued, everything is counted as not stored
    assert run.counts.store_errors == 5
    w.close()
    assert committed(tmp_db) == 0
    # the next run stores them all
    w2 = writer(tmp_db)
    run2 = w2.open_run(get_portal("demo"), "http://127.0.0.1:1", "incremental")
    for n in range(1, 6):
        w2.add(run2, art(n))
    w2.close()
    assert committed(tmp_db) == 5


def test_disk_full_stops_storing_keeps_the_archive_intact(tmp_db: Path) -> None:
    w = writer(tmp_db, batch_size=10, retry_for=5)
    run = w.open_run(get_portal("demo"), "http://127.0.0.1:1", "full")
    for n in range(1, 11):
        w.add(run, art(n))
    assert committed(tmp_db) == 10
    # The disk fills up: SQLite can grow the file by no more page (SQLITE_FULL, as on a full disk).
    pages = w.archive.conn.execute("PRAGMA page_count").fetchone()[0]
    w.archive.conn.execute(f"PRAGMA max_page_count = {pages}")
    for n in range(11, 200):
        w.add(run, art(n, body="Một đoạn văn dài. " * 200))
        if w.failed:
            break
    w.flush(block=True)
    assert w.failed and "full" in w.failed
    assert run.counts.new == 10 and run.counts.store_errors > 0
    w.close()
    assert committed(tmp_db) == 10
    conn = sqlite3.connect(tmp_db)
    assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    conn.close()


def test_an_item_that_cannot_be_stored_is_recorded_and_the_rest_stored(tmp_db: Path) -> None:
    w = writer(tmp_db, batch_size=3)
    run = w.open_run(get_portal("demo"), "http://127.0.0.1:1", "full")
    w.add(run, art(1))
    w.add(run, art(2, views=2**63))  # more than SQLite's 64-bit integers hold
    w.add(run, art(3))
    w.add(run, FetchError("http://127.0.0.1:1/x.html", 503, "HTTP 503", 3))
    w.close()
    assert committed(tmp_db) == 2
    assert run.counts.new == 2 and run.counts.store_errors == 1 and run.counts.errors == 1
    assert run.first_store_error and "a-2.html" in run.first_store_error and "OverflowError" in run.first_store_error
    rows = Archive(tmp_db)
    stages = sorted(r["stage"] for r in rows.query("SELECT stage FROM fetch_errors"))
    rows.close()
    assert stages == ["fetch", "store"]


@pytest.mark.parametrize("views", [2**63, 10**30])
def test_huge_view_counts_do_not_lose_the_article(views: int, tmp_db: Path) -> None:
    from archiver.normalize import parse_views

    assert parse_views(f"Lượt xem: {views}") is None  # garbage, not a count: None, the raw kept
