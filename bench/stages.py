"""CPU by stage from a py-spy profile of a crawl (``py-spy record -f raw``): each sample is
charged to the innermost frame that belongs to a known stage.

    py-spy record -r 200 -f raw -o crawl.txt -- archiver crawl ...
    python -m bench.stages crawl.txt
"""

from __future__ import annotations

import collections
import re
import sys

STAGES = [
    ("imports (process start)", r"_find_and_load|_call_with_frames_removed"),
    ("BeautifulSoup (the body alone) and sanitising", r"/bs4/|/soupsieve/|sanitize|nh3|html\.py:\d+\)$|block_lines"),
    ("lxml parse and compiled selectors", r"lxml_tree|lxml_select|lxml_text|lxml_fragment|document_fromstring"),
    ("generic extractor (trafilatura, htmldate)", r"generic\.py|/trafilatura/|/htmldate/|/courlan/"),
    ("WARC recording (gzip, digests)", r"capture/warc\.py|/warcio/|spiders/warc\.py"),
    ("storing (SQLite, FTS, the writer)", r"/store/|sqlite3"),
    ("normalisation (dates, views, text, URLs)", r"/normalize/|dateparser"),
    ("listing extraction", r"extract/listing\.py"),
    ("extraction logic (article.py, ingest)", r"extract/article\.py|archiver/ingest\.py"),
    ("Scrapy and Twisted (engine, transport, middlewares)", r"/scrapy/|/twisted/|spiders/|pipelines/"),
]


IDLE = r"Condition\.wait|Event\.wait|_wait_for_tstate_lock|\(threading\.py"


def main(path: str) -> None:
    counts: collections.Counter[str] = collections.Counter()
    total = idle = 0
    for line in open(path, encoding="utf-8", errors="replace"):
        stack, _, n = line.rstrip("\n").rpartition(" ")
        if not n.isdigit():
            continue
        frames = stack.split(";")
        if re.search(IDLE, frames[-1]):
            idle += int(n)  # a thread waiting (the worker threads between WARC records): no CPU
            continue
        total += int(n)
        if any(re.search(STAGES[0][1], f) for f in frames):
            counts[STAGES[0][0]] += int(n)
            continue
        for frame in reversed(frames):
            hit = next((name for name, rx in STAGES[1:] if re.search(rx, frame)), None)
            if hit:
                counts[hit] += int(n)
                break
        else:
            counts["other (idle loop, logging, stdlib)"] += int(n)
    for name, n in counts.most_common():
        print(f"  {name:52s} {n / total:6.1%}")
    print(f"  ({total} samples on CPU; {idle} more of threads waiting, left out)")


if __name__ == "__main__":
    main(sys.argv[1])
