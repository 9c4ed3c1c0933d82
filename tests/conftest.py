from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures"
# The registry names real portals: no test may reach one. Tests of the registry (and the README's
# examples) give the bundled file back explicitly.
os.environ["ARCHIVER_REGISTRY"] = "none"


def fixture_cases(kind: str) -> list[Path]:
    """Every fixture directory of a kind ("article" or "listing")."""
    out = []
    for meta in sorted(FIXTURES.glob("*/*/meta.json")):
        if json.loads(meta.read_text(encoding="utf-8"))["kind"] == kind:
            out.append(meta.parent)
    return out


def load_case(case: Path) -> tuple[str, dict, dict, datetime | None]:
    meta = json.loads((case / "meta.json").read_text(encoding="utf-8"))
    expected = json.loads((case / "expected.json").read_text(encoding="utf-8"))
    now = datetime.fromisoformat(meta["now"]) if meta.get("now") else None
    return (case / "page.html").read_text(encoding="utf-8"), meta, expected, now


@pytest.fixture
def tmp_db(tmp_path: Path) -> Path:
    return tmp_path / "archive.db"


@pytest.fixture(scope="module")
def demo_site():
    """The bundled demo site served on 127.0.0.1 (its URL), stopped after the module."""
    from archiver import demo

    server = demo.serve(demo.SITE_DIR)
    yield demo.server_url(server)
    server.shutdown()
    server.server_close()


# Hypothesis: no per-example deadline (the first dateparser fallback loads its data, and CI
# machines are noisy); in CI the examples are derandomised so that a run is reproducible.
from hypothesis import settings as _hsettings  # noqa: E402

_hsettings.register_profile("default", deadline=None)
_hsettings.register_profile("ci", deadline=None, derandomize=True, print_blob=True)
_hsettings.load_profile("ci" if os.environ.get("CI") else "default")
