"""The documented 2019-2024 record (``calibration/data``) and fitting the model to it.

What lives here: the loaders of the record (``calibration.record``), re-exported below;
:func:`documented` bundles what runs, replays and plots are given (``sim.documented``).
What does not: the event schema (``sim.events``) and the model itself (``sim``).
"""

from calibration.record import (documented, load_episodes, load_factions, load_record,
                                load_sites, load_tallies)

__all__ = ["load_record", "load_tallies", "load_factions", "load_sites", "load_episodes",
           "documented"]
