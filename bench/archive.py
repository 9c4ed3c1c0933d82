"""Benchmark: the archive at 10k and 1M articles.

    python -m bench.archive [--sizes 10000,1000000] [--dir data/bench] [--queries 60] [--keep]

For each size, builds a synthetic archive through the store layer (``Archive.save_article``: URL
and content deduplication, revisions, view observations, the FTS triggers), with realistic
Vietnamese bodies, and prints:

* ingest rate (articles/s) and the per-article ingest cost at the largest size ÷ at the smallest
  (target ≤ 1.3);
* search latency, median and p95, for one- and two-word queries, typed with and without
  diacritics, at the largest size (target p95 ≤ 50 ms);
* export of the largest archive to JSONL and CSV with ``archiver export`` in a child process:
  time and peak RSS (target ≤ 200 MB).

All figures come from the same run on the same machine. The archives are written under
``--dir`` (several GB at 1M articles) and removed afterwards unless ``--keep``.
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import subprocess
import sys
import time
from bisect import bisect
from itertools import accumulate
from pathlib import Path

from archiver.items import Article
from archiver.normalize.text import fold
from archiver.profiles import get_portal
from archiver.store import Archive
from archiver.store.queries import Filters, search

# Words of Vietnamese administrative news, most frequent first (a Zipf-like draw favours the head).
COMMON = """và của các trong được có là cho với đã những này một để theo người tỉnh năm tại công tác
thực hiện ngày huyện xã phát triển kinh tế đồng chí nhân dân đơn vị cơ quan ban ngành quản lý chỉ đạo
tổ chức hội nghị kế hoạch nhiệm vụ triển khai chính quyền địa phương đảng bộ ủy ban kết quả đạt chương
trình dự án đầu tư xây dựng nông thôn mới an ninh trật tự bảo vệ môi trường giáo dục y tế văn hóa xã
hội du lịch nông nghiệp sản xuất doanh nghiệp hỗ trợ giải quyết hồ sơ thủ tục hành chính cải cách chuyển
đổi số phòng chống dịch bệnh thiên tai giảm nghèo bền vững chính sách gia đình lao động việc làm đào tạo
nguồn nhân lực khoa học công nghệ thông tin truyền thông tuyên truyền phổ biến pháp luật kiểm tra giám
sát thanh tra khiếu nại tố cáo tiếp công dân quốc phòng quân sự công an biên phòng giao thông vận tải
tài nguyên nước đất đai quy hoạch đô thị ngân sách thu chi tài chính thuế kho bạc hải quan thương mại
xuất khẩu nhập khẩu thị trường giá cả lúa gạo trái cây thủy sản chăn nuôi trồng trọt khuyến nông hợp
tác xã thanh niên phụ nữ cựu chiến binh mặt trận tổ quốc tôn giáo dân tộc thiểu số vùng sâu vùng xa
biên giới hải đảo điện nước sạch nhà ở trường học bệnh viện trạm y tế bảo hiểm xã hội lương hưu người
có công thương binh liệt sĩ hiến máu tình nguyện khen thưởng thi đua biểu dương điển hình tiên tiến
sáng kiến đề án nghị quyết chỉ thị quyết định thông tư nghị định luật văn bản báo cáo tổng kết sơ kết
đánh giá rút kinh nghiệm phương hướng mục tiêu chỉ tiêu tăng trưởng tổng sản phẩm thu nhập bình quân""".split()
INITIALS = "b c ch d đ g gh gi h k kh l m n ng nh p ph qu r s t th tr v x".split()
RIMES = "a ai ao au ay âu ây e eo ê êu i ia iu o oa oe oi ô ôi ơ ơi u ua uy ư ưa ưu an anh ang at ach em en eng et inh ich ong oc ung uc ương ươc iên iêt".split()
TONES = ["", "\u0300", "\u0301", "\u0309", "\u0303", "\u0323"]


def vocabulary(rng: random.Random, size: int = 6000) -> list[str]:
    import unicodedata

    words = list(dict.fromkeys(COMMON))
    seen = set(words)
    while len(words) < size:
        syl = rng.choice(INITIALS) + rng.choice(RIMES)
        vowel = next((i for i, c in enumerate(syl) if c in "aăâeêioôơuưy"), len(syl) - 1)
        syl = unicodedata.normalize("NFC", syl[: vowel + 1] + rng.choice(TONES) + syl[vowel + 1 :])
        word = syl if rng.random() < 0.5 else syl + " " + rng.choice(words[:300])
        if word not in seen:
            seen.add(word)
            words.append(word)
    return words


class Corpus:
    """Deterministic synthetic articles: Zipf-distributed words, paragraphs drawn from a pool."""

    def __init__(self, seed: int = 2025) -> None:
        self.rng = random.Random(seed)
        self.words = vocabulary(self.rng)
        self.cum = list(accumulate(1 / (r + 1) ** 1.05 for r in range(len(self.words))))
        self.pool = [self.paragraph() for _ in range(4000)]

    def draw(self, k: int) -> list[str]:
        total = self.cum[-1]
        return [self.words[bisect(self.cum, self.rng.random() * total)] for _ in range(k)]

    def sentence(self) -> str:
        words = self.draw(self.rng.randint(8, 22))
        return words[0][:1].upper() + " ".join(words)[1:] + "."

    def paragraph(self) -> str:
        return " ".join(self.sentence() for _ in range(self.rng.randint(2, 4)))

    def article(self, n: int, portal: str, base: str) -> Article:
        rng = self.rng
        body = [self.sentence()] + rng.sample(self.pool, rng.randint(3, 6))
        title = " ".join(self.draw(rng.randint(7, 14))).capitalize()
        d = f"{2010 + n % 15}-{1 + n % 12:02d}-{1 + n % 28:02d}"
        return Article(url=f"{base}/tin-tuc/{n}.html", canonical_url=f"{base}/tin-tuc/{n}.html", portal=portal, title=title,
                       body_text="\n\n".join(body), lead=body[0], published=None, published_raw=d, views=rng.randint(0, 9999),
                       category=rng.choice(["Tin trong tỉnh", "Kinh tế", "Văn hóa - Xã hội", "Thời sự - Chính trị"]),
                       author=rng.choice([None, "Thanh Tâm", "Hồng Nguyên", "Minh Khoa"]))  # fmt: skip


PORTALS = ["haugiang", "kontum", "sotuphap-ninhthuan"]


def build(path: Path, n: int, corpus: Corpus, batch: int = 1000, cache_mb: int = 2048) -> tuple[float, float]:
    """Ingest ``n`` articles (about 1% seen twice, 0.5% edited); return (seconds, seconds of the
    last tenth, at least 10k: the marginal cost, over a window wide enough to hold the full-text
    index's merges, which come in bursts)."""
    from datetime import date

    if path.exists():
        path.unlink()
    t_last = 0.0
    with Archive(path, cache_mb=cache_mb) as archive:
        bases = {}
        for slug in PORTALS:
            archive.upsert_portal(get_portal(slug))
            bases[slug] = get_portal(slug).base_url
        run = archive.start_run("haugiang")
        t0 = time.perf_counter()
        chunk_t = t0
        for i in range(n):
            portal = PORTALS[i % 3]
            art = corpus.article(i, portal, bases[portal])
            art.published = date.fromisoformat(art.published_raw or "2020-01-01")
            archive.save_article(art, run_id=run)
            if i % 100 == 99:  # seen again: a second URL of the same article, or an edit
                again = corpus.article(i, portal, bases[portal])
                again.title, again.body_text, again.published = art.title, art.body_text, art.published
                again.canonical_url = again.url = art.url + "?print=1" if i % 200 == 99 else art.url
                if i % 200 != 99:
                    again.body_text += " Bài viết đã được cập nhật."
                archive.save_article(again, run_id=run + 1)
            if (i + 1) % batch == 0:
                archive.commit()
            if n - i == max(10_000, n // 10):
                chunk_t = time.perf_counter()
        archive.commit()
        t_end = time.perf_counter()
        t_last = t_end - chunk_t if n > 10_000 else t_end - t0
    return t_end - t0, t_last


def queries(corpus: Corpus, k: int, seed: int = 11) -> tuple[list[str], list[str]]:
    """One-word and two-word queries as people type them: content words (not the 50 commonest,
    "và", "của", …) and adjacent pairs of content words from the texts, half typed without
    diacritics."""
    rng = random.Random(seed)
    stop = {w for w in corpus.words[:50]}
    singles = [w for w in corpus.words[50:3000] if " " not in w]
    pairs = []
    for p in rng.sample(corpus.pool, 1000):
        ws = p.replace(".", "").lower().split()
        good = [f"{a} {b}" for a, b in zip(ws, ws[1:], strict=False) if a not in stop and b not in stop]
        if good:
            pairs.append(rng.choice(good))
    one = [w if i % 2 else fold(w) for i, w in enumerate(rng.sample(singles, k))]
    two = [q if i % 2 else fold(q) for i, q in enumerate(rng.sample(pairs, k))]
    return one, two


def latency(path: Path, qs: list[str]) -> tuple[float, float, int]:
    with Archive(path, create=False) as archive:
        for q in qs:  # one unmeasured pass: the steady state of a served archive, not a cold disk
            search(archive.conn, q, Filters())
        times, hits = [], 0
        for q in qs:
            t0 = time.perf_counter()
            hits += len(search(archive.conn, q, Filters(), limit=20))
            times.append(time.perf_counter() - t0)
    times.sort()
    return statistics.median(times) * 1000, times[int(len(times) * 0.95) - 1] * 1000, hits


_CHILD = """
import runpy, sys
sys.argv = ["archiver"] + sys.argv[1:]
try:
    runpy.run_module("archiver.cli", run_name="__main__")
finally:
    # VmHWM is this program's own peak: ru_maxrss of a child also counts the parent it forked from.
    hwm = [l for l in open("/proc/self/status") if l.startswith("VmHWM")][0].split()[1]
    sys.stderr.write(f"VMHWM {hwm}\\n")
"""


def export_child(path: Path, fmt: str, out: Path) -> tuple[float, float]:
    """Run ``archiver export`` in a child process; (seconds, its peak RSS in MB)."""
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", _CHILD, "export", "--format", fmt, "-o", str(out), "--db", str(path)],
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)  # fmt: skip
    secs = time.perf_counter() - t0
    peak = [line for line in proc.stderr.splitlines() if line.startswith("VMHWM ")]
    if proc.returncode != 0 or not peak:
        raise SystemExit(f"export {fmt} failed: {proc.stderr[-500:]}")
    return secs, int(peak[-1].split()[1]) / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="10000,1000000")
    ap.add_argument("--dir", default="data/bench")
    ap.add_argument("--queries", type=int, default=60)
    ap.add_argument("--keep", action="store_true")
    ap.add_argument(
        "--search-only", action="store_true", help="measure search on archives kept by an earlier --keep run"
    )
    ap.add_argument("--cache-mb", type=int, default=2048, help="SQLite page cache while ingesting (ARCHIVER_CACHE_MB)")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    work = Path(args.dir)
    work.mkdir(parents=True, exist_ok=True)
    corpus = Corpus()
    costs: dict[int, float] = {}
    marginal: dict[int, float] = {}
    for n in [] if args.search_only else sizes:
        db = work / f"archive-{n}.db"
        secs, last = build(db, n, corpus, cache_mb=args.cache_mb)
        costs[n] = secs / n
        marginal[n] = last / min(n, max(10_000, n // 10))
        size_mb = sum(p.stat().st_size for p in work.glob(f"archive-{n}.db*")) / 2**20
        print(f"ingest {n:>9,} articles: {secs:8.1f} s, {n / secs:8,.0f} articles/s, {secs / n * 1e6:7.0f} µs/article"
              f" (last {min(n, max(10_000, n // 10)):,}: {last / min(n, max(10_000, n // 10)) * 1e6:.0f} µs/article), archive {size_mb:,.0f} MB", flush=True)  # fmt: skip
    small, large = min(sizes), max(sizes)
    if not args.search_only:
        print(f"per-article ingest cost at {large:,} / at {small:,}: {costs[large] / costs[small]:.2f} (target <= 1.3); "
              f"marginal (last tenth at {large:,}) / at {small:,}: {marginal[large] / costs[small]:.2f}")
    db = work / f"archive-{large}.db"
    one, two = queries(corpus, args.queries)
    for name, qs in (("one-word", one), ("two-word", two)):
        med, p95, hits = latency(db, qs)
        print(f"search {name} at {large:,}: median {med:.1f} ms, p95 {p95:.1f} ms over {len(qs)} queries "
              f"({hits / len(qs):.1f} hits each; target p95 <= 50 ms)", flush=True)  # fmt: skip
    for fmt in () if args.search_only else ("jsonl", "csv"):
        out = work / f"export-{large}.{fmt}"
        secs, rss = export_child(db, fmt, out)
        print(f"export {large:,} rows to {fmt}: {secs:.1f} s, peak RSS {rss:.0f} MB, {out.stat().st_size / 2**20:,.0f} MB "
              "(target peak RSS <= 200 MB)", flush=True)  # fmt: skip
    if not args.keep and not args.search_only:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
