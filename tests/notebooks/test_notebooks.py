"""Every notebook in ``notebooks/`` runs top to bottom on a fresh kernel and draws its figures.

Each notebook is executed with nbclient in its own folder, with ``ESCALATION_NB_SCALE`` set
small (default 0.05: replicates, sweep sizes and calibration budgets shrink to 5% of what a
student runs), a time limit per cell, and fails on the first error. Then: every code cell
that calls ``show(...)`` (the notebooks' way of drawing a figure) produced a PNG, and the
stored notebooks carry no outputs (the repository keeps them clean and small).

Set ``ESCALATION_NB_TEST_SCALE`` to run at another scale (1.0 is what a student runs).
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

NOTEBOOKS = sorted((Path(__file__).resolve().parents[2] / "notebooks").glob("*.ipynb"))
SCALE = os.environ.get("ESCALATION_NB_TEST_SCALE", "0.05")
CELL_TIMEOUT_S = 600
DRAWS = re.compile(r"^\s*show\(", re.MULTILINE)


def test_there_are_notebooks():
    names = [p.stem for p in NOTEBOOKS]
    assert names[:3] == ["01_first_run", "02_deterrence_rules", "03_rewriting_history"], names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_is_stored_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    dirty = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"
             and (c.get("outputs") or c.get("execution_count") is not None)]
    assert not dirty, f"{path.name}: clear the outputs of cells {dirty} before committing"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_and_draws(path, monkeypatch):
    monkeypatch.setenv("ESCALATION_NB_SCALE", SCALE)
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=CELL_TIMEOUT_S, kernel_name="python3",
                                     resources={"metadata": {"path": str(path.parent)}})
    started = time.perf_counter()
    client.execute()  # raises CellExecutionError, naming the cell, on any error
    print(f"{path.name}: {time.perf_counter() - started:.1f} s at scale {SCALE}")

    figures = 0
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        pngs = sum("image/png" in out.get("data", {}) for out in cell.get("outputs", []))
        figures += pngs
        if DRAWS.search(cell.source):
            assert pngs >= 1, f"{path.name}, cell {i}: calls show(...) but drew no figure"
    assert figures >= 1, f"{path.name} drew no figure"
