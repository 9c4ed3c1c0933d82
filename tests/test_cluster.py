"""A crawl over Redis as an operator runs it: a real ``redis-server``, several ``archiver crawl
--redis`` workers and one ``archiver ingest --redis`` writer, all subprocesses of the CLI, against
portals served on 127.0.0.1. The archive they make equals a single-process crawl's; killing a
worker or the writer with SIGKILL loses nothing and stores nothing twice; the cluster together
keeps a portal's limits; an unreachable Redis is one clear line."""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import pytest

from archiver import demo
from tests.crawling import free_port, q
from tests.faultportal import ALL_FAULTS, NOT_ARTICLE, UNREACHABLE, FaultPortal, site

ROOT = Path(__file__).resolve().parents[1]
FAST = ["-s", "DOWNLOAD_TIMEOUT=3", "-s", "RETRY_TIMES=2", "-s", "ARCHIVER_BACKOFF_BASE=0.2",
        "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "DOWNLOAD_DELAY=0", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=4",
        "-s", "ARCHIVER_PROGRESS_INTERVAL=0"]  # fmt: skip
# A dead worker is noticed within 2 s; a worker leaves a run 2 s after its queue ran dry.
CLUSTER = ["-s", "ARCHIVER_REDIS_LEASE_SECONDS=2", "-s", "ARCHIVER_REDIS_IDLE_SECONDS=2"]
BIG = 24


class RedisServer:
    """A real redis-server on 127.0.0.1 (Debian's package; `.ci/run` installs it), stopped at the end."""

    def __init__(self, directory: Path) -> None:
        exe = shutil.which("redis-server")
        if exe is None:
            pytest.fail("redis-server is not installed: `apt-get install redis-server` (.ci/run installs it)")
        self.port = free_port()
        self.proc = subprocess.Popen([exe, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                      "--appendonly", "no", "--dir", str(directory)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        import redis

        self.client = redis.Redis(port=self.port)
        for _ in range(100):
            try:
                self.client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.05)
        else:
            self.stop()
            pytest.fail("redis-server did not start")

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    yield server
    server.stop()


@pytest.fixture()
def fresh_redis(redis_server: RedisServer) -> RedisServer:
    redis_server.client.flushall()
    return redis_server


def profile(directory: Path, slug: str, base: str) -> None:
    starts = ["/tin-tuc/tin-trong-tinh/", "/tin-tuc/thoi-su-chinh-tri/", "/tin-tuc/kinh-te/"]
    (directory / f"{slug}.toml").write_text(
        f'name = "{slug}"\nprovince = "Hậu Giang"\nextends = "hgportal"\nbase_url = "{base}"\n'
        f"start_urls = {starts!r}\nallow_private = true\n".replace("'", '"'),
        encoding="utf-8",
    )


def cli(*args: str, env: dict[str, str]) -> list[str]:
    return [sys.executable, "-m", "archiver.cli", *args]


def start_writer(db: Path, redis: RedisServer, env: dict[str, str], idle: float = 3) -> subprocess.Popen[str]:
    return subprocess.Popen(cli("ingest", "--redis", redis.url, "--db", str(db), "--exit-when-idle", str(idle),
                                *CLUSTER, env=env), cwd=ROOT, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip


def start_worker(db: Path, redis: RedisServer, name: str, portals: list[str], env: dict[str, str],
                 *extra: str) -> subprocess.Popen[str]:  # fmt: skip
    return subprocess.Popen(cli("crawl", *portals, "--db", str(db), "--redis", redis.url, "--worker", name, *FAST,
                                *CLUSTER, *extra, env=env), cwd=ROOT, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip


def finish(proc: subprocess.Popen[str], timeout: float = 240) -> tuple[int, str, str]:
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        raise AssertionError(f"{proc.args[3:6]} did not end: {err[-3000:]}") from None
    return proc.returncode, out, err


def single(db: Path, portals: list[str], env: dict[str, str], *extra: str) -> None:
    result = subprocess.run(cli("crawl", *portals, "--db", str(db), *FAST, *extra, env=env), cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=300)  # fmt: skip
    assert result.returncode in (0, 1), result.stderr[-3000:]


def contents(db: Path, portal: str) -> dict[str, object]:
    """What an archive holds of a portal, as two archives of the same crawl must agree on it."""
    conn = sqlite3.connect(db)
    try:
        def rows(sql: str) -> list[tuple]:
            return sorted(conn.execute(sql, (portal,)).fetchall())

        return {
            "articles": rows("SELECT url, content_hash, title, published, views, author FROM articles WHERE portal=?"),
            "revisions": rows("SELECT a.url, r.revision, r.content_hash FROM article_revisions r JOIN articles a "
                              "ON a.id = r.article_id WHERE a.portal=?"),
            "documents": rows("SELECT DISTINCT t.url, t.sha256 FROM attachments t JOIN article_attachments l ON "
                              "l.url = t.url JOIN articles a ON a.id = l.article_id WHERE a.portal=?"),
            "links": rows("SELECT a.url, l.url FROM article_attachments l JOIN articles a ON a.id = l.article_id "
                          "WHERE a.portal=?"),
            "gone": rows("SELECT url FROM articles WHERE portal=? AND gone_at IS NOT NULL"),
        }
    finally:
        conn.close()


@pytest.fixture(scope="module")
def portals(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[dict[str, str], dict[str, FaultPortal]]]:
    directory = tmp_path_factory.mktemp("portals")
    servers = {"loi": FaultPortal(ALL_FAULTS), "lon": FaultPortal(set(), per_cat=BIG, delay=0.01)}
    mirror = demo.serve(demo.SITE_DIR)
    try:
        for slug, server in servers.items():
            profile(directory, slug, server.url)
        profile(directory, "demo-mirror", demo.server_url(mirror))
        yield dict(os.environ, ARCHIVER_PORTALS_DIR=str(directory)), servers
    finally:
        for server in servers.values():
            server.stop()
        mirror.shutdown()
        mirror.server_close()


def test_three_workers_and_one_writer_make_the_archive_one_process_makes(portals, fresh_redis, tmp_path) -> None:
    env, _ = portals
    names = ["loi", "demo-mirror"]
    single(tmp_path / "single.db", names, env, "--full")
    db = tmp_path / "cluster" / "archive.db"
    db.parent.mkdir()
    writer = start_writer(db, fresh_redis, env)
    workers = [start_worker(db, fresh_redis, f"w{i}", names, env, "--full") for i in range(1, 4)]
    outs = [finish(w) for w in workers]
    code, _, err = finish(writer)
    assert code == 0, err[-3000:]
    for rc, out, werr in outs:
        assert rc == 0, werr[-3000:]
        assert "cluster run" in out
    for portal in names:
        mine, theirs = contents(db, portal), contents(tmp_path / "single.db", portal)
        assert mine["articles"], portal
        assert mine == theirs, portal
    # Each article once, one revision each; every reachable article of the fault portal is there.
    titles = {r[0] for r in q(db, "SELECT title FROM articles WHERE portal='loi'")}
    assert titles == {a.title for i, a in enumerate(site()[0], 1) if i not in UNREACHABLE and i not in NOT_ARTICLE}
    assert q(db, "SELECT count(*), count(DISTINCT url) FROM articles")[0][0] == q(
        db, "SELECT count(DISTINCT url) FROM articles")[0][0]  # fmt: skip
    assert q(db, "SELECT count(*) FROM article_revisions WHERE revision > 1") == [(0,)]
    # One run per portal, closed by the writer, with each worker's part.
    runs = q(db, "SELECT portal, status FROM crawl_runs ORDER BY portal")
    assert [r[0] for r in runs] == sorted(names)
    assert all(s in ("ok", "degraded") for _, s in runs), runs
    assert q(db, "SELECT status FROM crawl_runs WHERE portal='demo-mirror'") == [("ok",)]
    statuses = q(db, "SELECT r.portal, w.worker, w.status FROM run_workers w JOIN crawl_runs r ON r.id = w.run_id")
    assert {w for _, w, _ in statuses} == {"w1", "w2", "w3"}
    assert all(s == "done" for _, _, s in statuses)
    shown = subprocess.run(cli("runs", "--db", str(db), env=env), cwd=ROOT, env=env, capture_output=True, text=True)
    assert "worker w2: done" in shown.stdout
    # The WARC files are per worker; the stream and the runs' keys are gone from Redis.
    assert {p.name for p in (db.parent / "warc").iterdir()} <= {"w1", "w2", "w3"}
    assert not fresh_redis.client.keys("archiver:run:*")
    assert fresh_redis.client.xlen("archiver:stream") <= 1


def test_killing_a_worker_and_the_writer_loses_nothing_and_stores_nothing_twice(portals, fresh_redis,
                                                                                 tmp_path) -> None:  # fmt: skip
    env, servers = portals
    single(tmp_path / "single.db", ["lon"], env, "--full")
    db = tmp_path / "cluster.db"
    server = servers["lon"]
    start = len(server.requests)
    writer = start_writer(db, fresh_redis, env, idle=4)
    slow = ["-s", "CONCURRENT_REQUESTS_PER_DOMAIN=2", "--full"]
    workers = [start_worker(db, fresh_redis, f"k{i}", ["lon"], env, *slow) for i in range(1, 4)]
    killed_worker = killed_writer = False
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not (killed_worker and killed_writer):
        fetched = len(server.requests) - start
        if fetched > 20 and not killed_worker:
            workers[0].send_signal(signal.SIGKILL)
            killed_worker = True
        if fetched > 40 and not killed_writer and q(db, "SELECT count(*) FROM articles")[0][0] > 0:
            writer.send_signal(signal.SIGKILL)
            writer.wait()
            killed_writer = True
            time.sleep(0.5)
            writer = start_writer(db, fresh_redis, env, idle=4)
        time.sleep(0.02)
    assert killed_worker and killed_writer, "the crawl ended before the kills"
    workers[0].wait()
    for w in workers[1:]:
        rc, _, err = finish(w)
        assert rc == 0, err[-3000:]
    code, _, err = finish(writer)
    assert code == 0, err[-3000:]
    mine, theirs = contents(db, "lon"), contents(tmp_path / "single.db", "lon")
    assert len(mine["articles"]) == 3 * BIG
    assert mine == theirs
    # The killed worker is recorded lost; the run is closed.
    assert q(db, "SELECT status FROM run_workers WHERE worker='k1'") == [("lost",)]
    assert q(db, "SELECT status FROM crawl_runs") == [("ok",)]


def test_the_cluster_keeps_a_portals_limits(portals, fresh_redis, tmp_path) -> None:
    env, servers = portals
    server = servers["lon"]
    db = tmp_path / "polite.db"
    writer = start_writer(db, fresh_redis, env)
    polite = ["-s", "DOWNLOAD_DELAY=0.2", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=1", "--max-pages", "36", "--full"]
    first = len(server.requests)
    workers = [start_worker(db, fresh_redis, f"p{i}", ["lon"], env, *polite) for i in range(1, 4)]
    for w in workers:
        rc, _, err = finish(w)
        assert rc == 0, err[-3000:]
        assert "Error caught" not in err, err[-3000:]  # the gate's hold on the local slot works
    finish(writer)
    times = sorted(t for t, path, _ in server.requests[first:])
    assert len(times) >= 30
    # 0.2 s apart for the three workers together, as each alone would be (three times that
    # rate without the cluster's gate). A request's arrival jitters by the time its worker takes
    # from the gate to the socket: measured over ten requests in a row, and over the whole run.
    spans = [times[i + 9] - times[i] for i in range(len(times) - 9)]
    assert min(spans) >= 9 * 0.2 * 0.8, sorted(spans)[:3]
    rate = (len(times) - 1) / (times[-1] - times[0])
    assert rate <= 5 * 1.1, rate
    # Three workers did take part.
    assert len({w for (w,) in q(db, "SELECT worker FROM run_workers")}) == 3


def test_an_unreachable_redis_is_one_clear_line(portals, tmp_path) -> None:
    env, _ = portals
    url = f"redis://127.0.0.1:{free_port()}/0"
    for args in (["crawl", "loi", "--redis", url], ["ingest", "--redis", url]):
        result = subprocess.run(cli(*args, "--db", str(tmp_path / "a.db"), env=env), cwd=ROOT, env=env,
                                capture_output=True, text=True, timeout=60)  # fmt: skip
        assert result.returncode == 1, result.stderr
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and "cannot reach Redis" in lines[0] and url in lines[0], result.stderr
    bad = subprocess.run(cli("crawl", "loi", "--redis", "http://127.0.0.1:1/", env=env), cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=60)  # fmt: skip
    assert bad.returncode == 2 and "expected redis://HOST:PORT/DB" in bad.stderr


def test_a_worker_without_a_writer_says_what_to_start(portals, fresh_redis, tmp_path) -> None:
    env, _ = portals
    result = subprocess.run(cli("crawl", "loi", "--redis", fresh_redis.url, "--db", str(tmp_path / "a.db"), "-s",
                                "ARCHIVER_REDIS_WAIT_SECONDS=1", env=env), cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=60)  # fmt: skip
    assert result.returncode == 1
    assert "archiver ingest --redis" in result.stderr and len(result.stderr.strip().splitlines()) == 1


# -- the Redis side, piece by piece --------------------------------------------------------------
def test_messages_carry_items_with_their_types() -> None:
    from archiver.cluster import decode, encode
    from archiver.ingest import Ingested
    from archiver.items import Article, AttachmentFile

    art = Article("https://x.gov.vn/a", title="Đảng bộ tỉnh", published=datetime.fromisoformat("2021-03-23T08:15:00+07:00"),
                  body_text="Nội dung.", documents=[("https://x.gov.vn/a.pdf", "Quyết định")])  # fmt: skip
    item = Ingested(art, "<urn:uuid:1>", "x@1", digest="sha1:AAA")
    back = decode(encode(item))
    assert back == Ingested(dataclass_replace(art, documents=[["https://x.gov.vn/a.pdf", "Quyết định"]]),
                            "<urn:uuid:1>", "x@1", digest="sha1:AAA")  # fmt: skip
    assert decode(encode(Article("u", published=date(2021, 3, 23)))).published == date(2021, 3, 23)
    assert decode(encode(AttachmentFile({"data": b"\x00\xff", "n": 1}, None))).row["data"] == b"\x00\xff"
    with pytest.raises(ValueError):
        decode('{"$t": "Nope"}')


def dataclass_replace(obj, **kw):
    import dataclasses

    return dataclasses.replace(obj, **kw)


def test_a_request_taken_by_a_dead_worker_goes_back_to_the_queue(fresh_redis) -> None:
    from archiver.cluster import Cluster, Lease, run_key

    r = fresh_redis.client
    a = Cluster(r, "a", lease=Lease(seconds=0.3))
    b = Cluster(r, "b", lease=Lease(seconds=30))
    a.renew()
    b.renew()
    r.zadd(run_key("t", "requests"), {b"req-1": -10, b"req-2": 0})
    field, data = a.pop("t")
    assert data == b"req-1" and field.startswith("a|")  # the highest priority first
    assert a.pending("t") == (1, 1)
    assert b.requeue_dead("t") == 0  # a is alive
    time.sleep(0.4)  # a's lease ends
    assert b.requeue_dead("t") == 1
    assert r.zscore(run_key("t", "requests"), b"req-1") == -10  # back, with its priority
    assert b.pending("t") == (2, 0)


def test_a_run_closes_only_when_its_queue_is_empty_nothing_in_flight_and_no_worker_alive(fresh_redis) -> None:
    from archiver.cluster import Cluster, Lease, run_key

    r = fresh_redis.client
    a = Cluster(r, "a", lease=Lease(seconds=30))
    a.renew()
    token, opened = a.join("demo", {"mode": "full"})
    again, second = Cluster(r, "b").join("demo", {})
    assert opened and not second and again == token
    assert r.xlen("archiver:stream") == 1  # the "open" message, once
    r.zadd(run_key(token, "requests"), {b"x": 0})
    assert not a.close_if_done(token, "demo")
    a.pop(token)
    assert not a.close_if_done(token, "demo")  # in flight
    a.drop_own(token)
    assert not a.close_if_done(token, "demo")  # a is alive and a member
    r.srem(run_key(token, "workers"), "a")
    assert a.close_if_done(token, "demo")  # b never renewed a lease: not alive
    new, opened_again = a.join("demo", {})
    assert opened_again and new != token


def test_the_gate_spaces_requests_to_a_host_for_everyone(fresh_redis) -> None:
    from archiver.cluster import Cluster

    a, b = Cluster(fresh_redis.client, "a"), Cluster(fresh_redis.client, "b")
    assert a.gate("h:1", 0.5, 2, "a|1", 10) == 0
    wait = b.gate("h:1", 0.5, 2, "b|1", 10)
    assert 0.3 < wait <= 0.5  # the other worker waits for the interval
    time.sleep(wait)
    assert b.gate("h:1", 0.5, 2, "b|1", 10) == 0
    time.sleep(0.5)
    assert a.gate("h:1", 0.5, 2, "a|2", 10) > 0  # two running: the concurrency is full
    a.release("h:1", "a|1")
    assert a.gate("h:1", 0.5, 2, "a|2", 10) == 0


def test_the_readme_distributed_section_runs_as_written(tmp_path) -> None:
    """The README's "On one machine" block, verbatim, in a fresh directory shaped like a clone."""
    import re

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("### On one machine", 1)[1]
    script = re.search(r"```bash\n(.*?)```", section, flags=re.S).group(1)  # type: ignore[union-attr]
    (tmp_path / ".venv").symlink_to(Path(sys.executable).parent.parent)
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "demo").symlink_to(ROOT / "data" / "demo")
    env = {k: v for k, v in os.environ.items() if k not in ("ARCHIVER_DB", "ARCHIVER_PORTALS_DIR")}
    result = subprocess.run(["bash", "-e", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True,
                            timeout=240)  # fmt: skip
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    db = tmp_path / "data" / "cluster.db"
    assert q(db, "SELECT count(*) FROM articles")[0][0] == len(demo.articles())
    assert q(db, "SELECT status FROM crawl_runs") == [("ok",)]
    assert "worker w3" in result.stdout
    assert {w for (w,) in q(db, "SELECT worker FROM run_workers")} == {"w1", "w2", "w3"}


def test_the_shared_duplicate_filter_uses_scrapys_fingerprints(fresh_redis) -> None:
    from scrapy import Request
    from scrapy.utils.test import get_crawler

    from spiders.cluster import ClusterDupeFilter

    crawler = get_crawler(settings_dict={"REQUEST_FINGERPRINTER_IMPLEMENTATION": "2.7"})
    df = ClusterDupeFilter(fresh_redis.client, "archiver:run:t:dupefilter", crawler.request_fingerprinter)
    first = Request("http://127.0.0.1:1/tin?b=2&a=1")
    assert df.request_fingerprint(first) == crawler.request_fingerprinter.fingerprint(first).hex()
    assert not df.request_seen(first)
    assert df.request_seen(Request("http://127.0.0.1:1/tin?a=1&b=2"))  # the same page to Scrapy
    assert not df.request_seen(Request("http://127.0.0.1:1/tin?a=1&b=3"))
    df.close("finished")
    assert fresh_redis.client.scard("archiver:run:t:dupefilter") == 2  # persistent: a worker leaving keeps it


def test_a_url_is_claimed_only_in_the_step_that_queues_its_request(fresh_redis) -> None:
    """A worker killed between claiming a link and queuing its request would leave the URL
    claimed and never fetched (the listing fetched again by another worker skips it): the claim
    travels with the request and is made in Redis when the request is queued."""
    from archiver.cluster import Cluster, run_key
    from spiders.cluster import Claims, SharedSet

    r = fresh_redis.client
    a, b = Cluster(r, "a"), Cluster(r, "b")
    claims = Claims()
    requested = SharedSet(a, "t", "claimed", claims)
    assert requested.claim("http://x/1.html")
    assert not requested.claim("http://x/1.html")  # the worker remembers its own claim
    assert not r.sismember(run_key("t", "claimed"), "http://x/1.html")  # not in Redis before the queue
    pending = claims.take()
    assert pending == [("claim", "claimed", "http://x/1.html")]
    assert a.enqueue("t", b"req-1", 0, "", pending) == 1
    assert r.sismember(run_key("t", "claimed"), "http://x/1.html")
    assert r.zcard(run_key("t", "requests")) == 1
    # Another worker that claimed the same URL meanwhile: its request is refused, not queued twice.
    assert b.enqueue("t", b"req-1-again", 0, "", pending) == -1
    # A filtered request (a listing) is refused by the shared fingerprints in the same step.
    assert a.enqueue("t", b"list-1", 0, "fp1", [("add", "claimed", "http://x/list")]) == 1
    assert b.enqueue("t", b"list-1", 0, "fp1", [("add", "claimed", "http://x/list")]) == 0
    # A request whose claims are partly new is queued (the new ones claimed); 'add' never refuses.
    assert a.enqueue("t", b"docs", 0, "", [("claim", "documents", "d1"), ("claim", "documents", "d2")]) == 1
    assert b.enqueue("t", b"docs2", 0, "", [("claim", "documents", "d2"), ("claim", "documents", "d3")]) == 1
    assert b.enqueue("t", b"docs3", 0, "", [("claim", "documents", "d1"), ("claim", "documents", "d3")]) == -1
    assert r.zcard(run_key("t", "requests")) == 4
    # A claim dropped before its request was made (the page cap) never reaches Redis.
    assert requested.claim("http://x/2.html")
    requested.discard("http://x/2.html")
    assert claims.take() == [] and "http://x/2.html" not in requested


def test_a_worker_queues_the_start_pages_of_an_opener_that_died_before(portals, fresh_redis, tmp_path) -> None:
    """The run's opener is killed before it queued a start page (here: it joined and died): a
    worker that joined the run queues them once the opener's lease is over, and the crawl is
    the single process's."""
    from archiver.cluster import Cluster, Lease

    env, _ = portals
    single(tmp_path / "single.db", ["lon"], env, "--full")
    db = tmp_path / "cluster.db"
    writer = start_writer(db, fresh_redis, env, idle=4)
    ghost = Cluster(fresh_redis.client, "ghost", lease=Lease(seconds=6))
    ghost.renew()  # alive for 6 s: the heir joins its run, then it dies
    token, opened = ghost.join("lon", {"mode": "full", "started_by": "ghost"})
    assert opened
    worker = start_worker(db, fresh_redis, "heir", ["lon"], env, "--full")
    rc, out, err = finish(worker)
    assert rc == 0, err[-3000:]
    assert "queuing them" in err
    assert f"joined cluster run {token}" in err or token in out
    code, _, err = finish(writer)
    assert code == 0, err[-3000:]
    mine, theirs = contents(db, "lon"), contents(tmp_path / "single.db", "lon")
    assert len(mine["articles"]) == 3 * BIG
    assert mine == theirs
