"""Discovery against a hand-written profile on a generated portal nobody wrote a profile for.

    python -m bench.discover [--per-section 45]

Serves ``tests/gensite.py`` on 127.0.0.1 and crawls it twice: from its address alone (discovery)
and with a hand-written profile (CSS unions over the six templates, one listing selector set),
then prints, against the generator's truth: articles found, duplicates, listing pages fetched
more than once, title / day / views right, body word F1, the requests spent on pages that were
neither listings nor articles (the cost of discovery) and the wall time of each.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.crawling import QUICK, ROOT, archiver_cmd
from tests.gensite import GenSite
from tests.test_discover import key, measure

HAND = """name = "Generated portal (hand-written profile)"
province = "Hậu Giang"
base_url = "{origin}"
start_urls = ["/tin-tuc/tin-trong-tinh/", "/kinh-te/", "/index.php?cat=van-hoa", "/Pages/ThongBao.aspx", "/xa-hoi/",
              "/giao-duc/"]
allow_private = true

[listing]
article_links = "div.news-row a.ttl, table.dstin a, #left h4 a, ul.tb a, article.card h3 a, #left a.t"
next_page = "div.phantrang a, div.trang a, #left p a, p.more a, div.nav-pages a"

[article]
title = "h1.title, td.tieude, h2.contentheading, div.tb-title h1, article.post h1, div.detail h1"
date = "div.meta, td.ngay, div.createdate, div.tb-date, p.info, div.sub"
views = "div.meta, div.hits, div.tb-views, p.info, div.sub"
body = "div.content, td.noidung, div.article-content, div.tb-body, section.post-body, div.detail-body"
"""


def run(cmd: list[str], env: dict[str, str]) -> float:
    t = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=env)
    if r.returncode not in (0, 1):
        sys.exit(f"crawl failed: {r.stderr[-2000:]}")
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--per-section", type=int, default=45)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        rows = []
        for mode in ("discovery", "hand-written profile"):
            site = GenSite(args.per_section)
            try:
                db = Path(tmp) / f"{mode[:4]}.db"
                env = dict(os.environ, ARCHIVER_REGISTRY="none")
                if mode == "discovery":
                    cmd = archiver_cmd("crawl", site.url + "/", "--db", str(db), "--allow-private", *QUICK)
                else:
                    pdir = Path(tmp) / "profiles"
                    pdir.mkdir(exist_ok=True)
                    (pdir / "gen.toml").write_text(HAND.format(origin=site.url), encoding="utf-8")
                    env["ARCHIVER_PORTALS_DIR"] = str(pdir)
                    cmd = archiver_cmd("crawl", "gen", "--db", str(db), *QUICK)
                seconds = run(cmd, env)
                m = measure(site, db)
                truth = {key(p) for p in site.by_path}
                other = sum(1 for _, p, _ in site.requests if key(p) not in truth and not _listing(site, p))
                rows.append((mode, m, other, len(site.requests), seconds))
            finally:
                site.stop()
    n = args.per_section * 6
    print(f"generated portal: {n} articles in 6 sections, 6 templates, 6 pagination styles")
    for mode, m, other, total, seconds in rows:
        print(f"  {mode:22s} found {m['found']:.1%}  duplicates {m['duplicates']}  listing pages twice "
              f"{m['listing_twice']}  title {m['title']:.1%}  day {m['day']:.1%}  views {m['views']:.1%}  "
              f"body F1 {m['body_f1']:.3f}  requests {total} (neither listing nor article: {other}, "
              f"{other / total:.1%})  {seconds:.1f} s")  # fmt: skip
    print(f"  time ratio discovery / hand-written: {rows[0][4] / rows[1][4]:.2f}")


def _listing(site: GenSite, path: str) -> bool:
    from urllib.parse import urlsplit

    p = urlsplit(path)
    return p.path in ("/tin-tuc/tin-trong-tinh/", "/kinh-te/", "/index.php", "/Pages/ThongBao.aspx", "/xa-hoi/",
                      "/giao-duc/") or p.path.startswith(("/kinh-te/trang-", "/giao-duc/page-"))  # fmt: skip


if __name__ == "__main__":
    main()
