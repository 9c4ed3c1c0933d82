"""Log dropped items and item errors as one short line (reason, URL, exception), never as a dump
of the whole article."""

from __future__ import annotations

import logging
from typing import Any

from scrapy import logformatter


class ArchiverLogFormatter(logformatter.LogFormatter):
    def item_error(self, item: Any, exception: BaseException, response: Any, spider: Any = None) -> Any:  # type: ignore[override]  # spider optional
        """An item a pipeline failed on: the URL and the exception, in one line (not the item)."""
        url = getattr(item, "canonical_url", None) or getattr(item, "url", None) or type(item).__name__
        return {"level": logging.ERROR, "msg": "could not process %(url)s (%(error)s)",
                "args": {"url": url, "error": f"{type(exception).__name__}: {exception}"[:300]}}  # fmt: skip

    def dropped(self, item: Any, exception: BaseException, response: Any, spider: Any = None) -> Any:  # type: ignore[override]  # spider optional
        return {"level": logging.INFO, "msg": "Dropped: %(exception)s", "args": {"exception": exception}}
