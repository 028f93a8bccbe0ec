"""Researchers' own event data (ACLED, PLOVER/POLECAT) into the record's format.

What lives here: :func:`import_events` (read and map one export, by format) and
:func:`write_import` (the mapped rows as an ``events.csv``-shaped file that
:func:`calibration.record.load_record` accepts, and the unmapped rows with their reasons
beside it). One module per format (``acled``, ``plover``) says what its columns mean; the
shared reading, tables and checks are in ``common``; the lookup tables are data
(``calibration/data/actor_names.csv``: names to actors; ``event_types.csv``: event types to
actions and weapons; ``site_names.csv``: spellings of the U.S. sites of ``sites.csv``). What
does not live here: the command line (``sim.commands.import_``).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from calibration.importers.acled import read_acled
from calibration.importers.common import ImportResult
from calibration.importers.plover import read_plover
from sim.errors import InputError

#: Format name -> reader.
FORMATS = {"acled": read_acled, "plover": read_plover}

__all__ = ["FORMATS", "ImportResult", "import_events", "unmapped_path", "write_import"]


def import_events(path: str | Path, fmt: str) -> ImportResult:
    """Read and map one export; ``fmt`` is ``acled`` or ``plover``.

    Raises:
        InputError: an unknown format, or bad input in the file (``FILE:LINE`` and column).
    """
    if fmt not in FORMATS:
        raise InputError(None, "--format", f"{fmt!r} is not one of {', '.join(FORMATS)}")
    return FORMATS[fmt](Path(path))


def unmapped_path(out: str | Path) -> Path:
    """Where the unmapped report of ``out`` goes: ``events.csv`` -> ``events.unmapped.csv``."""
    out = Path(out)
    return out.with_name(f"{out.stem}.unmapped.csv")


def _write_atomic(path: Path, text: str) -> None:
    """Write ``text`` through a temporary file in the same folder, then rename it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", newline="", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_import(result: ImportResult, out: str | Path) -> tuple[Path, Path]:
    """Write the mapped rows to ``out`` and the unmapped rows beside it (always, even when
    empty, so a stale report never outlives a new import). Returns both paths."""
    out = Path(out)
    report = unmapped_path(out)
    _write_atomic(out, result.events().to_csv(index=False))
    _write_atomic(report, result.report().to_csv(index=False))
    return out, report
