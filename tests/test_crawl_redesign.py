"""Silent zeros are flagged: a portal whose markup changed between two runs (a redesign) is not a
quiet night. The run is ``degraded``, the reason names the field and the selector, exit code 1."""

from __future__ import annotations

from pathlib import Path

from tests.crawling import crawl
from tests.crawling import last_run as last
from tests.faultportal import FaultPortal


def test_article_markup_changed_is_degraded_naming_field_and_selector(tmp_path: Path) -> None:
    server = FaultPortal(set())
    db = tmp_path / "a.db"
    try:
        first = crawl(db, server.url)
        assert first.returncode == 0 and last(db)[0] == "ok"
        server.faults.add("redesign")
        second = crawl(db, server.url, "--full")
        third = crawl(db, server.url, "--full")  # still broken: still compared with the last good run
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
        result = crawl(db, server.url)
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
        assert crawl(db, server.url).returncode == 0
        quiet = crawl(db, server.url, "--quiet")
    finally:
        server.stop()
    assert quiet.returncode == 0 and last(db)[0] == "ok"
    assert quiet.stdout == "" and quiet.stderr == ""  # --quiet: nothing for cron to mail
