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
