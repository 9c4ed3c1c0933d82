"""Attachments (issue 14): text extraction time per page and per MB, and the crawl-time overhead
on the demo with attachments on and off.

    python -m bench.attachments [--pairs 3]

Extraction: PDFs of 1, 10 and 50 pages (Vietnamese text, fpdf2 and the DejaVu font, as the tests
make them) and DOCX files of 20 and 400 paragraphs, each read by ``extract_text`` (best of 3).
Crawl: the demo (66 articles, 10 documents) served on 127.0.0.1 and crawled by ``archiver crawl``
with attachments on, then off, alternately (``--pairs`` times), each into a fresh archive; wall
time and CPU time (the crawl process) as ratios on ÷ off, measured in the same run. Needs the
test extras (fpdf2) and Debian's fonts-dejavu-core.
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

ROOT = Path(__file__).resolve().parents[1]
FAST = ["-s", "AUTOTHROTTLE_ENABLED=False", "-s", "DOWNLOAD_DELAY=0", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=8",
        "-s", "ARCHIVER_PROGRESS_INTERVAL=0"]  # fmt: skip


def _best(fn, n: int = 3) -> float:  # type: ignore[no-untyped-def]
    best = float("inf")
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def extraction() -> list[str]:
    from archiver.attachments import extract_text
    from tests.test_attachments import DECREE, docx_bytes, pdf

    lines = []
    for pages in (1, 10, 50):
        data = pdf(DECREE * 6, pages=pages)
        sec = _best(lambda data=data: extract_text(data))
        mb = len(data) / 2**20
        lines.append(f"PDF  {pages:3d} pages {mb:6.2f} MB: {sec * 1000:8.1f} ms  {sec * 1000 / pages:6.1f} ms/page  "
                     f"{sec * 1000 / mb:7.1f} ms/MB")  # fmt: skip
    for paras in (20, 400):
        data = docx_bytes(DECREE * (paras // len(DECREE)))
        sec = _best(lambda data=data: extract_text(data))
        mb = len(data) / 2**20
        lines.append(f"DOCX {paras:3d} paragraphs {mb:6.2f} MB: {sec * 1000:8.1f} ms  {sec * 1000 / mb:7.1f} ms/MB")
    from archiver.attachments import ocr_available

    if ocr_available():
        from tests.test_attachments_crawl import scanned_pdf

        data = scanned_pdf(DECREE[:3] * 4)
        sec = _best(lambda: extract_text(data), 1)
        lines.append(f"scanned PDF, 1 page (OCR, tesseract vie) {len(data) / 2**20:6.2f} MB: {sec * 1000:8.1f} ms/page")
    else:
        lines.append("scanned PDF: tesseract with vie not installed, OCR not measured")
    return lines


def crawl(url: str, on: bool) -> tuple[float, float, int]:
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "a.db"
        cmd = [sys.executable, "-m", "archiver.cli", "crawl", "demo", "--full", "--db", str(db), "--base-url", url,
               *FAST, "-s", f"ARCHIVER_ATTACHMENTS_ENABLED={'true' if on else 'false'}"]  # fmt: skip
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, cwd=ROOT, capture_output=True, env=dict(os.environ, ARCHIVER_REGISTRY="none"))
        wall = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        import sqlite3

        conn = sqlite3.connect(db)
        docs = conn.execute("SELECT count(*) FROM attachments").fetchone()[0]
        conn.close()
        return wall, cpu, docs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pairs", type=int, default=3)
    args = ap.parse_args()
    print("Text extraction (best of 3):")
    for line in extraction():
        print("  " + line)
    from archiver import demo

    server = demo.serve(demo.SITE_DIR)
    url = demo.server_url(server)
    try:
        crawl(url, True)  # warm the disk cache and imports
        on, off = [], []
        for _ in range(args.pairs):
            on.append(crawl(url, True))
            off.append(crawl(url, False))
    finally:
        server.shutdown()
    med = lambda xs: sorted(xs)[len(xs) // 2]  # noqa: E731
    w_on, w_off = med([r[0] for r in on]), med([r[0] for r in off])
    c_on, c_off = med([r[1] for r in on]), med([r[1] for r in off])
    print(f"Demo crawl ({args.pairs} pairs, medians): attachments on {w_on:.2f} s wall / {c_on:.2f} s CPU "
          f"({on[0][2]} documents), off {w_off:.2f} s / {c_off:.2f} s ({off[0][2]} documents)")  # fmt: skip
    print(f"ratio on/off: wall {w_on / w_off:.2f}, CPU {c_on / c_off:.2f}")


if __name__ == "__main__":
    main()
