"""Provinces before and after the 1 July 2025 merger (Resolution 202/2025/QH15).

``new_unit_of("Hậu Giang") == "thành phố Cần Thơ"``. Names are matched after folding
(no diacritics, lower case, "tỉnh"/"thành phố" prefixes dropped), so ``Hau Giang`` works too.
"""

from __future__ import annotations

import re

from archiver.normalize.text import fold

MERGERS: dict[str, tuple[str, ...]] = {
    "tỉnh Tuyên Quang": ("Tuyên Quang", "Hà Giang"),
    "tỉnh Lào Cai": ("Lào Cai", "Yên Bái"),
    "tỉnh Thái Nguyên": ("Thái Nguyên", "Bắc Kạn"),
    "tỉnh Phú Thọ": ("Phú Thọ", "Vĩnh Phúc", "Hòa Bình"),
    "tỉnh Bắc Ninh": ("Bắc Ninh", "Bắc Giang"),
    "tỉnh Hưng Yên": ("Hưng Yên", "Thái Bình"),
    "thành phố Hải Phòng": ("Hải Phòng", "Hải Dương"),
    "tỉnh Ninh Bình": ("Ninh Bình", "Hà Nam", "Nam Định"),
    "tỉnh Quảng Trị": ("Quảng Trị", "Quảng Bình"),
    "thành phố Đà Nẵng": ("Đà Nẵng", "Quảng Nam"),
    "tỉnh Quảng Ngãi": ("Quảng Ngãi", "Kon Tum"),
    "tỉnh Gia Lai": ("Gia Lai", "Bình Định"),
    "tỉnh Khánh Hòa": ("Khánh Hòa", "Ninh Thuận"),
    "tỉnh Lâm Đồng": ("Lâm Đồng", "Đắk Nông", "Bình Thuận"),
    "tỉnh Đắk Lắk": ("Đắk Lắk", "Phú Yên"),
    "thành phố Hồ Chí Minh": ("TP Hồ Chí Minh", "Bình Dương", "Bà Rịa – Vũng Tàu"),
    "tỉnh Đồng Nai": ("Đồng Nai", "Bình Phước"),
    "tỉnh Tây Ninh": ("Tây Ninh", "Long An"),
    "thành phố Cần Thơ": ("Cần Thơ", "Sóc Trăng", "Hậu Giang"),
    "tỉnh Vĩnh Long": ("Vĩnh Long", "Bến Tre", "Trà Vinh"),
    "tỉnh Đồng Tháp": ("Đồng Tháp", "Tiền Giang"),
    "tỉnh Cà Mau": ("Cà Mau", "Bạc Liêu"),
    "tỉnh An Giang": ("An Giang", "Kiên Giang"),
}
UNCHANGED = {
    "Hà Nội": "thành phố Hà Nội",
    "Huế": "thành phố Huế",
    "Lai Châu": "tỉnh Lai Châu",
    "Điện Biên": "tỉnh Điện Biên",
    "Sơn La": "tỉnh Sơn La",
    "Lạng Sơn": "tỉnh Lạng Sơn",
    "Quảng Ninh": "tỉnh Quảng Ninh",
    "Thanh Hóa": "tỉnh Thanh Hóa",
    "Nghệ An": "tỉnh Nghệ An",
    "Hà Tĩnh": "tỉnh Hà Tĩnh",
    "Cao Bằng": "tỉnh Cao Bằng",
}


def _key(name: str) -> str:
    k = fold(name)
    k = re.sub(r"^(tinh|thanh pho|tp\.?)\s+", "", k.strip())
    k = re.sub(r"[\s\-–—]+", " ", k)
    return k.replace("thua thien hue", "hue").replace("ba ria vung tau", "ba ria vung tau")


_INDEX: dict[str, str] = {}
for _new, _olds in MERGERS.items():
    for _old in _olds:
        _INDEX[_key(_old)] = _new
for _old, _new in UNCHANGED.items():
    _INDEX[_key(_old)] = _new


def new_unit_of(province: str | None) -> str | None:
    """The unit an old province belongs to since 1 July 2025; ``None`` for an unknown name."""
    if not province:
        return None
    return _INDEX.get(_key(province))


MERGER_DAY = "2025-07-01"


def merged_province(province: str | None) -> bool:
    """Whether the old province was merged into another unit on 1 July 2025 (not one of the 11
    left as they were). Its portal printing later dates is worth a warning."""
    unit = new_unit_of(province)
    return unit is not None and _key(unit) != _key(province or "")
