"""The baseline of ``bench.crawl``: a Scrapy spider that only fetches a site and follows its
links (same host), nothing extracted or stored. ``python -m bench.fetchonly URL``; prints the
pages fetched."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import scrapy
from scrapy.crawler import CrawlerProcess


class FetchOnly(scrapy.Spider):
    name = "fetchonly"

    def __init__(self, url: str = "", **kw: Any) -> None:
        super().__init__(**kw)
        self.start_urls = [url]
        self.host = urlsplit(url).netloc
        self.seen: set[str] = set()

    def parse(self, response: Any) -> Iterator[scrapy.Request]:
        if not hasattr(response, "text"):
            return
        for href in response.xpath("//a/@href").getall():
            url = response.urljoin(href).split("#", 1)[0]
            if url not in self.seen and urlsplit(url).netloc == self.host:
                self.seen.add(url)
                yield scrapy.Request(url, callback=self.parse)


def main() -> None:
    process = CrawlerProcess({
        "LOG_LEVEL": "ERROR", "TELNETCONSOLE_ENABLED": False, "ROBOTSTXT_OBEY": False, "AUTOTHROTTLE_ENABLED": False,
        "DOWNLOAD_DELAY": 0, "CONCURRENT_REQUESTS": 16, "CONCURRENT_REQUESTS_PER_DOMAIN": 8,
        "DEPTH_PRIORITY": 0, "COOKIES_ENABLED": False,
    })  # fmt: skip
    crawler = process.create_crawler(FetchOnly)
    process.crawl(crawler, url=sys.argv[1])
    process.start()
    print(crawler.stats.get_value("response_received_count") or 0)


if __name__ == "__main__":
    main()
