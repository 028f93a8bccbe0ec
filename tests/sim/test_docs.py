"""Generated references stay true: docs/scenarios.md, docs/cli.md and docs/schemas/*.json
are what ``escalation docs`` generates from the code.

When this fails, run ``escalation docs`` (or ``python -m sim.docs``) and commit the result.
"""

from __future__ import annotations

import difflib
import shutil

import pytest

from sim.docs import DOCS, ROOT, generated, regenerate, write


def test_the_committed_references_are_what_the_code_generates():
    stale = []
    for path, text in generated().items():
        have = path.read_text() if path.is_file() else ""
        if have != text:
            diff = "".join(list(difflib.unified_diff(
                have.splitlines(True), text.splitlines(True), str(path.relative_to(ROOT)),
                "generated", n=0))[:12])
            stale.append(diff)
    assert not stale, ("generated references are stale; run `escalation docs` (or "
                       "`python -m sim.docs`) and commit the result:\n" + "\n".join(stale))


def test_a_changed_table_is_noticed_and_rewritten(tmp_path):
    docs = tmp_path / "docs"
    shutil.copytree(DOCS, docs)
    scenarios = docs / "scenarios.md"
    scenarios.write_text(scenarios.read_text().replace("| `fear_weight` | 1 |",
                                                       "| `fear_weight` | 7 |"))
    assert write(check=True, docs=docs) == 1
    assert write(docs=docs) == 0 and write(check=True, docs=docs) == 0
    assert "| `fear_weight` | 1 |" in scenarios.read_text()


def test_a_new_command_gets_a_section(tmp_path):
    docs = tmp_path / "docs"
    shutil.copytree(DOCS, docs)
    cli = docs / "cli.md"
    text = cli.read_text()
    start = text.index("## `escalation schema`")
    cli.write_text(text[:start] + text[text.index("## `escalation docs`"):])
    write(docs=docs)
    assert "<!-- generated: usage:schema -->" in cli.read_text()
    assert cli.read_text().index("## `escalation schema`") < cli.read_text().index(
        "## From Python")


def test_an_unknown_block_is_an_error():
    with pytest.raises(SystemExit, match="unknown generated block 'nope'"):
        regenerate("<!-- generated: nope -->\n<!-- end generated -->", {}, "x.md")


def test_a_hand_written_section_keeps_its_prose_and_gets_the_tables(tmp_path):
    docs = tmp_path / "docs"
    shutil.copytree(DOCS, docs)
    cli = docs / "cli.md"
    text = cli.read_text()
    start = text.index("<!-- generated: usage:schema -->")
    end = text.index("Prints the JSON Schema")
    cli.write_text(text[:start] + "```\nescalation schema KIND\n```\n\n" + text[end:])
    write(docs=docs)
    assert cli.read_text() == text

