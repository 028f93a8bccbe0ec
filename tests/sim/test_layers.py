"""Layers point down only (DESIGN.md, "Layout"): the model never imports ``calibration``.

The model is ``sim`` without its command line (``sim/cli.py``, ``sim/commands/``, the
generated references of ``sim/docs.py``) and its page
(``sim/app.py``): those are the top layer, which loads the record and passes it down. The
check reads every import statement, those inside functions too, since a lazy import is still
a dependency.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

SIM = Path(__file__).resolve().parents[2] / "sim"
TOP_LAYER = ("cli.py", "app.py", "docs.py", "commands")


def model_modules() -> list[Path]:
    return sorted(p for p in SIM.rglob("*.py")
                  if p.relative_to(SIM).parts[0] not in TOP_LAYER)


def imported(path: Path) -> list[tuple[int, str]]:
    """(line, top-level package) of every import in the file, at any depth."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name.split(".")[0]) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            out.append((node.lineno, node.module.split(".")[0]))
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(
                node.func, "id", None)) in ("import_module", "__import__") and node.args \
                and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
            out.append((node.lineno, node.args[0].value.split(".")[0]))
    return out


def test_the_model_never_imports_calibration():
    modules = model_modules()
    assert len(modules) > 20 and SIM / "scenario.py" in modules and SIM / "run.py" in modules
    offenders = [f"sim/{p.relative_to(SIM)}:{line}" for p in modules
                 for line, package in imported(p) if package == "calibration"]
    assert not offenders, ("the model imports calibration (give it the record as an argument "
                           "instead; only sim/cli.py, sim/commands/ and sim/app.py may): "
                           + ", ".join(offenders))


def test_importing_the_model_loads_no_calibration():
    names = [".".join(("sim",) + p.relative_to(SIM).with_suffix("").parts)
             .removesuffix(".__init__") for p in model_modules()]
    code = ("import importlib, sys\n"
            f"for name in {names!r}:\n"
            "    importlib.import_module(name)\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'calibration'))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=300)
    assert out.stdout.strip() == "[]"


def test_calibration_may_import_the_model():
    # The other direction is the normal one: calibration sits above the model.
    assert any(package == "sim" for line, package in
               imported(SIM.parent / "calibration" / "record.py"))
