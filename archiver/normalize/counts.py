"""View counts: ``parse_views(text) -> int | None``.

Reads the labelled article counters of the portals (``Số lần xem: 530``, ``Lượt xem: 7370``,
``Đã xem``, ``lượt đọc``, ``1.234 lượt xem``, ``1,2K``) and refuses site-wide counters
(``Tổng lượt truy cập``, ``Truy cập hôm nay``, ``Đang online``) and percentages (the ``100%``
zoom widget). Never raises on page text.
"""

from __future__ import annotations

import re
import unicodedata

_LABEL = r"(?:số\s+lần\s+xem|số\s+lượt\s+xem|lượt\s+xem|lượt\s+đọc|số\s+lần\s+đọc|đã\s+xem|lần\s+xem|views?|lượt\s+views?|xem)"
_NUMBER = r"(?P<n>\d{1,3}(?:[.,\s]\d{3})+(?!\d)|\d+(?:[.,]\d+)?)\s*(?P<k>k|nghìn|ngàn|triệu|m)?(?![\w%])"
_LABEL_FIRST = re.compile(_LABEL + r"\s*[:：]?\s*[\(\[]?\s*" + _NUMBER)
_NUMBER_FIRST = re.compile(r"(?<![\d.,])" + _NUMBER + r"\s*(?:lượt\s+xem|lần\s+xem|lượt\s+đọc|views?)\b")
_BARE = re.compile(r"\s*[\(\[]?\s*" + _NUMBER + r"\s*[\)\]]?\s*")
_SITE_WIDE = re.compile(r"truy\s+cập|online|trực\s+tuyến|đang\s+xem|khách")


# No article is read a trillion times: a larger "count" is page garbage (and SQLite's integers
# stop at 2**63 - 1).
MAX_VIEWS = 10**12


def _to_int(number: str, suffix: str | None) -> int | None:
    value = _read_int(number, suffix)
    return value if value is not None and value <= MAX_VIEWS else None


def _read_int(number: str, suffix: str | None) -> int | None:
    n = number.strip()
    if suffix:
        mult = {"k": 1_000, "nghìn": 1_000, "ngàn": 1_000, "triệu": 1_000_000, "m": 1_000_000}[suffix]
        try:
            return int(round(float(n.replace(",", ".").replace(" ", "")) * mult))
        except ValueError:
            return None
    if re.fullmatch(r"\d{1,3}(?:[.,\s]\d{3})+", n):
        return int(re.sub(r"[.,\s]", "", n))
    if n.isdigit():
        return int(n)
    return None  # "12,5" without a K is not a count of views


def parse_views(text: str | None) -> int | None:
    """The article's view count printed in ``text``, or ``None``.

    >>> parse_views("[ Cập nhật vào ngày (23/03/2021) ] - [ Số lần xem: 530 ]")
    530
    >>> parse_views("Tổng lượt truy cập : 16,011") is None
    True
    """
    if not text or not isinstance(text, str):
        return None
    s = unicodedata.normalize("NFC", text).replace("\u00a0", " ").lower()
    for rx in (_LABEL_FIRST, _NUMBER_FIRST):
        m = rx.search(s)
        if m:
            # A site-wide counter labelled like a view count ("lượt truy cập") is refused.
            window = s[max(0, m.start() - 20) : m.end()]
            if _SITE_WIDE.search(window):
                return None
            return _to_int(m.group("n"), m.group("k"))
    if _SITE_WIDE.search(s):
        return None
    m = _BARE.fullmatch(s)
    if m:
        return _to_int(m.group("n"), m.group("k"))
    return None
