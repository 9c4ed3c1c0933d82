"""The reading room as a visitor meets it: ``archiver serve`` on an archive of the demo portal
crawled twice (the second time one article had changed), read through the JSON API and in a
real browser (Debian's Chromium, driven by Selenium through chromedriver), with screenshots.

The browser checks are made on the page the screenshot is taken of: each element that must be
there is found, displayed and inside the shot; the shots are written to ``$ARCHIVER_SCREENSHOTS``
(default: the test's temporary directory) for a person to look at.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import struct
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from tests.crawling import ROOT, demo_archive_with_a_revision, free_port, q
from tests.test_cli_archive import start_serve

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"


@pytest.fixture(scope="module")
def room(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("reading")
    db = demo_archive_with_a_revision(tmp)
    (aid,) = q(db, "SELECT id FROM articles WHERE revision = 2")[0]
    port = free_port()
    proc = start_serve(db, port, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield {"db": db, "base": f"http://127.0.0.1:{port}", "id": aid, "tmp": tmp}
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def fetch(url: str) -> tuple[int, str, str]:
    """(status, final URL, body) of a GET on 127.0.0.1."""
    try:
        with urllib.request.urlopen(url, timeout=30) as r:  # noqa: S310 - 127.0.0.1 only
            return r.status, r.url, r.read().decode("utf-8")
    except urllib.error.HTTPError as exc:
        return exc.code, url, exc.read().decode("utf-8")


def cli_json(db: Path, *args: str) -> list[dict[str, Any]]:
    out = subprocess.run([os.sys.executable, "-m", "archiver.cli", *args, "--db", str(db), "--json"],  # type: ignore[attr-defined]
                         capture_output=True, text=True, check=True, cwd=ROOT, timeout=60).stdout  # fmt: skip
    return [json.loads(line) for line in out.splitlines()]


# --- through HTTP and the JSON API --------------------------------------------------------------------
def test_the_first_page_is_the_article_index(room: dict[str, Any]) -> None:
    status, final, body = fetch(room["base"] + "/")
    assert status == 200 and final.endswith("/archive/article_index")
    assert 'action="/-/search"' in body and "/-/article/" in body
    _, _, tables = fetch(room["base"] + "/archive")
    assert "_migrations" not in re.sub(r"hidden.*", "", tables)  # hidden from the table list


def test_canned_search_speaks_the_clis_query_language(room: dict[str, Any]) -> None:
    """The README's own example: 0 rows in Datasette before (OR was a search word), the CLI's hits now."""
    query = '"chuyển đổi số" OR "chính phủ số"'
    for since in ("", "2021"):
        cli = [h["id"] for h in cli_json(room["db"], "search", query, *(["--since", since] if since else []),
                                         "--limit", "100")]  # fmt: skip
        url = f"{room['base']}/archive/search.json?_shape=objects&q={quote(query)}&portal=&province=&since={since}&until="
        rows = json.loads(fetch(url)[2])["rows"]
        assert [r["id"] for r in rows] == cli and len(cli) == (6 if not since else 3)
    # filters as the CLI's: a province (the unit since 2025), a portal, dates
    url = f"{room['base']}/archive/search.json?_shape=objects&q=dang&portal=demo&province={quote('Cần Thơ')}&since=2021&until=2021-06"
    rows = json.loads(fetch(url)[2])["rows"]
    cli = cli_json(room["db"], "search", "dang", "--portal", "demo", "--province", "Cần Thơ", "--since", "2021",
                   "--until", "2021-06", "--limit", "100")  # fmt: skip
    assert [r["id"] for r in rows] == [h["id"] for h in cli] and rows
    assert all("2021-01" <= r["published"][:7] <= "2021-06" for r in rows)
    assert all("<b>" in r["snippet"] for r in rows)
    bad = json.loads(fetch(f"{room['base']}/archive/search.json?_shape=objects&q=%22an&portal=&province=&since=&until=")[2])
    assert "quotation mark is not closed" in bad["rows"][0]["error"]


def test_search_page_json_and_errors(room: dict[str, Any]) -> None:
    status, _, body = fetch(f"{room['base']}/-/search?q=dang&_format=json")
    hits = json.loads(body)["hits"]
    assert status == 200 and [h["id"] for h in hits] == [h["id"] for h in cli_json(room["db"], "search", "dang",
                                                                                  "--limit", "50")]  # fmt: skip
    status, _, body = fetch(f"{room['base']}/-/search?q=%22an+ninh")
    assert status == 400 and "quotation mark is not closed" in body
    status, _, body = fetch(f"{room['base']}/-/search?q=an&since=23/03/2021")
    assert status == 400 and "--since" in body


def test_article_and_diff_pages_over_http(room: dict[str, Any]) -> None:
    status, _, body = fetch(f"{room['base']}/-/article/{room['id']}")
    assert status == 200 and "Hậu Giang ban hành Chỉ thị" in body and "thành phố Cần Thơ" in body
    assert re.search(r'class="archived-copy" href="/-/capture/\d+"', body)
    status, _, body = fetch(f"{room['base']}/-/article/{room['id']}/diff/2")
    assert status == 200 and "<del>234</del><ins>500</ins>" in body
    assert fetch(f"{room['base']}/-/article/{room['id']}/diff/9")[0] == 404
    assert fetch(f"{room['base']}/-/article/nope")[0] == 404
    # the archived copy it links to is the page as captured, sandboxed
    capture = re.search(r'class="archived-copy" href="(/-/capture/\d+)"', fetch(f"{room['base']}/-/article/{room['id']}")[2])
    assert capture is not None
    with urllib.request.urlopen(room["base"] + capture.group(1), timeout=30) as r:  # noqa: S310
        assert "sandbox" in r.headers["Content-Security-Policy"] and "1.500 tỷ đồng" in r.read().decode("utf-8")


# --- in a real browser ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def browser(room: dict[str, Any]) -> Iterator[Any]:
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        if os.environ.get("CI"):
            pytest.fail("Chromium and chromedriver are missing: .ci/run installs them (chromium chromium-driver)")
        pytest.skip("Debian's chromium and chromium-driver are not installed")
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    os.environ.setdefault("SE_AVOID_STATS", "true")  # Selenium Manager is not used (paths given); no telemetry
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--window-size=1280,1800", f"--user-data-dir={room['tmp'] / 'chromium'}"):  # fmt: skip
        options.add_argument(arg)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    try:
        yield driver
    finally:
        driver.quit()


def shots_dir(room: dict[str, Any]) -> Path:
    out = Path(os.environ.get("ARCHIVER_SCREENSHOTS") or room["tmp"] / "screenshots")
    out.mkdir(parents=True, exist_ok=True)
    return out


def shoot(driver: Any, room: dict[str, Any], path: str, name: str, height: int = 1800) -> Path:
    driver.set_window_size(1280, height)
    driver.get(room["base"] + path)
    shot = shots_dir(room) / f"{name}.png"
    assert driver.save_screenshot(str(shot))
    width, tall = struct.unpack(">II", shot.read_bytes()[16:24])  # the PNG's IHDR
    viewport = driver.execute_script("return [window.innerWidth, window.innerHeight]")
    assert [width, tall] == viewport and tall > height * 0.8 and shot.stat().st_size > 20_000  # a page, not a blank
    driver.shot_height = tall  # what ``visible`` counts as inside the shot
    return shot


def visible(driver: Any, css: str) -> list[Any]:
    """The elements matching ``css`` that are displayed and inside the last screenshot."""
    from selenium.webdriver.common.by import By

    height = driver.shot_height
    found = [e for e in driver.find_elements(By.CSS_SELECTOR, css) if e.is_displayed()]
    return [e for e in found if e.rect["y"] < height and e.rect["width"] > 0 and e.rect["height"] > 0]


def loaded_from(driver: Any) -> set[str]:
    """Hosts the page loaded anything from (the reading room never makes a visitor call a portal)."""
    urls = driver.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    return {re.sub(r"^\w+://([^/]+).*", r"\1", u) for u in urls + [driver.current_url]}


def test_article_page_in_a_browser(room: dict[str, Any], browser: Any) -> None:
    shoot(browser, room, f"/-/article/{room['id']}", "article", height=2000)
    (title,) = visible(browser, "h1.article-title")
    assert title.text == "Hậu Giang ban hành Chỉ thị về việc đẩy mạnh cải cách hành chính"
    (meta,) = visible(browser, "p.meta")
    for part in ("Hậu Giang", "thành phố Cần Thơ", "2020-06-08T08:13:00+07:00", "1,602 views", "Hồng Nguyên"):
        assert part in meta.text
    assert visible(browser, "p.category")[0].text.lower() == "tin trong tỉnh"
    body = visible(browser, ".article-body p")
    assert len(body) >= 4 and any("1.500 tỷ đồng" in p.text for p in body)
    assert visible(browser, ".article-body .img-missing")  # the image's place, not a call to the portal
    (copy,) = visible(browser, "a.archived-copy")
    assert re.search(r"/-/capture/\d+$", copy.get_attribute("href"))
    (live,) = visible(browser, "a.live-url")
    assert live.get_attribute("href").startswith("https://haugiang-demo.example/")
    docs = visible(browser, "#documents li")
    assert len(docs) == 2 and all("/-/capture/" in d.find_element("css selector", "a").get_attribute("href")
                                  for d in docs)  # fmt: skip
    assert len(visible(browser, "svg.views-chart circle")) == 2
    assert len(visible(browser, "ol.revision-list li")) == 2
    assert visible(browser, "details.change[open] del") and visible(browser, "details.change[open] ins")
    assert loaded_from(browser) == {re.sub(r"^\w+://", "", room["base"])}


def test_search_for_dang_in_a_browser(room: dict[str, Any], browser: Any) -> None:
    shoot(browser, room, "/-/search?q=dang", "search-dang")
    hits = visible(browser, "ol.hits li.hit")
    expected = cli_json(room["db"], "search", "dang", "--limit", "50")
    assert len(browser.find_elements("css selector", "ol.hits li.hit")) == len(expected) > 3
    assert [h.find_element("css selector", "a.hit-title").text for h in hits] == [e["title"] for e in expected][: len(hits)]
    marks = visible(browser, "ol.hits li.hit .snippet mark")
    assert marks and all(m.text.lower() in ("đảng", "dang", "đăng") for m in marks)
    assert visible(browser, "input[name=q]")[0].get_attribute("value") == "dang"


def test_revision_diff_in_a_browser(room: dict[str, Any], browser: Any) -> None:
    shoot(browser, room, f"/-/article/{room['id']}/diff/2", "revision-diff", height=1000)
    assert visible(browser, "h1.article-title")[0].text == "What changed in revision 2"
    assert [d.text for d in visible(browser, ".body-diff del")] == ["234"]
    assert [i.text for i in visible(browser, ".body-diff ins")] == ["500"]
    assert "source" in visible(browser, "p.meta .reason")[0].text
    assert visible(browser, "p.folded")  # unchanged paragraphs folded, the change in its context


def test_tables_are_readable_in_a_browser(room: dict[str, Any], browser: Any) -> None:
    """Long text is cut in table cells, titles are not one word per line, titles open the reading room."""
    shoot(browser, room, "/archive/articles", "articles-table", height=1400)
    cells = browser.find_elements("css selector", "td.col-body_text")
    assert cells and all(len(c.text) <= 260 for c in cells)
    title = browser.find_elements("css selector", "td.col-title a")[0]
    assert title.get_attribute("href").endswith("/-/article/" + title.get_attribute("href").rsplit("/", 1)[-1])
    assert title.rect["width"] > 200  # at 1280 px a title has room
    shoot(browser, room, "/archive/article_index", "article-index", height=1400)
    url_cell = browser.find_elements("css selector", "td.col-url")[0]
    assert "archived copy" in url_cell.text and "live" in url_cell.text
