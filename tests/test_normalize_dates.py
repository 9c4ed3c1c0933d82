"""Table tests of parse_datetime with every date string of shared/reference/FORMATS.md."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from archiver.normalize import TZ, date_from_url, parse_datetime

NOW = datetime(2024, 7, 16, 12, 0, tzinfo=TZ)


def dt(y: int, mo: int, d: int, h: int, mi: int, s: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, s, tzinfo=TZ)


CASES = [
    # FORMATS.md, verbatim
    ("[ Cập nhật vào ngày (23/03/2021) ] - [ Số lần xem: 530 ]", date(2021, 3, 23)),
    ("Ngày đăng: 08/07/2024  11:38", dt(2024, 7, 8, 11, 38)),
    ("Ngày đăng: 24/09/2018", date(2018, 9, 24)),
    ("Đăng ngày 17 - 05 - 2024", date(2024, 5, 17)),
    ("Lượt xem: 7370 | Gửi lúc: 05/12/2013 15:42:27", dt(2013, 12, 5, 15, 42, 27)),
    ("14/04/2025", date(2025, 4, 14)),
    ("(26/03/2021)", date(2021, 3, 26)),
    ("17:29 17/08/2022", dt(2022, 8, 17, 17, 29)),
    ("09:19 04/01/2017", dt(2017, 1, 4, 9, 19)),
    ("Cập nhật ngày: 24/04/2015 05:21:36", dt(2015, 4, 24, 5, 21, 36)),
    ("Thứ 2, 15/08/2022 | 10:03:05 [GMT +7]", dt(2022, 8, 15, 10, 3, 5)),
    ("Chủ Nhật, 19/03/2017, 16:56 (GMT+7)", dt(2017, 3, 19, 16, 56)),
    ("Thứ Sáu, ngày 23 tháng 08 năm 2019, 09:25:27", dt(2019, 8, 23, 9, 25, 27)),
    ("23.02.2022", date(2022, 2, 23)),
    ("6/8/2020", date(2020, 8, 6)),
    ("05/03/2021", date(2021, 3, 5)),
    ("11/19/2019 3:00 PM", dt(2019, 11, 19, 15, 0)),
    # classes named in FORMATS.md
    ("Cập nhật lúc 08:15 ngày 23-03-2021", dt(2021, 3, 23, 8, 15)),
    ("Đăng lúc: 10h15 - 12/3/2021", dt(2021, 3, 12, 10, 15)),
    ("10 giờ 15 phút, ngày 18 tháng 3 năm 2021", dt(2021, 3, 18, 10, 15)),
    ("ngày 18 tháng Giêng năm 2021", date(2021, 1, 18)),
    ("ngày 5 tháng Tư năm 2020", date(2020, 4, 5)),
    ("ngày 20 tháng Chạp năm 2020", date(2020, 12, 20)),
    ("ngày 2 tháng Mười Một năm 2020", date(2020, 11, 2)),
    ("08:16 SA 12/3/2021", dt(2021, 3, 12, 8, 16)),
    ("12/3/2021 02:30 CH", dt(2021, 3, 12, 14, 30)),
    ("12/3/2021 12:05 AM", dt(2021, 3, 12, 0, 5)),
    ("T2, 15/08/2022", date(2022, 8, 15)),
    ("CN, 19/03/2017 16:56", dt(2017, 3, 19, 16, 56)),
    ("THỨ BẢY, 06/08/2022", date(2022, 8, 6)),
    ("In bài viết09:19 04/01/2017", dt(2017, 1, 4, 9, 19)),
    ("2024-05-17T10:15:00+07:00", dt(2024, 5, 17, 10, 15)),
    ("2024-05-17T03:15:00Z", dt(2024, 5, 17, 10, 15)),
    ("2024-05-17", date(2024, 5, 17)),
    ("2 giờ trước", dt(2024, 7, 16, 10, 0)),
    ("Hôm qua 08:16", dt(2024, 7, 15, 8, 16)),
    ("3 ngày trước", date(2024, 7, 13)),
    # not dates, or impossible: None, never a guess
    ("31/02/2021", None),
    ("30/13/2021", None),
    ("04/CT-UBND", None),
    ("Số: 45/KH-STP", None),
    ("0293.3876.123", None),
    ("100%", None),
    ("[ Số lần xem: 530 ]", None),
    ("Tổng lượt truy cập : 16,011", None),
    ("", None),
    ("Tháng Tư năm 2021", None),
    ("25:61 12/3/2021", date(2021, 3, 12)),
]


@pytest.mark.parametrize(("text", "expected"), CASES, ids=[c[0] or "empty" for c in CASES])
def test_parse_datetime(text: str, expected: object) -> None:
    got = parse_datetime(text, now=NOW)
    assert got == expected
    assert type(got) is type(expected)
    if isinstance(got, datetime):
        assert got.utcoffset().total_seconds() == 7 * 3600


def test_relative_dates_need_now() -> None:
    assert parse_datetime("2 giờ trước") is None


def test_iso_output_has_offset_only_with_time() -> None:
    assert parse_datetime("Ngày đăng: 08/07/2024  11:38").isoformat() == "2024-07-08T11:38:00+07:00"
    assert parse_datetime("Ngày đăng: 08/07/2024").isoformat() == "2024-07-08"


def test_other_zone_is_converted_to_vietnam_time() -> None:
    assert parse_datetime("15/08/2022 10:00 GMT+0") == dt(2022, 8, 15, 17, 0)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://x.gov.vn/portal/Pages/2024-5-17/Slug-CAhvbq96.aspx", date(2024, 5, 17)),
        ("https://x.gov.vn/portal/Pages/2024-2-30/Slug.aspx", None),
        ("https://x.gov.vn/tin-tuc/abc-123.html", None),
    ],
)
def test_date_from_url(url: str, expected: date | None) -> None:
    assert date_from_url(url) == expected


# --- each class of variation, as a table -----------------------------------------------------------
LABELS = ["Cập nhật vào ngày", "Ngày đăng", "Đăng ngày", "Gửi lúc", "Cập nhật lúc", "Ngày cập nhật", "Đăng lúc",
          "Cập nhật ngày", "Ngày", "Thời gian đăng", "Ngày xuất bản", "Cập nhật"]  # fmt: skip
FORMS = [
    ("23/03/2021", date(2021, 3, 23)),
    ("(23/03/2021)", date(2021, 3, 23)),
    ("23/03/2021 10:15", dt(2021, 3, 23, 10, 15)),
    ("[23-03-2021 10:15:30]", dt(2021, 3, 23, 10, 15, 30)),
]
LABELLED = [(f"{label}{colon} {form}", want) for label in LABELS for colon in ("", ":") for form, want in FORMS]
LABELLED += [(f"[ {label} ({form}) ]", want) for label in LABELS[:4] for form, want in FORMS[:1]]


@pytest.mark.parametrize(("text", "expected"), LABELLED)
def test_labels_with_or_without_colon(text: str, expected: object) -> None:
    assert parse_datetime(text) == expected


WEEKDAYS = ["Thứ 2", "Thứ 3", "Thứ 4", "Thứ 5", "Thứ 6", "Thứ 7", "Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu",
            "Thứ Bảy", "Chủ nhật", "Chủ Nhật", "CHỦ NHẬT", "thứ hai", "THỨ BA", "T2", "T3", "T4", "T5", "T6", "T7", "CN"]  # fmt: skip


@pytest.mark.parametrize("weekday", WEEKDAYS)
def test_weekday_prefixes(weekday: str) -> None:
    assert parse_datetime(f"{weekday}, 15/08/2022 | 10:03:05") == dt(2022, 8, 15, 10, 3, 5)
    assert parse_datetime(f"{weekday} - 15/08/2022") == date(2022, 8, 15)


@pytest.mark.parametrize(
    "text",
    ["5/3/2021", "05/03/2021", "5-3-2021", "05-03-2021", "5.3.2021", "05.03.2021", "5 - 3 - 2021", "05 - 03 - 2021",
     "05 / 03 / 2021", "ngày 5 tháng 3 năm 2021", "ngày 05 tháng 03 năm 2021", "5 tháng 3, 2021", "2021-03-05"],
)  # fmt: skip
def test_separators_and_padding(text: str) -> None:
    assert parse_datetime(text) == date(2021, 3, 5)


MONTH_WORDS = ["Giêng", "Hai", "Ba", "Tư", "Năm", "Sáu", "Bảy", "Tám", "Chín", "Mười", "Mười Một", "Chạp"]


@pytest.mark.parametrize(("month", "word"), list(enumerate(MONTH_WORDS, start=1)))
def test_month_words(month: int, word: str) -> None:
    assert parse_datetime(f"ngày 9 tháng {word} năm 2020") == date(2020, month, 9)
    assert parse_datetime(f"Ngày 9 tháng {word.upper()} năm 2020") == date(2020, month, 9)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12/3/2021 10h15", dt(2021, 3, 12, 10, 15)),
        ("10h15 12/3/2021", dt(2021, 3, 12, 10, 15)),
        ("12/3/2021 lúc 10h", dt(2021, 3, 12, 10, 0)),
        ("10 giờ 15 phút ngày 12/3/2021", dt(2021, 3, 12, 10, 15)),
        ("12/3/2021, 10 giờ 15 phút", dt(2021, 3, 12, 10, 15)),
        ("10 giờ, ngày 12/3/2021", dt(2021, 3, 12, 10, 0)),
        ("12/3/2021 10:15:30", dt(2021, 3, 12, 10, 15, 30)),
        ("12/3/2021 10:15 SA", dt(2021, 3, 12, 10, 15)),
        ("12/3/2021 10:15 CH", dt(2021, 3, 12, 22, 15)),
        ("12/3/2021 12:15 CH", dt(2021, 3, 12, 12, 15)),
        ("12/3/2021 12:15 SA", dt(2021, 3, 12, 0, 15)),
        ("12/3/2021 10:15 AM", dt(2021, 3, 12, 10, 15)),
        ("12/3/2021 10:15 PM", dt(2021, 3, 12, 22, 15)),
        ("10:15 PM 12/3/2021", dt(2021, 3, 12, 22, 15)),
        ("12/3/2021 - 10:15", dt(2021, 3, 12, 10, 15)),
        ("12/3/2021 | 10:15", dt(2021, 3, 12, 10, 15)),
        ("12/3/2021 (10:15)", dt(2021, 3, 12, 10, 15)),
        ("12/3/2021 13:15 PM", date(2021, 3, 12)),  # impossible clock: the day alone, never a guess
    ],
)
def test_times(text: str, expected: object) -> None:
    assert parse_datetime(text) == expected


@pytest.mark.parametrize("zone", ["GMT+7", "(GMT+7)", "(GMT +7)", "[GMT +7]", "GMT+07:00", "UTC+7", "(UTC+07:00)"])
def test_zone_marks(zone: str) -> None:
    assert parse_datetime(f"15/08/2022 10:03 {zone}") == dt(2022, 8, 15, 10, 3)


@pytest.mark.parametrize(
    "text",
    ["04/CT-UBND", "Số: 123/QĐ-UBND", "Số 45/2021/NĐ-CP", "0293.3876.123", "0912 345 678", "35,2%", "1.234",
     "Lượt xem: 2021", "12/2021", "Quý 1/2021", "2021", "Tháng 3/2021", "ngày 12/3", "Sáng ngày 01.02", "Chiều 10/4",
     "hotline: 1900.1234", "Điện thoại: 0293.3876123", "ISO 9001:2015", "tỷ lệ 12/15", "Tổng: 12.345.678"],
)  # fmt: skip
def test_not_dates(text: str) -> None:
    assert parse_datetime(text, now=NOW) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("5 phút trước", dt(2024, 7, 16, 11, 55)),
        ("30 giây trước", dt(2024, 7, 16, 11, 59, 30)),
        ("1 tuần trước", date(2024, 7, 9)),
        ("Hôm nay 08:16", dt(2024, 7, 16, 8, 16)),
        ("hôm qua lúc 23:59", dt(2024, 7, 15, 23, 59)),
        ("Hôm qua", date(2024, 7, 15)),
    ],
)
def test_relative_forms(text: str, expected: object) -> None:
    assert parse_datetime(text, now=NOW) == expected
