"""The reading room's pages, without a server: body rendering, revision diffs, the view-count
chart, search rows (archiver/reading.py)."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from archiver import reading
from archiver.items import Article
from archiver.profiles import get_portal
from archiver.store import Archive
from archiver.store.queries import Filters, search

BODY = (
    '<p>Đảng bộ tỉnh <a href="https://www.haugiang.gov.vn/van-ban/qd-01.pdf">Quyết định</a> và '
    '<a href="https://www.haugiang.gov.vn/tin-tuc/khac.html">tin khác</a>.</p>'
    '<p><img src="https://www.haugiang.gov.vn/media/anh-1.jpg" alt="Quang cảnh hội nghị"></p>'
    '<p><img src="https://www.haugiang.gov.vn/media/anh-2.jpg" alt="x" onerror="alert(1)"></p>'
    '<p><a href="javascript:alert(1)">bấm</a></p>'
)


def test_body_points_at_the_archive_and_never_loads_from_the_portal() -> None:
    html = reading.render_body(BODY, archived={"https://www.haugiang.gov.vn/media/anh-2.jpg": 7},
                               documents={"https://www.haugiang.gov.vn/van-ban/qd-01.pdf": 3})  # fmt: skip
    # the archived image is served from the archive; the other one is a marked place, not an <img>
    assert re.findall(r'<img[^>]*src="([^"]+)"', html) == ["/-/capture/7"]
    assert "[image not archived: Quang cảnh hội nghị]" in html
    assert 'href="https://www.haugiang.gov.vn/media/anh-1.jpg"' in html  # the live link, as a link
    assert 'href="/-/capture/3"' in html and "Quyết định" in html  # the document's archived copy
    assert 'class="live" href="https://www.haugiang.gov.vn/tin-tuc/khac.html"' in html
    assert "onerror" not in html and "javascript:" not in html and "alert" not in html
    assert reading.render_body(None, {}, {}) == ""


def test_word_diff_marks_what_changed_and_folds_what_did_not() -> None:
    old = "\n\n".join(["Mở đầu.", "Một.", "Hai.", "Ba.", "Tổng kinh phí hơn 1.234 tỷ đồng.", "Kết."])
    new = "\n\n".join(["Mở đầu.", "Một.", "Hai.", "Ba.", "Tổng kinh phí hơn 1.500 tỷ đồng.", "Kết.", "Thêm <b>."])
    html = reading.word_diff(old, new)
    assert "<del>234</del><ins>500</ins>" in html
    assert "<p><ins>Thêm &lt;b&gt;.</ins></p>" in html  # escaped: page text never becomes markup
    assert "2 unchanged paragraph(s)" in html and "Hai." not in html
    assert reading.word_diff("a\n\nb", "a\n\nb").count("<del>") == 0
    assert "<p><del>b</del></p>" in reading.word_diff("a\n\nb", "a")


def test_revision_changes_list_fields_and_body() -> None:
    a = {"revision": 1, "seen_at": "t1", "title": "Hội nghị", "author": "A", "body_text": "x"}
    b = {"revision": 2, "seen_at": "t2", "title": "Hội nghị tỉnh", "author": "A", "body_text": "x", "reason": "source"}
    c = reading.revision_changes(a, b)
    assert [f["field"] for f in c["fields"]] == ["title"] and "<ins> tỉnh</ins>" in c["fields"][0]["diff"]
    assert c["body_changed"] is False and c["reason"] == "source" and (c["from"], c["to"]) == (1, 2)


def test_views_chart_has_a_point_per_observation() -> None:
    series = [{"seen_at": f"2024-0{m}-01T00:00:00+00:00", "views": v} for m, v in ((1, 10), (2, 25), (3, 40))]
    svg = reading.views_svg(series)
    assert svg.startswith("<svg") and svg.count("<circle") == 3 and "<polyline" in svg
    assert "2024-03-01T00:00:00+00:00: 40 views" in svg and ">40<" in svg and ">10<" in svg
    assert reading.views_svg(series[:1]).count("<circle") == 1 and "<polyline" not in reading.views_svg(series[:1])
    assert reading.views_svg([]) == ""


@pytest.fixture
def archive(tmp_path: Path):
    with Archive(tmp_path / "archive.db") as a:
        a.upsert_portal(get_portal("haugiang"))
        a.upsert_portal(get_portal("kontum"))
        docs = [("haugiang", "a", "Chuyển đổi số ở Hậu Giang", "Tỉnh đẩy mạnh chuyển đổi số.", date(2023, 5, 1)),
                ("haugiang", "b", "Chính phủ số", "Xây dựng chính phủ số.", date(2024, 1, 2)),
                ("kontum", "c", "Chuyển đổi số ở Kon Tum", "Kon Tum chuyển đổi số.", date(2022, 1, 2)),
                ("haugiang", "d", "Đại hội Đảng bộ", "Đảng bộ tỉnh.", date(2020, 1, 2))]  # fmt: skip
        for portal, slug, title, body, day in docs:
            url = f"{get_portal(portal).base_url}/{slug}.html"
            a.save_article(Article(url=url, canonical_url=url, portal=portal, title=title, body_text=body,
                                   body_html=f"<p>{body}</p>", published=day, views=5), run_id=None)  # fmt: skip
        a.commit()
        yield a


def test_search_rows_are_the_clis(archive: Archive) -> None:
    """The reading room's search is the CLI's: same query language, filters, order."""
    q = '"chuyển đổi số" OR "chính phủ số"'
    for f in (Filters(), Filters(since="2023"), Filters(province="Cần Thơ"), Filters(portals=["kontum"])):
        cli = [h["id"] for h in search(archive.conn, q, f, 50)]
        assert [h["id"] for h in reading.search_page(archive.conn, q, f)] == cli and cli
    rows = reading.search_json(archive.conn, q, since="2023")
    assert [r["title"] for r in rows] == ["Chính phủ số", "Chuyển đổi số ở Hậu Giang"] or \
        {r["title"] for r in rows} == {"Chính phủ số", "Chuyển đổi số ở Hậu Giang"}  # fmt: skip
    assert rows[0]["province"] == "Hậu Giang" and rows[0]["new_unit"] == "thành phố Cần Thơ"
    hit = reading.search_page(archive.conn, "dang", Filters())[0]
    assert hit["title"] == "Đại hội Đảng bộ" and "<mark>Đảng</mark>" in hit["snippet_html"]
    assert reading.search_json(archive.conn, '"an ninh')[0]["error"].endswith("a quotation mark is not closed")
    assert reading.search_json(archive.conn, "") == []


def test_article_page_holds_what_the_page_shows(archive: Archive) -> None:
    url = f"{get_portal('haugiang').base_url}/a.html"
    art = Article(url=url, canonical_url=url, portal="haugiang", title="Chuyển đổi số ở Hậu Giang",
                  body_text="Tỉnh đẩy mạnh chuyển đổi số toàn diện.", views=9, author="Thanh Tâm")  # fmt: skip
    assert archive.save_article(art, run_id=None, seen_at="2030-01-01T00:00:00+00:00") == "updated"
    archive.commit()
    page = reading.article_page(archive.conn, url)
    assert page is not None and page["portal"]["new_unit"] == "thành phố Cần Thơ"
    assert [r["revision"] for r in page["revisions"]] == [1, 2] and len(page["changes"]) == 1
    assert "<ins> toàn diện</ins>" in page["changes"][0]["body_diff"]
    assert [v["views"] for v in page["views"]] == [5, 9] and page["views_chart"].count("<circle") == 2
    assert reading.diff_page(archive.conn, page["article"]["id"], 2)["change"]["to"] == 2  # type: ignore[index]
    assert reading.diff_page(archive.conn, page["article"]["id"], 3) is None
    assert reading.diff_page(archive.conn, page["article"]["id"], 1) is None
    assert reading.article_page(archive.conn, "nope") is None
