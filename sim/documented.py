"""The documented record as the model is given it: data passed in, never a layer imported.

What lives here: :class:`Documented`, the tables of the record that runs, replays and plots
use (events in the event schema of ``sim.events``, tallies, episodes), and
:func:`as_documented`, which accepts either that bundle or a bare events table.

What does not: reading and checking the record's files (``calibration.record``; the
command line and the page call ``calibration.documented()`` and pass the result down).
The model (``sim`` without ``sim.cli``, ``sim.commands`` and ``sim.app``) never imports
``calibration``; ``tests/sim/test_layers.py`` keeps it so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

#: How to get a record when a function needs one and was not given it.
HOW_TO_GET = ("pass the documented record, e.g. load_scenario(path, record=documented()) "
              "with `from calibration import documented`")


@dataclass(frozen=True, eq=False)
class Documented:
    """Tables of the documented record.

    Attributes:
        events: documented events in the event schema, with ``event_id`` (``load_record()``).
        tallies: documented counts over periods (``load_tallies()``), or None.
        episodes: named periods drawn as bands on figures (``load_episodes()``), or None.
    """

    events: pd.DataFrame
    tallies: pd.DataFrame | None = None
    episodes: pd.DataFrame | None = None


def as_documented(record: Any) -> Documented | None:
    """``record`` as a :class:`Documented`: None stays None, a DataFrame is its events."""
    if record is None or isinstance(record, Documented):
        return record
    if isinstance(record, pd.DataFrame):
        return Documented(events=record)
    raise TypeError(f"expected a Documented record or an events DataFrame, got "
                    f"{type(record).__name__}")
