"""TCVN3 and VNI mojibake: known strings, and round trips on whole Vietnamese paragraphs."""

from __future__ import annotations

import pytest

from archiver.normalize import clean_text
from archiver.normalize.legacy import detect_legacy, fix_legacy, to_tcvn3, to_vni

# Whole paragraphs of the kind portals publish. TCVN3 has no codes for capitals with marks
# (those came from a second font), so the TCVN3 paragraphs use only unmarked capitals.
PARAGRAPHS = [
    "Nhằm phát huy những kết quả đã đạt được trong công tác phòng, chống dịch thời gian qua, "
    "Chủ tịch ủy ban nhân dân tỉnh yêu cầu các sở, ban, ngành tỉnh tiếp tục thực hiện nghiêm "
    "các biện pháp phòng, chống dịch trong tình hình mới.",
    "Theo báo cáo của Ban Dân tộc tỉnh, tổng vốn giao năm 2024 là 1.046,7 tỷ đồng; đến ngày 30/6/2024, "
    "giải ngân đạt 35,2%. Nguyên nhân chủ yếu là một số dự án còn vướng mặt bằng, thủ tục đầu tư kéo dài.",
    "Sở Tư pháp phối hợp với huyện Ninh Phước tổ chức hội nghị tuyên truyền, phổ biến Luật Hòa giải ở cơ sở "
    "cho đội ngũ hòa giải viên; kỹ năng hòa giải một số loại tranh chấp thường gặp như đất đai, hôn nhân và gia đình.",
    "Người dân phấn khởi khi các công trình giao thông nông thôn được đưa vào sử dụng đúng tiến độ, "
    "góp phần nâng cao đời sống vật chất và tinh thần của đồng bào dân tộc thiểu số.",
    "Đồng chí Bí thư Tỉnh ủy nhấn mạnh: xây dựng Đảng là nhiệm vụ then chốt, phát triển kinh tế - xã hội "
    "là nhiệm vụ trọng tâm, bảo đảm quốc phòng, an ninh là nhiệm vụ thường xuyên, quan trọng.",
]
CAPITALS = "ỦY BAN NHÂN DÂN TỈNH HẬU GIANG. CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM. Độc lập - Tự do - Hạnh phúc. ĐỒNG CHÍ ĐẶNG VĂN ỸNG."


@pytest.mark.parametrize("paragraph", PARAGRAPHS)
def test_tcvn3_round_trip(paragraph: str) -> None:
    mojibake = to_tcvn3(paragraph)
    assert mojibake != paragraph
    assert detect_legacy(mojibake) == "tcvn3"
    assert fix_legacy(mojibake) == paragraph


@pytest.mark.parametrize("paragraph", [*PARAGRAPHS, CAPITALS])
def test_vni_round_trip(paragraph: str) -> None:
    mojibake = to_vni(paragraph)
    assert mojibake != paragraph
    assert detect_legacy(mojibake) == "vni"
    assert fix_legacy(mojibake) == paragraph


@pytest.mark.parametrize(
    ("mojibake", "unicode"),
    [
        ("Céng hoµ x· héi chñ nghÜa ViÖt Nam", "Cộng hoà xã hội chủ nghĩa Việt Nam"),
        ("§éc lËp - Tù do - H¹nh phóc", "Độc lập - Tự do - Hạnh phúc"),
        ("Uû ban nh©n d©n tØnh HËu Giang", "Uỷ ban nhân dân tỉnh Hậu Giang"),
        ("Coäng hoøa xaõ hoäi chuû nghóa Vieät Nam", "Cộng hòa xã hội chủ nghĩa Việt Nam"),
        ("Ñoäc laäp - Töï do - Haïnh phuùc", "Độc lập - Tự do - Hạnh phúc"),
        ("UÛy ban nhaân daân tænh Haäu Giang", "Ủy ban nhân dân tỉnh Hậu Giang"),
    ],
)
def test_known_mojibake(mojibake: str, unicode: str) -> None:
    assert fix_legacy(mojibake) == unicode
    assert clean_text(mojibake) == unicode


@pytest.mark.parametrize(
    "text",
    [
        *PARAGRAPHS,
        "Hoà Bình, Hoá học, Thuỷ lợi",  # old-style tone placement, Latin-1 letters only
        "Nhiệt độ 25°C, độ ẩm 80% © 2024",
        "Café, naïve, Øresund, Ñandú, smörgåsbord",  # foreign words with Latin-1 letters
        "© ® ° ± µ ¶ · » «",
        "Tin tức - Sự kiện",
        "",
    ],
)
def test_unicode_and_foreign_text_untouched(text: str) -> None:
    assert fix_legacy(text) == text
