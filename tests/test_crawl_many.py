"""The nightly job at realistic scale: `archiver crawl --all` over several portals served at once on
127.0.0.1 (two with more articles than several store batches, the fault portal, a slow one, a
mirror of the demo, and a dead one). Every reachable article of every portal is stored exactly
once, the statuses tell the truth, and a second run adds nothing."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from archiver import demo
from tests.crawling import free_port, q
from tests.faultportal import ALL_FAULTS, NOT_ARTICLE, UNREACHABLE, FaultPortal, site

ROOT = Path(__file__).resolve().parents[1]
FAST = ["-s", "DOWNLOAD_TIMEOUT=3", "-s", "RETRY_TIMES=2", "-s", "ARCHIVER_BACKOFF_BASE=0.2",
        "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "DOWNLOAD_DELAY=0", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=4",
        "-s", "ARCHIVER_PROGRESS_INTERVAL=0"]  # fmt: skip
BIG = 60  # articles per category: 180 per portal, more than three batches of ARCHIVER_BATCH_SIZE (50)


def profile(directory: Path, slug: str, base: str, start_urls: list[str] | None = None) -> None:
    starts = start_urls or ["/tin-tuc/tin-trong-tinh/", "/tin-tuc/thoi-su-chinh-tri/", "/tin-tuc/kinh-te/"]
    (directory / f"{slug}.toml").write_text(
        f'name = "{slug}"\nprovince = "Hậu Giang"\nextends = "hgportal"\nbase_url = "{base}"\n'
        f"start_urls = {starts!r}\nallow_private = true\n".replace("'", '"'),
        encoding="utf-8",
    )


@pytest.fixture(scope="module")
def portals(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict]]:
    directory = tmp_path_factory.mktemp("portals")
    servers = {
        "lon-a": FaultPortal(set(), per_cat=BIG, delay=0.01),
        "lon-b": FaultPortal(set(), per_cat=BIG, delay=0.02),
        "loi": FaultPortal(ALL_FAULTS),
        "cham": FaultPortal(set(), delay=0.3),
    }
    mirror = demo.serve(demo.SITE_DIR)
    try:
        for slug, server in servers.items():
            profile(directory, slug, server.url)
        profile(directory, "demo-mirror", demo.server_url(mirror))
        profile(directory, "chet", f"http://127.0.0.1:{free_port()}")
        yield directory, servers
    finally:
        for server in servers.values():
            server.stop()
        mirror.shutdown()
        mirror.server_close()


def crawl_all(directory: Path, db: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, ARCHIVER_PORTALS_DIR=str(directory))
    return subprocess.run([sys.executable, "-m", "archiver.cli", "crawl", "--all", "--db", str(db), *FAST, *extra],
                          capture_output=True, text=True, cwd=ROOT, env=env, timeout=300)  # fmt: skip


def expected(slug: str) -> set[str]:
    """Titles every crawl of the portal must store."""
    if slug in ("lon-a", "lon-b"):
        return {a.title for a in site(BIG)[0]}
    if slug == "cham":
        return {a.title for a in site()[0]}
    if slug == "loi":
        return {a.title for i, a in enumerate(site()[0], 1) if i not in UNREACHABLE and i not in NOT_ARTICLE}
    if slug == "demo-mirror":
        return {a.title for a in demo.articles()}
    return set()


@pytest.fixture(scope="module")
def crawled(portals, tmp_path_factory: pytest.TempPathFactory):
    directory, _ = portals
    db = tmp_path_factory.mktemp("many") / "archive.db"
    first = crawl_all(directory, db)
    second = crawl_all(directory, db)
    return db, first, second


def test_every_article_of_every_portal_stored_exactly_once(crawled) -> None:
    db, first, _ = crawled
    assert "Traceback" not in first.stderr, first.stderr
    for slug in ("lon-a", "lon-b", "loi", "cham", "demo-mirror"):
        titles = [r[0] for r in q(db, "SELECT title FROM articles WHERE portal = ?", slug)]
        assert len(titles) == len(set(titles)), slug
        assert set(titles) == expected(slug), slug
    assert len(expected("lon-a")) == 3 * BIG


def test_statuses_tell_the_truth_and_exit_1_for_the_dead_portal(crawled) -> None:
    db, first, _ = crawled
    assert first.returncode == 1, first.stdout + first.stderr
    runs = {r[0]: r[1:] for r in q(db, "SELECT portal, status, new, stored, store_errors, reason FROM crawl_runs "
                                       "WHERE id IN (SELECT min(id) FROM crawl_runs GROUP BY portal)")}  # fmt: skip
    for slug in ("lon-a", "lon-b", "loi", "cham", "demo-mirror"):
        status, new, stored, store_errors, _ = runs[slug]
        assert status == "ok", (slug, runs[slug])
        assert new == stored == len(expected(slug)), (slug, runs[slug])
        assert store_errors == 0
    status, new, stored, _, reason = runs["chet"]
    assert (status, new, stored) == ("failed", 0, 0)
    assert "refused" in reason.lower()
    assert "running" not in {r[0] for r in q(db, "SELECT status FROM crawl_runs")}
    # the summary has the stored and store_errors columns, one row per portal
    header = first.stdout.splitlines()[0].split()
    assert "stored" in header and "store_errors" in header


def test_a_second_run_adds_nothing(crawled) -> None:
    db, _, second = crawled
    assert second.returncode == 1, second.stdout + second.stderr  # the dead portal is still dead
    last = dict(q(db, "SELECT portal, new FROM crawl_runs WHERE id IN (SELECT max(id) FROM crawl_runs GROUP BY portal)"))
    assert set(last.values()) == {0}, last
    assert q(db, "SELECT count(*) FROM articles")[0][0] == sum(
        len(expected(s)) for s in ("lon-a", "lon-b", "loi", "cham", "demo-mirror")
    )
