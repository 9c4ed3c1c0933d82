"""A crawl over Redis: throughput of 1, 2 and 3 workers (and the one writer) against a single
process crawling the same site, and what Redis holds per queued request and per seen URL.

    python -m bench.cluster [--per-section 40] [--latency 150] [--workers 1,2,3] [--entries 100000]

The site is the generated portal (``tests/gensite.py``, ~170 KB pages) answering in ``--latency``
± 50 ms, crawled with 8 requests at a time to it and no delay (the cluster's gate allows 8 in the
whole cluster: more workers help only where one process is short of CPU, not of the server's
limits). Each crawl is ``--full`` into a new archive; the cluster's time runs from starting the
writer to its exit (``--exit-when-idle 1``, after the workers left, minus that second and the
workers' idle wait). Every run must store the articles the single process stores.

Memory: ``--entries`` requests as a worker queues them (scrapy-redis' pickled request dicts,
with the in-flight copy the same size while fetched) and as many seen URLs (the duplicate
filter's fingerprint, the run's claimed URL and seen link, the writer's known URL), measured as
Redis' ``used_memory`` before and after, and scaled to 10⁷ URLs.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.crawl import children_cpu
from bench.discover import HAND
from tests.crawling import archiver_cmd, free_port, q
from tests.gensite import GenSite

FAST = ["-s", "AUTOTHROTTLE_ENABLED=False", "-s", "DOWNLOAD_DELAY=0", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=8",
        "-s", "ARCHIVER_PROGRESS_INTERVAL=0", "-s", "ARCHIVER_ATTACHMENTS_ENABLED=false"]  # fmt: skip
CLUSTER = ["-s", "ARCHIVER_REDIS_LEASE_SECONDS=5", "-s", "ARCHIVER_REDIS_IDLE_SECONDS=1"]
ROOT = Path(__file__).resolve().parents[1]


def start_redis(directory: Path) -> tuple[subprocess.Popen[bytes], int]:
    exe = shutil.which("redis-server")
    if exe is None:
        sys.exit("redis-server is not installed (apt-get install redis-server)")
    port = free_port()
    proc = subprocess.Popen([exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                             "--dir", str(directory)], stdout=subprocess.DEVNULL)  # fmt: skip
    import redis

    client = redis.Redis(port=port)
    for _ in range(100):
        try:
            client.ping()
            return proc, port
        except redis.ConnectionError:
            time.sleep(0.05)
    sys.exit("redis-server did not start")


def single(env: dict[str, str], db: Path) -> tuple[float, float]:
    cpu, t = children_cpu(), time.perf_counter()
    r = subprocess.run(archiver_cmd("crawl", "gen", "--full", "--db", str(db), *FAST), env=env, cwd=ROOT,
                       capture_output=True, text=True)  # fmt: skip
    if r.returncode not in (0, 1):
        sys.exit(r.stderr[-2000:])
    return time.perf_counter() - t, children_cpu() - cpu


def cluster(env: dict[str, str], db: Path, port: int, workers: int) -> tuple[float, float]:
    url = f"redis://127.0.0.1:{port}/0"
    cpu, t = children_cpu(), time.perf_counter()
    writer = subprocess.Popen(archiver_cmd("ingest", "--redis", url, "--db", str(db), "--exit-when-idle", "1",
                                           *CLUSTER), env=env, cwd=ROOT, stderr=subprocess.PIPE, text=True)  # fmt: skip
    procs = [subprocess.Popen(archiver_cmd("crawl", "gen", "--full", "--db", str(db), "--redis", url, "--worker",
                                           f"b{i}", *FAST, *CLUSTER), env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True) for i in range(workers)]  # fmt: skip
    for p in procs:
        _, err = p.communicate()
        if p.returncode != 0:
            sys.exit(err[-2000:])
    _, err = writer.communicate()
    if writer.returncode != 0:
        sys.exit(err[-2000:])
    # The writer's idle second and the workers' idle wait are the bench's settings, not work.
    return time.perf_counter() - t - 1.0 - 1.0, children_cpu() - cpu


def memory(port: int, entries: int) -> tuple[float, float, float]:
    """Bytes of Redis memory per queued request, per request in flight, per seen URL."""
    import pickle

    import redis
    from scrapy import Request

    from archiver.cluster import run_key, state_key
    from archiver.profiles import get_portal
    from spiders.portal import PortalSpider

    client = redis.Redis(port=port)
    client.flushall()
    spider = PortalSpider(profile=get_portal("demo"))
    base = "https://www.haugiang.gov.vn/tin-tuc/tin-trong-tinh/hau-giang-ban-hanh-chi-thi-ve-viec-day-manh-cai-cach-"

    def used() -> int:
        return int(client.info("memory")["used_memory"])

    def fill(fn: object) -> float:
        before = used()
        pipe = client.pipeline(transaction=False)
        for i in range(entries):
            fn(pipe, i)  # type: ignore[operator]
            if i % 5000 == 4999:
                pipe.execute()
        pipe.execute()
        return (used() - before) / entries

    def queued(pipe: object, i: int) -> None:
        req = Request(f"{base}{i}.html", callback=spider.parse_article, errback=spider.on_error,
                      meta={"kind": "article"}, dont_filter=True)  # fmt: skip
        pipe.zadd(run_key("bench", "requests"), {pickle.dumps(req.to_dict(spider=spider), protocol=-1): 0})  # type: ignore[attr-defined]

    def inflight(pipe: object, i: int) -> None:
        req = Request(f"{base}{i}.html", callback=spider.parse_article, errback=spider.on_error,
                      meta={"kind": "article"}, dont_filter=True)  # fmt: skip
        pipe.hset(run_key("bench", "inflight"), f"bench-worker|{i}|0",  # type: ignore[attr-defined]
                  pickle.dumps(req.to_dict(spider=spider), protocol=-1))  # fmt: skip

    def seen(pipe: object, i: int) -> None:
        import hashlib

        url = f"{base}{i}.html"
        pipe.sadd(run_key("bench", "dupefilter"), hashlib.sha1(url.encode()).hexdigest())  # type: ignore[attr-defined]
        pipe.sadd(run_key("bench", "claimed"), url)  # type: ignore[attr-defined]
        pipe.sadd(run_key("bench", "links"), url)  # type: ignore[attr-defined]
        pipe.sadd(state_key("known", "bench"), url)  # type: ignore[attr-defined]

    out = fill(queued), fill(inflight), fill(seen)
    client.flushall()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--per-section", type=int, default=40)
    ap.add_argument("--latency", type=int, default=150)
    ap.add_argument("--workers", default="1,2,3")
    ap.add_argument("--entries", type=int, default=100_000)
    args = ap.parse_args()
    site = GenSite(args.per_section, pad_kb=120, delay=args.latency / 1000, jitter=0.05)
    n = len(site.by_path)
    print(f"site: {n} articles, ~170 KB pages, {args.latency} ± 50 ms per answer; 8 requests at a time, no delay; "
          f"{os.cpu_count()} cores", flush=True)  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        pdir = Path(tmp) / "profiles"
        pdir.mkdir()
        (pdir / "gen.toml").write_text(HAND.format(origin=site.url), encoding="utf-8")
        env = dict(os.environ, ARCHIVER_PORTALS_DIR=str(pdir), ARCHIVER_REGISTRY="none")
        proc, port = start_redis(Path(tmp))
        try:
            t1, c1 = single(env, Path(tmp) / "single.db")
            got = q(Path(tmp) / "single.db", "SELECT count(*) FROM articles")[0][0]
            print(f"  single process: {t1:.1f} s wall, {c1:.1f} s CPU, {got}/{n} articles", flush=True)
            for w in (int(x) for x in args.workers.split(",")):
                import redis

                redis.Redis(port=port).flushall()
                db = Path(tmp) / f"cluster{w}" / "archive.db"
                db.parent.mkdir()
                tw, cw = cluster(env, db, port, w)
                got = q(db, "SELECT count(*) FROM articles")[0][0]
                print(f"  {w} worker(s) + writer: {tw:.1f} s wall ({t1 / tw:.2f} × the single process's speed), "
                      f"{cw:.1f} s CPU ({cw / c1:.2f} ×), {got}/{n} articles", flush=True)  # fmt: skip
            per_req, per_flight, per_url = memory(port, args.entries)
        finally:
            proc.terminate()
            proc.wait()
            site.stop()
    print(f"  Redis memory: {per_req:.0f} B per queued request, {per_flight:.0f} B per request in flight, "
          f"{per_url:.0f} B per seen URL (fingerprint, claimed URL, seen link, known URL)")  # fmt: skip
    total = 1e7 * per_url
    print(f"  10^7 URLs on paper: {total / 2**30:.1f} GiB for the seen URLs, plus {per_req * 1e7 / 2**30:.1f} GiB if "
          f"all were queued at once (a walk queues a fraction: listings fan out as they are read)")  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
