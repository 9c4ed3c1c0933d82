"""Publication dates and times as Vietnamese portals print them.

``parse_datetime(text, now=...)`` returns

* an aware ``datetime`` in Asia/Ho_Chi_Minh when the string shows a time of day,
* a ``date`` when it shows only a day,
* ``None`` when no date can be read. It never guesses: an impossible date (31/02), a string
  with no year, a document number (``04/CT-UBND``) or a percentage gives ``None``.

A fast path of regular expressions reads the shapes listed in ``shared/reference/FORMATS.md``
(labels, brackets, weekdays, ``/ - .`` separators, long forms with month words, times before or
after the date, 12-hour clocks, zone marks, relative forms). dateparser, restricted to
Vietnamese and day-first order, is only the fallback, and its answer is kept only when the
year it found is printed in the string.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

TZ = ZoneInfo("Asia/Ho_Chi_Minh")

_MONTH_WORDS = {
    "giêng": 1,
    "một": 1,
    "hai": 2,
    "ba": 3,
    "tư": 4,
    "bốn": 4,
    "năm": 5,
    "sáu": 6,
    "bảy": 7,
    "tám": 8,
    "chín": 9,
    "mười": 10,
    "mười một": 11,
    "một một": 11,
    "mười hai": 12,
    "chạp": 12,
}
# Longest first so that "mười một" wins over "mười".
_MONTH_ALT = "|".join(sorted((re.escape(k) for k in _MONTH_WORDS), key=len, reverse=True))

_YEAR = r"(?P<y>(?:19|20)\d\d)"
# 23/03/2021, 23-03-2021, 23.02.2022, 17 - 05 - 2024, 6/8/2020
_DMY = re.compile(
    r"(?P<a>\d(?<![\d/.\-]\d)\d?)\s*(?P<sep>[/.\-])\s*(?P<b>\d{1,2})\s*(?P=sep)\s*" + _YEAR + r"(?![\d%])"
)
# 2024-05-17, 2024/5/17 (ISO and URL paths)
_YMD = re.compile(
    r"(?P<y>(?:19|20)(?<![\d/.\-]..)\d\d)" r"(?P<sep>[/.\-])(?P<b>\d{1,2})(?P=sep)(?P<a>\d{1,2})(?![\d%])"
)
# ngày 18 tháng 3 năm 2021, ngày 23 tháng 08 năm 2019, 18 tháng Giêng năm 2021
_LONG = re.compile(
    r"(?:ngày\s+)?(?P<a>\d{1,2})\s+tháng\s+(?P<b>\d{1,2}|" + _MONTH_ALT + r")\s*(?:năm|,)?\s*" + _YEAR + r"(?!\d)"
)
# 10:15, 10:15:30, 10h15, 10h, 10 giờ 15 phút, 3:00 PM, 08:16 SA
_TIME = re.compile(
    r"(?P<h>\d(?<![\d:]\d)\d?)\s*(?:(?P<colon>:)\s*|h\s*|giờ\s*)(?P<m>\d{2})?"
    r"(?:(?(colon):|\s*phút\s*)?(?P<s>\d{2}))?(?:\s*(?:phút|giây))?"
    r"\s*(?P<ampm>am|pm|a\.m\.|p\.m\.|sa|ch)?(?![\w])"
)
_ZONE = re.compile(r"(?:gmt|utc)\s*(?P<sign>[+\-])\s*(?P<off>\d{1,2})(?::?(?P<offm>\d{2}))?")
_RELATIVE = re.compile(r"(?P<n>\d+)\s*(?P<unit>giây|phút|giờ|tiếng|ngày|tuần)\s*trước")
_YESTERDAY = re.compile(r"hôm\s+qua|hôm\s+nay")

# Between a date and its time only these may stand: spaces, commas, pipes, dashes, "lúc", "vào".
_GLUE = r"[\s,|\-–—/]*(?:(?:lúc|vào\s+lúc|vào)[\s,|\-–]*)?"
_GLUE_AT = re.compile(_GLUE + r"(?:\(?\s*)")
_BETWEEN = re.compile(r"[\s,|\-–—]*(?:ngày\s*)?(?:\(\s*)?")
_NOT_A_DATE = re.compile(r"(?:lượt\s+truy\s+cập|truy\s+cập\s+hôm\s+nay|đang\s+online)")


def _clean(text: str) -> str:
    if not text.isascii():
        if not unicodedata.is_normalized("NFC", text):
            text = unicodedata.normalize("NFC", text)
        if "\u00a0" in text:
            text = text.replace("\u00a0", " ")
        if "\u200b" in text or "\ufeff" in text:
            text = text.replace("\u200b", "").replace("\ufeff", "")
    return text.lower()


def _valid_date(y: int, m: int, d: int) -> date | None:
    try:
        return date(y, m, d)
    except ValueError:
        return None


_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _real_day(a: str, b: str, y: str, year_first: bool = False) -> date | None:
    """The day printed as numbers ``a`` (day) and ``b`` (month): day-first, month-first only where
    day-first is impossible (US SharePoint fields, ``11/19/2019``); None for an impossible day."""
    day, month = int(a), int(b)
    if not year_first and month > 12 and day <= 12:
        day, month = month, day
    if not (1 <= month <= 12 and 1 <= day <= _DAYS[month - 1]):
        return None
    try:
        return date(int(y), month, day)
    except ValueError:  # 29 February of a common year
        return None


def _month_value(raw: str) -> int | None:
    if raw.isdigit():
        return int(raw)
    return _MONTH_WORDS.get(re.sub(r"\s+", " ", raw))


def _first_valid(rx: re.Pattern[str], s: str, ymd: bool) -> tuple[int, int, date] | None:
    """The first match of ``rx`` in ``s`` that is a real day (day-first unless ``ymd``)."""
    m = rx.search(s)
    while m is not None:
        a, b, y = m.group("a", "b", "y")
        d = _real_day(a, b, y, year_first=ymd)
        if d is not None:
            return m.start(), m.end(), d
        m = rx.search(s, m.end())
    return None


def _find_date(s: str) -> tuple[date, int, int] | None:
    """The first date in ``s`` with the span it covers."""
    found = _first_valid(_DMY, s, False)
    if "tháng" in s:
        m = _LONG.search(s)
        if m:
            month = _month_value(m.group("b"))
            d = _valid_date(int(m.group("y")), month, int(m.group("a"))) if month else None
            if d and (found is None or m.start() < found[0]):
                found = (m.start(), m.end(), d)
    if found is None:  # year-first (ISO, URL paths) only when no day-first date is printed
        found = _first_valid(_YMD, s, True)
    if found is None:
        return None
    start, end, d = found
    return d, start, end


def _time_from(m: re.Match[str]) -> time | None:
    h = int(m.group("h"))
    mi = int(m.group("m")) if m.group("m") else 0
    sec = int(m.group("s")) if m.group("s") else 0
    ampm = (m.group("ampm") or "").replace(".", "")
    if ampm:
        if not 1 <= h <= 12:
            return None
        if ampm in ("pm", "ch") and h != 12:
            h += 12
        elif ampm in ("am", "sa") and h == 12:
            h = 0
    if h > 23 or mi > 59 or sec > 59:
        return None
    return time(h, mi, sec)


def _usable_time(m: re.Match[str]) -> bool:
    # "10h" alone is a time; a bare number followed by ":" and nothing is not.
    return bool(m.group("m")) or "h" in m.group(0) or "giờ" in m.group(0)


def _find_time(s: str, start: int, end: int) -> time | None:
    """A time printed right after the date, or right before it."""
    glue = _GLUE_AT.match(s, end)
    m = _TIME.match(s, glue.end() if glue else end)
    if m and _usable_time(m):
        t = _time_from(m)
        if t is not None:
            return t
    if start == 0:
        return None
    before = s[:start]
    # The time may precede the date: "17:29 17/08/2022", "08:16 SA ngày 12/3/2021".
    for m in _TIME.finditer(before):
        if _BETWEEN.fullmatch(before, m.end()) and _usable_time(m):
            return _time_from(m)
    return None


def _zone(s: str) -> timezone | ZoneInfo:
    m = _ZONE.search(s) if ("gmt" in s or "utc" in s) else None
    if not m:
        return TZ
    minutes = int(m.group("off")) * 60 + int(m.group("offm") or 0)
    if m.group("sign") == "-":
        minutes = -minutes
    if minutes == 7 * 60:
        return TZ
    return timezone(timedelta(minutes=minutes))


def _now(now: datetime | None) -> datetime | None:
    if now is None:
        return None
    if now.tzinfo is None:
        return now.replace(tzinfo=TZ)
    return now.astimezone(TZ)


def _relative(s: str, now: datetime | None) -> datetime | date | None:
    n = _now(now)
    if n is None:
        return None
    m = _RELATIVE.search(s)
    if m:
        k = int(m.group("n"))
        unit = m.group("unit")
        if unit in ("ngày", "tuần"):
            return (n - timedelta(days=k * (7 if unit == "tuần" else 1))).date()
        delta = {
            "giây": timedelta(seconds=k),
            "phút": timedelta(minutes=k),
            "giờ": timedelta(hours=k),
            "tiếng": timedelta(hours=k),
        }[unit]
        return (n - delta).replace(microsecond=0)
    m2 = _YESTERDAY.search(s)
    if m2:
        day = n.date() - timedelta(days=1 if "qua" in m2.group(0) else 0)
        tm = _TIME.search(s, m2.end())
        if tm and _usable_time(tm):
            t = _time_from(tm)
            if t is not None:
                return datetime.combine(day, t, TZ)
        return day
    return None


# The commonest shapes in one search: a day-first date with a clock time after it (24-hour or
# 12-hour) or, checked on the text before the date, a clock time before it.
_CLOCK = r"(?P<H>\d{1,2})[:h](?P<M>\d{2})(?::(?P<S>\d{2}))?(?![\d:])(?:\s*(?P<AP>am|pm|sa|ch)(?!\w))?"
_FAST = re.compile(_DMY.pattern + r"(?:[\s,|\-–—]*(?:lúc\s*)?\(?\s*" + _CLOCK + ")?")
_CLOCK_BEFORE = re.compile(r"(?<![\d:])" + _CLOCK + r"[\s,|\-–—]*(?:ngày\s*)?\(?\s*$")
_DIGIT = re.compile(r"\d")


def _clock(hh: str, mm: str, ss: str | None, ap: str | None) -> time | None:
    h, mi, sec = int(hh), int(mm), int(ss or 0)
    if ap:
        if not 1 <= h <= 12:
            return None
        if ap in ("pm", "ch"):
            h = h % 12 + 12
        elif h == 12:
            h = 0
    if h > 23 or mi > 59 or sec > 59:
        return None
    return time(h, mi, sec)


def _fast(s: str) -> datetime | date | None:
    """The commonest shapes without the general machinery; None means: use the general path."""
    m = _FAST.search(s)
    if m is None:
        return None
    a, b, y, hh, mm, ss, ap = m.group("a", "b", "y", "H", "M", "S", "AP")
    d = _real_day(a, b, y)
    if d is None:
        return None
    if hh is None:
        start = m.start()
        if start and _DIGIT.search(s, 0, start):
            before = _CLOCK_BEFORE.search(s, 0, start)
            if before is None:
                return None  # digits before the date that are not a clock: the general path decides
            hh, mm, ss, ap = before.group("H", "M", "S", "AP")
        else:
            glue = _GLUE_AT.match(s, m.end())
            pos = glue.end() if glue else m.end()
            if pos < len(s) and s[pos].isdigit():
                return None
            return d
    t = _clock(hh, mm, ss, ap)
    if t is None:
        return None
    tz = _zone(s) if ("gmt" in s or "utc" in s) else TZ
    if tz is TZ:
        return datetime.combine(d, t, TZ)
    return datetime.combine(d, t, tz).astimezone(TZ)


def parse_datetime(text: str | None, *, now: datetime | None = None) -> datetime | date | None:
    """Read the publication date (and time, if shown) from a string printed by a portal.

    >>> parse_datetime("[ Cập nhật vào ngày (23/03/2021) ] - [ Số lần xem: 530 ]")
    datetime.date(2021, 3, 23)
    >>> parse_datetime("Ngày đăng: 08/07/2024  11:38").isoformat()
    '2024-07-08T11:38:00+07:00'
    """
    if not text or not isinstance(text, str):
        return None
    s = _clean(text).strip()
    iso = _iso(s)
    if iso is not None:
        return iso
    if len(s) > 2000:
        s = s[:2000]
    if "tháng" not in s and "giờ" not in s:
        fast = _fast(s)
        if fast is not None:
            return fast
    found = _find_date(s)
    if found is None:
        rel = _relative(s, now)
        if rel is not None:
            return rel
        return _fallback(s)
    d, start, end = found
    t = _find_time(s, start, end)
    if t is None:
        return d
    tz = _zone(s)
    if tz is TZ:
        return datetime.combine(d, t, TZ)
    return datetime.combine(d, t, tz).astimezone(TZ)


_ISO = re.compile(r"\d{4}-\d{2}-\d{2}(?:[t ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:z|[+\-]\d{2}:?\d{2})?)?")


def _iso(s: str) -> datetime | date | None:
    """Machine-written ISO 8601 (meta tags, ``<time datetime>``)."""
    if len(s) < 10 or s[4:5] != "-" or not _ISO.fullmatch(s):
        return None
    try:
        value = datetime.fromisoformat(s.upper().replace("Z", "+00:00"))
    except ValueError:
        return None
    if len(s) == 10:
        return value.date()
    if value.tzinfo is None:
        return value.replace(tzinfo=TZ)
    return value.astimezone(TZ)


_DATEPARSER_SETTINGS = {
    "DATE_ORDER": "DMY",
    "TIMEZONE": "Asia/Ho_Chi_Minh",
    "RETURN_AS_TIMEZONE_AWARE": True,
    "PREFER_DAY_OF_MONTH": "first",
    "REQUIRE_PARTS": ["day", "month", "year"],
}
_HAS_YEAR = re.compile(r"(?<!\d)((?:19|20)\d\d)(?!\d)")


def _fallback(s: str) -> date | None:
    """dateparser, only for strings that print a year; the answer must carry that year.

    Only the day is kept: dateparser fills a missing time with midnight, which would be a guess.
    """
    years = set(_HAS_YEAR.findall(s))
    if not years or _NOT_A_DATE.search(s):
        return None
    try:
        import dateparser

        result = dateparser.parse(s, languages=["vi"], settings=_DATEPARSER_SETTINGS)  # type: ignore[arg-type]
    except Exception:  # dateparser raises on some odd inputs; page text never raises here
        return None
    if result is None or str(result.year) not in years:
        return None
    return result.date()


def date_from_url(url: str) -> date | None:
    """The date some CMSs put in the article path: ``/portal/Pages/2024-5-17/<slug>.aspx``."""
    m = re.search(r"/((?:19|20)\d\d)-(\d{1,2})-(\d{1,2})/", url)
    if not m:
        return None
    return _valid_date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
