"""Many portals in one `archiver crawl --all`: fetched at the same time, each within its own
politeness limits (requests at once, time between requests), every article of every portal stored
once. The figures at 50 portals come from `python -m bench.many`."""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.discover import HAND
from bench.many import stored_right
from tests.crawling import ROOT, archiver_cmd, q
from tests.gensite import GenSite, max_in_flight, min_start_gap

PORTALS = 8
DELAY = 0.2  # seconds between a portal's requests (Scrapy waits 0.5–1.5 × this, randomised)
PER_HOST = 2


@pytest.fixture(scope="module")
def sites() -> Iterator[list[GenSite]]:
    started: list[GenSite] = []
    try:
        for i in range(PORTALS):
            started.append(GenSite(2, delay=0.3 if i == 0 else 0.05, jitter=0.0 if i == 0 else 0.02))
        yield started
    finally:
        for site in started:
            site.stop()


def test_portals_are_crawled_at_once_each_within_its_limits(sites: list[GenSite], tmp_path: Path) -> None:
    pdir = tmp_path / "profiles"
    pdir.mkdir()
    slugs = [f"gen{i:02d}" for i in range(PORTALS)]
    for slug, site in zip(slugs, sites, strict=True):
        (pdir / f"{slug}.toml").write_text(HAND.format(origin=site.url), encoding="utf-8")
    db = tmp_path / "a.db"
    env = dict(os.environ, ARCHIVER_PORTALS_DIR=str(pdir), ARCHIVER_REGISTRY="none")
    r = subprocess.run(archiver_cmd("crawl", "--all", "--db", str(db), "-s", "AUTOTHROTTLE_ENABLED=False",
                                    "-s", f"DOWNLOAD_DELAY={DELAY}", "-s", f"CONCURRENT_REQUESTS_PER_DOMAIN={PER_HOST}",
                                    "-s", "ARCHIVER_PROGRESS_INTERVAL=0"),
                       capture_output=True, text=True, cwd=ROOT, env=env, timeout=300)  # fmt: skip
    assert r.returncode == 0, r.stdout + r.stderr[-3000:]
    assert q(db, "SELECT status, count(*) FROM crawl_runs GROUP BY status") == [("ok", PORTALS)]
    for slug, site in zip(slugs, sites, strict=True):
        right, stored, truth = stored_right(site, db, slug)
        assert (right, stored) == (truth, truth), slug
        # What the portal's server saw: never more than PER_HOST requests at once, never two
        # arrivals closer than the randomised delay allows (half of it; a margin for the loopback).
        assert 1 <= max_in_flight(site.spans) <= PER_HOST, slug
        assert min_start_gap(site.spans) >= DELAY * 0.5 * 0.8, slug
    # All at once, not one after another: every portal's first request came before any portal's last.
    assert max(min(s for s, _ in site.spans) for site in sites) < min(max(e for _, e in site.spans) for site in sites)


def test_portals_on_one_host_are_crawled_one_after_another(sites: list[GenSite], tmp_path: Path) -> None:
    """Each portal's crawler keeps its own limits: two portals on one server would get both
    portals' share at once, so they run in turn (a province's departments under its domain)."""
    pdir = tmp_path / "profiles"
    pdir.mkdir()
    shared, other = sites[1], sites[2]
    starts = {"mot": '["/tin-tuc/tin-trong-tinh/", "/kinh-te/", "/index.php?cat=van-hoa"]',  # half the sections each
              "hai": '["/Pages/ThongBao.aspx", "/xa-hoi/", "/giao-duc/"]'}
    for slug, site in (("mot", shared), ("hai", shared), ("khac", other)):
        text = HAND.format(origin=site.url)
        if slug in starts:
            text = re.sub(r"(?ms)^start_urls = \[.*?\]$", f"start_urls = {starts[slug]}", text)
        (pdir / f"{slug}.toml").write_text(text, encoding="utf-8")
    shared.spans.clear()
    db = tmp_path / "a.db"
    env = dict(os.environ, ARCHIVER_PORTALS_DIR=str(pdir), ARCHIVER_REGISTRY="none")
    r = subprocess.run(archiver_cmd("crawl", "--all", "--db", str(db), "-s", "AUTOTHROTTLE_ENABLED=False",
                                    "-s", "DOWNLOAD_DELAY=0.05", "-s", f"CONCURRENT_REQUESTS_PER_DOMAIN={PER_HOST}",
                                    "-s", "ARCHIVER_PROGRESS_INTERVAL=0"),
                       capture_output=True, text=True, cwd=ROOT, env=env, timeout=300)  # fmt: skip
    assert r.returncode == 0, r.stdout + r.stderr[-3000:]
    runs = dict((p, (s, e)) for p, s, e in q(db, "SELECT portal, started_at, ended_at FROM crawl_runs"))
    assert set(runs) == {"mot", "hai", "khac"}
    first, second = sorted((runs["mot"], runs["hai"]))
    assert second[0] >= first[1]  # the second began when the first had ended
    assert max_in_flight(shared.spans) <= PER_HOST
    right, stored, truth = stored_right(other, db, "khac")
    assert (right, stored) == (truth, truth)
    halves = [stored_right(shared, db, slug) for slug in ("mot", "hai")]
    assert all(h[0] > 0 for h in halves) and sum(h[0] for h in halves) == sum(h[1] for h in halves) == truth
