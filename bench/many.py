"""Many portals at once: ``archiver crawl --all`` over N copies of the generated portal, each on
its own port of 127.0.0.1 with a server's latency, against the slowest of them crawled alone.

    python -m bench.many [--portals 50] [--per-section 4] [--latency 150] [--slow 600] [--delays default,2]

Portal ``gen00`` answers in ``--slow`` ms, the others in ``--latency`` ± 50 ms; every page weighs
~170 KB (``tests/gensite.py``). For each politeness setting (``default``: the shipped one, 2
requests at a time per portal, 0.25 s apart at least, AutoThrottle; a number: that many seconds
between a portal's requests, as a robots.txt ``Crawl-delay`` asks), the bench crawls the slowest
portal alone, a typical one alone, then all of them in one ``--all`` run, and prints the times,
``all ÷ slowest alone`` (target: close to 1, i.e. the slowest portal's limits bound the run, not
the sum of all portals), the CPU per article, and what every portal's server saw: the most requests
it answered at once and the shortest time between two arrivals (the politeness limits kept), and
the articles stored against the site's truth.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

from bench.crawl import timed
from bench.discover import HAND
from tests.crawling import archiver_cmd, q
from tests.gensite import GenSite, max_in_flight, min_start_gap
from tests.test_discover import key

QUIET = ["-s", "ARCHIVER_PROGRESS_INTERVAL=0", "--log-level", "INFO"]


def politeness(delay: str) -> list[str]:
    return [] if delay == "default" else ["-s", f"DOWNLOAD_DELAY={float(delay)}"]


def crawl(target: list[str], pdir: Path, db: Path, delay: str) -> tuple[float, float, str]:
    env = dict(os.environ, ARCHIVER_PORTALS_DIR=str(pdir), ARCHIVER_REGISTRY="none")
    log = db.with_suffix(".log")
    wall, cpu, _ = timed(archiver_cmd("crawl", *target, "--db", str(db), *QUIET, *politeness(delay),
                                      "--log-file", str(log)), env)  # fmt: skip
    blocked = next((line.split("event loop blocked ")[1].split("%")[0] for line in
                    log.read_text(encoding="utf-8").splitlines() if "event loop blocked" in line), "?")  # fmt: skip
    return wall, cpu, blocked


def stored_right(site: GenSite, db: Path, slug: str) -> tuple[int, int, int]:
    """(articles of the site's truth stored with the right title, stored, in the truth)."""
    truth = {key(p): a for p, a in site.by_path.items()}
    rows = q(db, "SELECT url, title FROM articles WHERE portal = ?", slug)
    right = sum(1 for url, title in rows if key(url) in truth and truth[key(url)].title == title)
    return right, len(rows), len(truth)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--portals", type=int, default=50)
    ap.add_argument("--per-section", type=int, default=4)
    ap.add_argument("--latency", type=int, default=150, help="ms per answer (± 50 ms) of every portal but one")
    ap.add_argument("--slow", type=int, default=600, help="ms per answer of the slowest portal, gen00")
    ap.add_argument("--delays", default="default,2")
    args = ap.parse_args()
    n_art = args.per_section * 6
    print(f"{args.portals} portals of {n_art} articles (6 templates, ~170 KB pages) on 127.0.0.1: gen00 answers "
          f"in {args.slow} ms, the others in {args.latency} ± 50 ms", flush=True)  # fmt: skip
    for delay in args.delays.split(","):
        sites = [GenSite(args.per_section, pad_kb=120, delay=(args.slow if i == 0 else args.latency) / 1000,
                         jitter=0.0 if i == 0 else 0.05) for i in range(args.portals)]  # fmt: skip
        try:
            with tempfile.TemporaryDirectory() as tmp:
                pdir = Path(tmp) / "profiles"
                pdir.mkdir()
                slugs = [f"gen{i:02d}" for i in range(args.portals)]
                for slug, site in zip(slugs, sites, strict=True):
                    (pdir / f"{slug}.toml").write_text(HAND.format(origin=site.url), encoding="utf-8")
                t_slow, _, _ = crawl([slugs[0]], pdir, Path(tmp) / "slow.db", delay)
                t_one, _, _ = crawl([slugs[1]], pdir, Path(tmp) / "one.db", delay)
                for site in sites:
                    site.spans.clear()
                db = Path(tmp) / "all.db"
                t_all, cpu, blocked = crawl(["--all"], pdir, db, delay)
                counts = [stored_right(site, db, slug) for slug, site in zip(slugs, sites, strict=True)]
                flights = [max_in_flight(site.spans) for site in sites]
                gaps = [min_start_gap(site.spans) for site in sites]
                medians = [statistics.median(b - a for a, b in zip(st, st[1:], strict=False))
                           for st in (sorted(x for x, _ in site.spans) for site in sites) if len(st) > 2]  # fmt: skip
                starts = [min(s for s, _ in site.spans) for site in sites if site.spans]
                ends = [max(e for _, e in site.spans) for site in sites if site.spans]
                statuses = q(db, "SELECT status, count(*) FROM crawl_runs GROUP BY status")
                pages = q(db, "SELECT sum(pages) FROM crawl_runs")[0][0] or 0
        finally:
            for site in sites:
                site.stop()
        right = sum(c[0] for c in counts)
        stored = sum(c[1] for c in counts)
        truth = sum(c[2] for c in counts)
        whole = t_slow + (args.portals - 1) * t_one
        label = "shipped politeness" if delay == "default" else f"{float(delay):g} s between a portal's requests"
        print(f"  {label}:")
        print(f"    alone: slowest portal {t_slow:.1f} s, a typical one {t_one:.1f} s (one after another, all "
              f"{args.portals} would take ~{whole:.0f} s)")  # fmt: skip
        print(f"    all {args.portals} at once: {t_all:.1f} s = {t_all / t_slow:.2f} × the slowest alone "
              f"({t_all / whole:.1%} of one after another); {pages} pages, {pages / t_all * 60:,.0f} pages/min; "
              f"CPU {cpu / max(1, stored) * 1000:.1f} ms/article; loop blocked {blocked}%")  # fmt: skip
        print(f"    every portal fetched at once: {max(starts) < min(ends)} (last first request "
              f"{max(starts) - min(starts):.1f} s after the first)")  # fmt: skip
        print(f"    politeness kept: most requests at once per portal {max(flights)}; shortest gap between two "
              f"arrivals at a portal {min(gaps) * 1000:.0f} ms (the event loop, when busy, sends a request late and the "
              f"next on time), median gap {statistics.median(medians) * 1000:.0f} ms")  # fmt: skip
        print(f"    archive: {right}/{truth} articles stored with the right title ({stored} rows); runs "
              f"{dict(statuses)}", flush=True)  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
