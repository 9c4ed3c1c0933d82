"""Benchmark: what keeping every response in WARC costs, in bytes and in crawl time.

    python -m bench.warc [--rounds 3] [--big 334]

Crawls two sites served on 127.0.0.1 (the bundled demo, 66 articles; and a generated portal of
``3 x --big`` articles, 1,002 by default), each ``--rounds`` times with WARC and as many times
without (``ARCHIVER_WARC_ENABLED=False``), alternating, politeness off, and prints per site:
bytes of WARC per article on a first crawl and on a recrawl of unchanged pages (revisit
records), the wall time of both kinds of crawl (median), and the ratio with / without.
Writes under data/bench (ignored by git).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from archiver import demo

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "data" / "bench" / "warc"
QUICK = ["-s", "AUTOTHROTTLE_ENABLED=False", "-s", "DOWNLOAD_DELAY=0", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=8",
         "-s", "ARCHIVER_PROGRESS_INTERVAL=0", "--log-level", "ERROR"]  # fmt: skip


def crawl(db: Path, url: str, warc: bool, *extra: str) -> float:
    cmd = [sys.executable, "-m", "archiver.cli", "crawl", "demo", "--db", str(db), "--base-url", url, *QUICK,
           "-s", f"ARCHIVER_WARC_ENABLED={warc}", *extra]  # fmt: skip
    t0 = time.perf_counter()
    result = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    elapsed = time.perf_counter() - t0
    if result.returncode != 0:
        raise SystemExit(f"crawl failed: {result.stdout}\n{result.stderr}")
    return elapsed


def warc_bytes(directory: Path) -> int:
    return sum(f.stat().st_size for f in directory.rglob("*.warc.gz"))


def measure(name: str, url: str, articles: int, rounds: int) -> None:
    times: dict[tuple[bool, str], list[float]] = {}
    first_bytes = again_bytes = 0
    for r in range(rounds):
        for warc in (True, False):
            work = OUT / f"{name}-{r}-{'warc' if warc else 'plain'}"
            shutil.rmtree(work, ignore_errors=True)
            work.mkdir(parents=True)
            db = work / "archive.db"
            times.setdefault((warc, "first"), []).append(crawl(db, url, warc, "--full"))
            size1 = warc_bytes(work)
            times.setdefault((warc, "again"), []).append(crawl(db, url, warc, "--full"))
            if warc:
                first_bytes, again_bytes = size1, warc_bytes(work) - size1
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"{name}: {articles} articles, {rounds} round(s)")
    print(f"  WARC per article: first crawl {first_bytes / articles / 1024:.1f} KB "
          f"({first_bytes / 2**20:.2f} MB in all), recrawl of unchanged pages {again_bytes / articles / 1024:.1f} KB")  # fmt: skip
    for kind in ("first", "again"):
        with_w, without = med[(True, kind)], med[(False, kind)]
        print(f"  {'first crawl' if kind == 'first' else 'recrawl    '}: {with_w:.2f} s with WARC, {without:.2f} s "
              f"without: ratio {with_w / without:.2f}")  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--big", type=int, default=334, help="articles per category of the generated portal")
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT))
    from tests.faultportal import FaultPortal

    server = demo.serve(demo.SITE_DIR)
    try:
        measure("demo", demo.server_url(server), 66, args.rounds)
    finally:
        server.shutdown()
    big = FaultPortal(set(), per_cat=args.big)
    try:
        measure("generated", big.url, 3 * args.big, args.rounds)
    finally:
        big.stop()


if __name__ == "__main__":
    main()
