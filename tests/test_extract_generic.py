"""The generic extractor on pages no profile describes: title by agreement (a portlet caption
never wins), the date next to the title (never the header's "today", a related list or an event
in the body), views by label (never a site counter), bylines, pages without <h1>; family detection
by score; `archiver extract` shows which rule gave each field."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path

import pytest

from archiver.extract import extract_article, find_published
from archiver.profiles import detect_family_scored

ROOT = Path(__file__).resolve().parents[1]
BODY = "".join(f"<p>Đoạn {i}: Ủy ban nhân dân tỉnh yêu cầu các sở, ban, ngành tập trung triển khai thực hiện "
               f"nghiêm túc các nhiệm vụ được giao trong năm {2020 + i}.</p>" for i in range(1, 6))  # fmt: skip


def page(head: str = "", before: str = "", meta_line: str = "", body: str = BODY, after: str = "",
         title_tag: str = "Hội nghị triển khai nhiệm vụ năm 2024 - Cổng thông tin điện tử tỉnh X") -> str:  # fmt: skip
    return f"""<!DOCTYPE html><html lang="vi"><head><meta charset="utf-8"><title>{title_tag}</title>{head}</head>
<body><div id="header"><div class="today">Thứ 3, Ngày 16/07/2024</div><ul class="menu"><li><a href="/">Trang chủ</a></li>
<li><a href="/tin-tuc">Tin tức - Sự kiện</a></li></ul></div>
<div class="content">{before}{meta_line}<div class="noidung">{body}</div>{after}</div>
<div class="sidebar"><h3>Tin mới</h3><ul><li><a href="/tin/a-1">Một tin khác đăng ngày 02/01/2023 trên cổng</a> (02/01/2023)</li></ul>
<div class="counter">Tổng lượt truy cập: 16.011 | Đang online: 28</div></div>
<div id="footer">Cổng thông tin điện tử tỉnh X. Địa chỉ: số 1 đường Y.</div></body></html>"""


TITLE = "Hội nghị triển khai nhiệm vụ năm 2024"


def test_a_portlet_caption_never_wins_the_title() -> None:
    html = page(before=f'<h1 class="portlet-title">Chi tiết tin tức</h1><h3 class="title-news">{TITLE}</h3>',
                meta_line='<div class="date">12/03/2024 | Lượt xem: 1.234</div>')  # fmt: skip
    art = extract_article(html, "https://x-portal.example/-/hoi-nghi-trien-khai")
    assert art.title == TITLE
    assert art.rules["title"].startswith("generic: <h3> agreeing")


def test_the_labelled_date_next_to_the_title_not_the_header_today_widget() -> None:
    html = page(before=f"<h1>{TITLE}</h1>", meta_line='<div class="meta">Ngày đăng: 08/07/2024 11:38</div>')
    art = extract_article(html, "https://x-portal.example/tin/hoi-nghi-1")
    assert art.published == datetime.fromisoformat("2024-07-08T11:38:00+07:00")
    assert art.published_raw == "Ngày đăng: 08/07/2024 11:38"
    assert "labelled date line next to the title" in art.rules["published"]


def test_a_bare_date_under_the_title_and_no_event_date_from_the_body() -> None:
    body = "<p>Sáng ngày 12 tháng 01 năm 2019, đoàn công tác đã làm việc tại huyện.</p>" + BODY
    html = page(before=f"<h1>{TITLE}</h1>", meta_line="<p class='ngay'>14/04/2025</p>", body=body)
    art = extract_article(html, "https://x-portal.example/tin/hoi-nghi-2")
    assert art.published == date(2025, 4, 14)


def test_views_by_label_near_the_title_never_the_site_counter() -> None:
    html = page(before=f"<h1>{TITLE}</h1>", meta_line='<div>Cập nhật ngày: 24/04/2015 05:21:36 <span>Lượt xem: 7370</span></div>')
    art = extract_article(html, "https://x-portal.example/tin/hoi-nghi-3")
    assert (art.views, art.views_raw) == (7370, "Lượt xem: 7370")
    no_views = extract_article(page(before=f"<h1>{TITLE}</h1>"), "https://x-portal.example/tin/hoi-nghi-4")
    assert no_views.views is None  # "Tổng lượt truy cập: 16.011" in the sidebar is no article's views


def test_a_page_without_h1_takes_its_title_from_the_title_tags() -> None:
    html = page(head=f'<meta property="og:title" content="{TITLE}">', before=f"<div class='tieude'>{TITLE}</div>")
    art = extract_article(html, "https://x-portal.example/tin/hoi-nghi-5")
    assert art.title == TITLE and art.problems() == []
    only_title_tag = extract_article(page(before="<b>Tin</b>"), "https://x-portal.example/tin/hoi-nghi-6")
    assert only_title_tag.title == TITLE  # "<title>" minus the site name
    assert only_title_tag.problems() == []  # a good body is an article, whatever its title


def test_the_body_has_no_chrome_and_the_byline_is_found() -> None:
    body = BODY + "<p>Hồ Hoàng Trung – Sở NN&amp;PTNT</p>"
    html = page(before=f"<h1>{TITLE}</h1>", body=body,
                after="<div class='lienquan'><h3>Tin liên quan</h3><ul><li><a href='/t/2'>Tin liên quan số một của tỉnh X năm nay</a></li></ul></div>")  # fmt: skip
    art = extract_article(html, "https://x-portal.example/tin/hoi-nghi-7")
    assert art.author == "Hồ Hoàng Trung – Sở NN&PTNT"
    text = art.body_text
    assert text.startswith("Đoạn 1:") and "Đoạn 5:" in text
    for chrome in ("Trang chủ", "Tin mới", "Tổng lượt truy cập", "Tin liên quan", "Cổng thông tin điện tử tỉnh X.", "Hồ Hoàng Trung"):
        assert chrome not in text, chrome


def test_json_ld_gives_the_time_of_the_day_htmldate_finds() -> None:
    ld = '<script type="application/ld+json">{"@type": "NewsArticle", "datePublished": "2023-11-02T09:15:00+07:00"}</script>'
    html = page(head=ld + '<meta property="article:published_time" content="2023-11-02T09:15:00+07:00">',
                before=f"<h1>{TITLE}</h1>")  # fmt: skip
    art = extract_article(html, "https://x-news.example/kinh-doanh/bai-1.html")
    assert art.published_iso == "2023-11-02T09:15:00+07:00"
    assert find_published(html, "https://x-news.example/kinh-doanh/bai-1.html") == art.published


def test_no_date_anywhere_is_none_never_a_guess() -> None:
    art = extract_article(page(before=f"<h1>{TITLE}</h1>").replace("02/01/2023", "hôm qua"), "https://x.example/a")
    assert art.published is None


@pytest.mark.parametrize(("html", "family"), [
    ("<div class='news-detail'>Cập nhật vào ngày 1/1/2020 <img src='/media/12/a.jpg'></div>", "hgportal"),
    ("<img src='/media/12/a.jpg'> Cập nhật vào ngày 1/1/2020", "hgportal"),  # 2 of 3 markers: still recognised
    ("<img src='/media/12/a.jpg'>", None),  # 1 of 3: not enough
])  # fmt: skip
def test_family_detection_by_score(html: str, family: str | None) -> None:
    found, score = detect_family_scored(html)
    assert (found.slug if found else None) == family


def test_archiver_extract_shows_the_rule_behind_each_field(tmp_path: Path) -> None:
    saved = tmp_path / "page.html"
    saved.write_text(page(before=f"<h1>{TITLE}</h1>", meta_line='<div class="meta">Ngày đăng: 08/07/2024 11:38</div>'),
                     encoding="utf-8")  # fmt: skip
    cmd = [sys.executable, "-m", "archiver.cli", "extract", str(saved), "--url", "https://x-portal.example/tin/a"]
    result = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "generic (no profile, no family)" in result.stdout
    assert "2024-07-08T11:38:00+07:00" in result.stdout and "labelled date line next to the title" in result.stdout
    as_json = subprocess.run(cmd + ["--json"], capture_output=True, text=True, cwd=ROOT, timeout=60)
    data = json.loads(as_json.stdout)
    assert data["record"]["title"] == TITLE and data["rules"]["title"].startswith("generic:")
    missing = subprocess.run([sys.executable, "-m", "archiver.cli", "extract", str(tmp_path / "none.html")],
                             capture_output=True, text=True, cwd=ROOT, timeout=60)  # fmt: skip
    assert missing.returncode == 2 and "no such file" in missing.stderr
