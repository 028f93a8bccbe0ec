"""Tests of ``scripts/make_sources.py``: the committed ``calibration/data/SOURCES.md`` is what
the script writes from the CSV files (so it never goes stale), every cited address is listed
once under its domain's quality, and a new source is listed (with a placeholder or a note)
rather than lost."""

from __future__ import annotations

import importlib.util
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from calibration.record import DATA_DIR

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "make_sources.py"


@pytest.fixture(scope="module")
def make_sources():
    spec = importlib.util.spec_from_file_location("make_sources", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_sources_md_is_up_to_date(make_sources):
    current = (DATA_DIR / "SOURCES.md").read_text(encoding="utf-8")
    text, _ = make_sources.render(current, DATA_DIR)
    assert text == current, "SOURCES.md is stale: run python scripts/make_sources.py"
    assert make_sources.main(["--check", "--quiet"]) == 0


def test_every_address_listed_once_under_its_quality(make_sources):
    text = (DATA_DIR / "SOURCES.md").read_text(encoding="utf-8")
    cited = make_sources.citations(DATA_DIR)
    urls = [s for s in cited if s.startswith("http")]
    listed = re.findall(r"^- <([^>]+)> — cited for", text, re.M)
    assert sorted(listed) == sorted(urls)
    official = text.split("### Official releases")[1].split("### ")[0]
    assert "centcom.mil" in official
    # The kept sections are still there, in order.
    headings = re.findall(r"^## .*$", text, re.M)
    assert headings == ["## Conventions", "## Seed files (/work/shared/seeds)",
                        "## Public references",
                        "## CAMEO / Goldstein check (sim/events.py, not edited)"]
    seeds = text.split("## Seed files")[1].split("## ")[0]
    assert "`001_f5a8a94412535d4e.txt` — U.S. Strikes Iran-Backed Militias" in seeds
    domains = pd.read_csv(DATA_DIR / "source_domains.csv", dtype=str)
    assert domains["domain"].is_unique


def test_new_sources_are_listed_with_a_placeholder_and_a_note(make_sources, tmp_path,
                                                             capsys):
    data = tmp_path / "data"
    shutil.copytree(DATA_DIR, data)
    episodes = data / "episodes.csv"
    episodes.write_text(episodes.read_text() + "new-episode,2024-03-01,2024-03-31,A new "
                        "episode,005_0123456789abcdef.txt; https://news.example.org/a\n")
    assert make_sources.main(["--data", str(data), "--check", "--quiet"]) == 1
    assert make_sources.main(["--data", str(data)]) == 0
    assert "news.example.org is not in source_domains.csv" in capsys.readouterr().err
    text = (data / "SOURCES.md").read_text()
    assert ("- `005_0123456789abcdef.txt` — (no description yet: describe the seed file "
            "here) Cited by 1 row.") in text
    other = text.split("### Other")[1].split("## ")[0]
    assert ("- <https://news.example.org/a> — cited for episode new-episode. First use: "
            "A new episode") in other
    assert make_sources.main(["--data", str(data), "--check", "--quiet"]) == 0
