"""Benchmark: the archive's extraction on pages nobody here wrote, against the generic tools a user
would pick instead, in the same run.

    python -m bench.extract [--eval ../shared/eval] [--only body|dates|fill]

* **body**: the 181 news pages of the Article Extraction Benchmark (``eval/aeb``) through
  ``extract_article(html, url)`` with no profile, and through trafilatura
  (``include_comments=False``): precision, recall and F1 over 4-token shingles as the benchmark
  defines them (per page, normalised; precision and recall averaged over pages; F1 of the two),
  and the median time per page of each.
* **dates**: publication day on the 999 pages of ``eval/dates`` through ``extract_article`` and
  through htmldate (``original_date=True``): share right, median time per page.
* **fill**: per CMS family, how many of the fixtures' article pages have each field.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import statistics
import time
import warnings
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_TOKEN = re.compile(r"\w+", re.UNICODE)


def shingles(text: str, n: int = 4) -> Counter:
    tokens = _TOKEN.findall(text or "")
    return Counter(tuple(tokens[i : i + n]) for i in range(max(1, len(tokens) - n + 1)) if tokens[i : i + n])


def page_scores(true: str, pred: str) -> tuple[float, float, float]:
    """(tp, fp, fn) over shingles, normalised so that every page weighs the same."""
    t, p = shingles(true), shingles(pred)
    tp = sum((t & p).values())
    fp = sum(p.values()) - tp
    fn = sum(t.values()) - tp
    total = tp + fp + fn
    return (tp / total, fp / total, fn / total) if total else (0.0, 0.0, 0.0)


def prf(rows: list[tuple[float, float, float]]) -> tuple[float, float, float]:
    def precision(tp: float, fp: float, fn: float) -> float:
        return 1.0 if fp == fn == 0 else (0.0 if tp == fp == 0 else tp / (tp + fp))

    def recall(tp: float, fp: float, fn: float) -> float:
        return 1.0 if fp == fn == 0 else (0.0 if tp == fn == 0 else tp / (tp + fn))

    p = statistics.mean(precision(*r) for r in rows if r[0] + r[1] > 0)
    r = statistics.mean(recall(*r) for r in rows if r[0] + r[2] > 0)
    return (2 * p * r / (p + r) if p + r else 0.0), p, r


def timed(fn, *args):  # type: ignore[no-untyped-def]
    t0 = time.perf_counter()
    out = fn(*args)
    return out, time.perf_counter() - t0


def bench_body(eval_dir: Path) -> None:
    import trafilatura

    from archiver.extract import extract_article

    aeb = eval_dir / "aeb"
    truth = json.loads((aeb / "ground-truth.json").read_text(encoding="utf-8"))
    pages = {k: gzip.decompress((aeb / "html" / f"{k}.html.gz").read_bytes()) for k in truth}
    ours, theirs, t_ours, t_theirs = [], [], [], []
    below_half = empty = 0
    for k, v in truth.items():
        art, dt = timed(lambda h, u: extract_article(h, u), pages[k], v["url"])
        t_ours.append(dt)
        ours.append(page_scores(v["articleBody"], art.body_text))
        tp, fp, fn = ours[-1]
        below_half += (2 * tp / (2 * tp + fp + fn) if tp else 0.0) < 0.5
        empty += not art.body_text.strip()
        text = pages[k].decode("utf-8", "replace")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out, dt = timed(lambda h, u: trafilatura.extract(h, url=u, include_comments=False) or "", text, v["url"])
        t_theirs.append(dt)
        theirs.append(page_scores(v["articleBody"], out))
    f, p, r = prf(ours)
    f2, p2, r2 = prf(theirs)
    mo, mt = statistics.median(t_ours) * 1000, statistics.median(t_theirs) * 1000
    print(f"body, {len(truth)} pages of the Article Extraction Benchmark (shingle F1):")
    print(f"  archiver (no profile)   F1 {f:.3f}  precision {p:.3f}  recall {r:.3f}  median {mo:.1f} ms/page  "
          f"({below_half} pages below 0.5, {empty} empty)")  # fmt: skip
    print(f"  trafilatura {trafilatura.__version__:<10}  F1 {f2:.3f}  precision {p2:.3f}  recall {r2:.3f}  "
          f"median {mt:.1f} ms/page")  # fmt: skip
    print(f"  F1 difference {f - f2:+.3f}; time ratio archiver / trafilatura {mo / mt:.2f}")


def bench_dates(eval_dir: Path) -> None:
    from htmldate import find_date

    from archiver.extract import extract_article, find_published

    d = eval_dir / "dates"
    expected = json.loads((d / "expected.json").read_text(encoding="utf-8"))
    manifest = json.loads((d / "manifest.json").read_text(encoding="utf-8"))["pages"]
    right = right_h = right_d = 0
    t_ours, t_h, t_d = [], [], []
    for name, want in expected.items():
        raw = gzip.decompress((d / "html" / f"{name}.gz").read_bytes())
        url = manifest.get(name, {}).get("url") or f"https://example.org/{name}"
        art, dt = timed(lambda h, u: extract_article(h, u), raw, url)
        t_ours.append(dt)
        got = art.published_iso[:10] if art.published_iso else None
        right += got == want
        only, dt = timed(lambda h, u: find_published(h, u), raw, url)
        t_d.append(dt)
        right_d += (only.isoformat()[:10] if only else None) == want
        text = raw.decode("utf-8", "replace")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                h, dt = timed(lambda t, u: find_date(t, url=u, original_date=True), text, url)
            except Exception:  # noqa: BLE001 - a baseline that fails on a page gets it wrong
                h, dt = None, 0.0
        t_h.append(dt)
        right_h += h == want
    n = len(expected)
    print(f"publication day, {n} pages of eval/dates:")
    print(f"  archiver (full extraction)      {right / n:.3f} ({right}/{n})  median {statistics.median(t_ours) * 1000:.1f} ms/page")
    print(f"  archiver (find_published only)  {right_d / n:.3f} ({right_d}/{n})  median {statistics.median(t_d) * 1000:.1f} ms/page")
    print(f"  htmldate (original_date=True)   {right_h / n:.3f} ({right_h}/{n})  median {statistics.median(t_h) * 1000:.1f} ms/page")


def bench_fill() -> None:
    from archiver.extract import extract_article

    fixtures = ROOT / "tests" / "fixtures"
    rows: dict[str, Counter] = {}
    counts: Counter = Counter()
    for meta_path in sorted(fixtures.glob("*/*/meta.json")):
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        if meta.get("kind") != "article":
            continue
        html = (meta_path.parent / "page.html").read_bytes()
        art = extract_article(html, meta["url"])
        family = (art.rules.get("extraction") or "generic").split(": ")[-1]
        counts[family] += 1
        c = rows.setdefault(family, Counter())
        for f in ("title", "published", "views", "author", "category", "body_text"):
            c[f] += bool(getattr(art, f))
    print("fill rates over the fixtures' article pages (pages with the field / pages):")
    for family, c in sorted(rows.items()):
        cells = "  ".join(f"{f} {c[f]}/{counts[family]}" for f in ("title", "published", "views", "author", "category",
                                                                    "body_text"))  # fmt: skip
        print(f"  {family:<22} {cells}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--eval", type=Path, default=ROOT.parent / "shared" / "eval")
    ap.add_argument("--only", choices=["body", "dates", "fill"])
    args = ap.parse_args()
    if args.only in (None, "body"):
        bench_body(args.eval)
    if args.only in (None, "dates"):
        bench_dates(args.eval)
    if args.only in (None, "fill"):
        bench_fill()


if __name__ == "__main__":
    main()
