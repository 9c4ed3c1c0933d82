"""Politeness that real portals ask for: robots.txt ``Crawl-delay`` applied per portal, and a
User-Agent built from the settings in force."""

from __future__ import annotations

from pathlib import Path

from tests.crawling import crawl
from tests.faultportal import FaultPortal


def test_crawl_delay_of_robots_txt_is_applied(tmp_path: Path) -> None:
    server = FaultPortal(set())
    server.robots = b"User-agent: *\nCrawl-delay: 0.5\nDisallow: /admin/\n"
    try:
        result = crawl(tmp_path / "a.db", server.url, "--max-pages", "8")
    finally:
        server.stop()
    assert result.returncode == 0, result.stderr
    starts = [t for t, path, _ in server.requests if path != "/robots.txt"]
    assert len(starts) == 8
    gaps = [b - a for a, b in zip(starts, starts[1:], strict=False)]
    # 4 requests may be in flight at once, yet each starts at least the asked delay after the last
    assert min(gaps) >= 0.45, gaps


def test_without_crawl_delay_requests_overlap(tmp_path: Path) -> None:
    server = FaultPortal(set(), delay=0.2)
    try:
        result = crawl(tmp_path / "a.db", server.url, "--max-pages", "12")
    finally:
        server.stop()
    assert result.returncode == 0, result.stderr
    starts = sorted(t for t, path, _ in server.requests if path != "/robots.txt")
    gaps = [b - a for a, b in zip(starts, starts[1:], strict=False)]
    assert min(gaps) < 0.1  # concurrent requests: the delay above is the robots.txt's doing


def test_user_agent_is_built_from_the_contact_setting_in_force(tmp_path: Path) -> None:
    server = FaultPortal(set())
    try:
        result = crawl(tmp_path / "a.db", server.url, "--max-pages", "3",
                       "-s", "ARCHIVER_CONTACT_URL=https://archive.example.org/lien-he")  # fmt: skip
    finally:
        server.stop()
    assert result.returncode == 0, result.stderr
    agents = {ua for _, _, ua in server.requests}
    assert len(agents) == 1
    (agent,) = agents
    assert agent.startswith("vn-portal-archiver/") and "(+https://archive.example.org/lien-he)" in agent
