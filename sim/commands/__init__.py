"""The subcommands of ``escalation``, one module each (``add_arguments`` and ``main``).

What lives here besides them: :func:`refuse_to_replace`, the one check every command that
writes a result folder makes before it computes anything.
"""

from __future__ import annotations

from pathlib import Path

from sim.errors import InputError


def refuse_to_replace(out: Path, force: bool) -> None:
    """A folder that holds results is not replaced without ``--force`` (DESIGN.md); checked
    before any simulation, so a long result is never silently lost."""
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())) and not force:
        raise InputError(str(out), "--out", "already holds results; pass --force to replace "
                                            "them, or choose another --out")
