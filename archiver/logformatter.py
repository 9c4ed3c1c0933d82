"""Log dropped items as one short line (their reason), not as a dump of the whole article."""

from __future__ import annotations

import logging
from typing import Any

from scrapy import logformatter


class ArchiverLogFormatter(logformatter.LogFormatter):
    def dropped(self, item: Any, exception: BaseException, response: Any, spider: Any = None) -> dict[str, Any]:
        return {"level": logging.INFO, "msg": "Dropped: %(exception)s", "args": {"exception": exception}}
