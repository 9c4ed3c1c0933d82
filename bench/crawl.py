"""The archiver against a fetch-only Scrapy crawl of the same site, in one run.

    python -m bench.crawl [--per-section 340] [--pairs 2] [--latencies 0,150]

Serves the generated multi-template portal (``tests/gensite.py``, ~170 KB pages: inline scripts,
styles and a 600-link mega-menu, like real portals) on 127.0.0.1, with no latency and with
150 ± 50 ms per answer, and runs alternately (each pair: fresh archive) the fetch-only spider
(``bench.fetchonly``) and ``archiver crawl`` with a hand-written profile, at the same
concurrency and with politeness off. Prints pages/min of both, their ratio, the archiver's CPU
per article and peak RSS, and checks the archive (articles found, title/day/views right).
Targets (issue 13): ratio ≥ 0.7 at 0 ms, ≥ 0.9 at 150 ms; CPU per article ≤ 5 ms.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.discover import HAND
from tests.crawling import ROOT, archiver_cmd, q
from tests.gensite import GenSite
from tests.test_discover import measure

SAME = ["-s", "AUTOTHROTTLE_ENABLED=False", "-s", "DOWNLOAD_DELAY=0", "-s", "CONCURRENT_REQUESTS=16",
        "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=8", "-s", "ARCHIVER_PROGRESS_INTERVAL=0"]  # fmt: skip


def children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    cpu = children_cpu()
    t = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=env)
    wall = time.perf_counter() - t
    if r.returncode not in (0, 1):
        sys.exit(f"{cmd[:4]} failed: {r.stderr[-2000:]}")
    return wall, children_cpu() - cpu, r.stdout


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--per-section", type=int, default=340)
    ap.add_argument("--pairs", type=int, default=2)
    ap.add_argument("--latencies", default="0,150")
    args = ap.parse_args()
    print(f"site: {args.per_section * 6} articles in 6 templates, ~170 KB pages; concurrency 8 per host")
    for ms in (int(x) for x in args.latencies.split(",")):
        site = GenSite(args.per_section, pad_kb=120, delay=ms / 1000, jitter=0.05 if ms else 0.0)
        try:
            rates = []
            for pair in range(args.pairs):
                wall_f, _, out = timed([sys.executable, "-m", "bench.fetchonly", site.url + "/"], dict(os.environ))
                pages_f = int(out.strip().splitlines()[-1])
                with tempfile.TemporaryDirectory() as tmp:
                    pdir = Path(tmp) / "profiles"
                    pdir.mkdir()
                    (pdir / "gen.toml").write_text(HAND.format(origin=site.url), encoding="utf-8")
                    env = dict(os.environ, ARCHIVER_PORTALS_DIR=str(pdir), ARCHIVER_REGISTRY="none")
                    db = Path(tmp) / "a.db"
                    site.requests.clear()
                    log = Path(tmp) / "crawl.log"
                    wall_a, cpu_a, _ = timed(archiver_cmd("crawl", "gen", "--db", str(db), *SAME, "--log-level",
                                                          "INFO", "--log-file", str(log)), env)  # fmt: skip
                    blocked = next((line.split("event loop blocked ")[1].split("%")[0] for line in
                                    log.read_text(encoding="utf-8").splitlines() if "event loop blocked" in line), "?")
                    pages_a = q(db, "SELECT pages FROM crawl_runs")[0][0]
                    stored = q(db, "SELECT count(*) FROM articles")[0][0]
                    m = measure(site, db)
                rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
                rate_f, rate_a = pages_f / wall_f * 60, pages_a / wall_a * 60
                rates.append(rate_a / rate_f)
                print(f"  {ms:3d} ms pair {pair + 1}: fetch-only {pages_f} pages in {wall_f:.1f} s ({rate_f:,.0f}/min); "
                      f"archiver {pages_a} pages in {wall_a:.1f} s ({rate_a:,.0f}/min); ratio {rate_a / rate_f:.2f}; "
                      f"CPU {cpu_a / max(1, stored) * 1000:.1f} ms/article; loop blocked {blocked}%; peak RSS {rss:.0f} MB; "
                      f"archive: {m['found']:.1%} found, title {m['title']:.0%} day {m['day']:.0%} views {m['views']:.0%}")  # fmt: skip
            print(f"  {ms:3d} ms: ratio {min(rates):.2f}–{max(rates):.2f}")
        finally:
            site.stop()


if __name__ == "__main__":
    main()
