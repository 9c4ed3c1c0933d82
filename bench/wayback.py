"""Wayback Machine throughput at the default rate limits, against the local mock.

    python -m bench.wayback

Crawls the demo portal's captures from ``tests/waybackmock.py`` with the default
``ARCHIVER_WAYBACK_CDX_PER_MINUTE`` and ``ARCHIVER_WAYBACK_REPLAYS_PER_SECOND`` (and one 429
burst), and prints the captures fetched per minute, the share of CDX rows that became articles,
and what that rate means for a provincial portal of 10^4 and 10^5 articles (on paper: captures
per article as in the sample, one CDX query per ARCHIVER_WAYBACK_CDX_LIMIT rows).
"""

from __future__ import annotations

import json
import subprocess
import tempfile
import time
from pathlib import Path

from archiver import settings
from tests.crawling import QUICK, ROOT, archiver_cmd, q
from tests.waybackmock import WaybackMock


def main() -> None:
    mock = WaybackMock(burst_429=1)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            db = Path(tmp) / "w.db"
            t = time.perf_counter()
            r = subprocess.run(archiver_cmd("crawl", "demo", "--db", str(db), "--source", "wayback", *QUICK, "-s",
                                            f"ARCHIVER_WAYBACK_URL={mock.url}"),
                               capture_output=True, text=True, cwd=ROOT)  # fmt: skip
            seconds = time.perf_counter() - t
            if r.returncode != 0:
                raise SystemExit(r.stdout + r.stderr[-2000:])
            d = json.loads(q(db, "SELECT discovery FROM crawl_runs")[0][0])
            articles = q(db, "SELECT count(*) FROM articles")[0][0]
    finally:
        mock.stop()
    replays = sum(1 for _, k, _ in mock.requests if k == "replay")
    cdx = sum(1 for _, k, _ in mock.requests if k == "cdx")
    per_min = replays / seconds * 60
    per_article = d["captures"] / articles
    print(f"defaults: {settings.ARCHIVER_WAYBACK_CDX_PER_MINUTE:g} CDX queries/min, "
          f"{settings.ARCHIVER_WAYBACK_REPLAYS_PER_SECOND:g} replays/s, {settings.ARCHIVER_WAYBACK_CDX_LIMIT} rows/query")
    print(f"  {replays} replays and {cdx} CDX queries (one 429 burst) in {seconds:.1f} s: {per_min:.0f} captures/min; "
          f"highest rates seen: {mock.rate('cdx', 60.0)} CDX/min, {mock.rate('replay', 1.0)} replays/s")
    print(f"  CDX rows {d['rows']} -> {articles} articles ({articles / d['rows']:.0%}; {d['captures']} captures, "
          f"{per_article:.2f} per article; repeated {d['rows_repeated']}, revisits {d['rows_revisit']}, "
          f"not articles {d.get('rows_not_article', 0) + d.get('rows_other', 0)})")
    for n in (10_000, 100_000):
        minutes = n * per_article / (settings.ARCHIVER_WAYBACK_REPLAYS_PER_SECOND * 60)
        queries = n * per_article * d["rows"] / max(1, d["captures"]) / settings.ARCHIVER_WAYBACK_CDX_LIMIT
        print(f"  a portal of {n:,} articles: ~{minutes / 60:.1f} h of replays, {queries:.0f} CDX queries "
              f"({queries / settings.ARCHIVER_WAYBACK_CDX_PER_MINUTE:.1f} min)")


if __name__ == "__main__":
    main()
