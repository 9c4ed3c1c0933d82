"""Property tests (hypothesis): normalisers never raise on any text; cleaning is idempotent and
returns NFC; a date printed in any supported shape reads back as that date."""

from __future__ import annotations

import unicodedata
from datetime import date, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archiver.normalize import (
    TZ,
    canonical_url,
    clean_lines,
    clean_text,
    dateline_source,
    fold,
    parse_datetime,
    parse_views,
    split_byline,
)
from archiver.normalize.legacy import fix_legacy
from bench.dates import SHAPES

VIETNAMESE = "aăâbcdđeêghiklmnoôơpqrstuưvxyàáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ"
PORTAL_ALPHABET = (
    VIETNAMESE
    + VIETNAMESE.upper()
    + "0123456789 .,:;/-|()[]%\u00a0\u200b\u00d0\n"
    + "©®µ·¸¹¨¬§¶ØÞ×÷ÆÇÈÊËÌÎÏÐÑÒÓÔÕÖÙÚÛÜ"
)
portal_text = st.text(alphabet=PORTAL_ALPHABET, max_size=200)
any_text = st.text(max_size=200)
texts = st.one_of(portal_text, any_text)
NOW = datetime(2024, 7, 16, 12, 0, tzinfo=TZ)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(texts)
def test_no_normaliser_raises(text: str) -> None:
    parse_datetime(text, now=NOW)
    parse_datetime(text)
    parse_views(text)
    clean_text(text)
    fold(text)
    fix_legacy(text)
    dateline_source(text)
    split_byline(text.split("\n"))
    clean_lines(text.split("\n"))


@settings(max_examples=200)
@given(st.text(max_size=80))
def test_canonical_url_never_raises(path: str) -> None:
    try:
        canonical_url("https://www.haugiang.gov.vn/" + path, origin="https://www.haugiang.gov.vn")
    except ValueError:
        # urllib refuses some malformed URLs (e.g. a bad IPv6 literal): a clear error, not a crash
        pass


@settings(max_examples=400)
@given(texts)
def test_clean_text_is_idempotent_and_nfc(text: str) -> None:
    once = clean_text(text)
    assert unicodedata.is_normalized("NFC", once)
    assert clean_text(once) == once
    assert "\u00d0" not in once and "\u200b" not in once and "\u00a0" not in once


@settings(max_examples=300)
@given(texts)
def test_fold_is_ascii_for_vietnamese(text: str) -> None:
    folded = fold(text)
    assert fold(folded) == folded
    assert not any(c in folded for c in "đĐăâêôơư")


@settings(max_examples=600)
@given(
    st.integers(min_value=0, max_value=len(SHAPES) - 1),
    st.datetimes(min_value=datetime(1995, 1, 1), max_value=datetime(2035, 12, 31)),
    st.integers(min_value=0, max_value=10**6),
)
def test_printed_date_reads_back(shape: int, moment: datetime, views: int) -> None:
    name, timed, printer = SHAPES[shape]
    t = moment.replace(tzinfo=TZ, microsecond=0)
    if name in ("ngày đăng + time", "time before date", "10h15", "giờ phút", "weekday word, zone") or name.startswith(
        "12-hour"
    ):
        t = t.replace(second=0)
    got = parse_datetime(printer(t, views))
    if timed:
        assert got == t, printer(t, views)
    else:
        assert got == t.date() and type(got) is date, printer(t, views)


@settings(max_examples=300)
@given(st.dates(min_value=date(1995, 1, 1), max_value=date(2035, 12, 31)), st.integers(1, 12), st.integers(0, 59))
def test_sharepoint_month_first_only_when_day_first_impossible(d: date, hour: int, minute: int) -> None:
    text = f"{d.month}/{d.day}/{d.year} {hour}:{minute:02d} PM"
    got = parse_datetime(text)
    h24 = hour % 12 + 12
    if d.day > 12:
        assert got == datetime(d.year, d.month, d.day, h24, minute, tzinfo=TZ)
    else:
        # Day-first always wins when both readings are possible.
        assert got == datetime(d.year, d.day, d.month, h24, minute, tzinfo=TZ)


@given(st.integers(0, 10**9))
def test_views_read_back_in_every_label(n: int) -> None:
    dotted = f"{n:,}".replace(",", ".")
    for text in (
        f"Số lần xem: {n}",
        f"Lượt xem: {dotted}",
        f"[ Số lần xem: {n:,} ]",
        f"{dotted} lượt xem",
        f"Đã xem: {n}",
    ):
        assert parse_views(text) == n, text


def test_relative_dates_against_now() -> None:
    for k in range(1, 48):
        assert parse_datetime(f"{k} giờ trước", now=NOW) == NOW - timedelta(hours=k)
