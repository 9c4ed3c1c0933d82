"""Table tests of parse_views with every view-count string of shared/reference/FORMATS.md."""

from __future__ import annotations

import pytest

from archiver.normalize import parse_views

CASES = [
    ("[ Cập nhật vào ngày (23/03/2021) ] - [ Số lần xem: 530 ]", 530),
    ("[ Số lần xem: 530 ]", 530),
    ("Lượt xem: 400", 400),
    ("Lượt xem: 400 100%", 400),
    ("Lượt xem: 7370 | Gửi lúc: 05/12/2013 15:42:27", 7370),
    ("14/04/2025 | Lượt xem: 1.234", 1234),
    ("Đã xem: 1.234", 1234),
    ("Lượt xem: 16,011", 16011),
    ("Lượt xem: 1 234", 1234),
    ("1,2K lượt xem", 1200),
    ("Lượt xem: 1,2K", 1200),
    ("352 lượt đọc", 352),
    ("Số lượt xem: 12", 12),
    ("Views: 99", 99),
    ("530", 530),
    ("(530)", 530),
    ("Tổng lượt truy cập : 16,011", None),
    ("Truy cập hôm nay : 28", None),
    ("Đang online: 112", None),
    ("100%", None),
    ("Cỡ chữ 100%", None),
    ("", None),
    ("Lượt xem:", None),
    ("Lượt xem: 12,5", None),
]


@pytest.mark.parametrize(("text", "expected"), CASES, ids=[c[0] or "empty" for c in CASES])
def test_parse_views(text: str, expected: int | None) -> None:
    assert parse_views(text) == expected


VIEW_LABELS = [
    "Số lần xem",
    "Lượt xem",
    "Đã xem",
    "Số lượt xem",
    "Lượt đọc",
    "Lần xem",
    "Views",
    "lượt xem",
    "LƯỢT XEM",
]


@pytest.mark.parametrize("label", VIEW_LABELS)
@pytest.mark.parametrize(
    ("printed", "value"), [("7370", 7370), ("1.234", 1234), ("1,234", 1234), ("12.345.678", 12345678)]
)
def test_labels_and_thousands_separators(label: str, printed: str, value: int) -> None:
    assert parse_views(f"{label}: {printed}") == value
