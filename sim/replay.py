"""History replay: the documented actions that a scenario forces, day by day.

A scenario's ``[replay]`` names actor kinds whose decisions are taken from the record
(``force``), documented events to delete (``remove``, by event_id) and events to add
(``add``, in the record's columns). Added events always happen; the record's events happen
only for forced actor kinds. That is how "what if the strike of 2020-01-03 had not happened"
is asked: force the U.S. record, remove that strike, let Iran decide for itself.

``until`` ends the forcing on a day: up to it the forced actors act as the record says (their
state, Iran's risk and the militias' fear and grievance, follows what happened); after it
they decide for themselves. That is a forecast conditioned on the documented history (data
assimilation by replay), as a forecaster at that date would make it.

The record's events come with the scenario (``Replay.documented``, set by
``load_scenario(path, record=...)``): the model is given the record, it does not load it.

What does not live here: what a forced event does to the state (``sim.dynamics``), loading
the record (``calibration.record``).
"""

from __future__ import annotations

from collections import defaultdict

import pandas as pd

from sim.arrays import COUNTRY_CODES, Timeline
from sim.documented import HOW_TO_GET
from sim.dynamics import ACTOR_NAMES, COUNTRY_NAMES, F, WEAPON_NAMES
from sim.errors import InputError
from sim.events import EVENT_COLUMNS, FACTIONS
from sim.params import Replay

FORCEABLE = ("us", "militia", "iran", "iraq")
_ACTOR_CODE = {name: i for i, name in enumerate(ACTOR_NAMES)}
_WEAPON_CODE = {name: i for i, name in enumerate(WEAPON_NAMES)}
_COUNTRY_CODE = {name: i for i, name in enumerate(COUNTRY_NAMES)}


class Schedule:
    """Documented events by day and actor kind, ready for the dynamics."""

    def __init__(self, forced: set[str], by_day: dict[int, dict[str, list[dict]]],
                 exits: dict[int, list[int]], forced_days: int | None = None):
        self.forced = forced
        self.by_day = by_day
        self.exits = exits
        #: Days 0 .. forced_days - 1 are forced (``replay.until``); None: every day.
        self.forced_days = forced_days

    def is_forced(self, day: int, kind: str) -> bool:
        """Whether the record decides for ``kind`` on ``day``."""
        return kind in self.forced and (self.forced_days is None or day < self.forced_days)

    def get(self, day: int, kind: str) -> list[dict] | None:
        """The documented events of ``kind`` today, or None when ``kind`` decides itself
        (and nothing was added for it today)."""
        events = self.by_day.get(day, {}).get(kind)
        if self.is_forced(day, kind):
            return events or []
        return events


def build_schedule(replay: Replay, timeline: Timeline, sites: list[str]) -> Schedule:
    """Turn a scenario's ``[replay]`` into a :class:`Schedule` over the run's days."""
    forced = set(replay.force)
    bad = forced - set(FORCEABLE)
    if bad:
        raise InputError(None, "replay.force", f"unknown actor kind {sorted(bad)[0]!r}; "
                         f"allowed: {', '.join(FORCEABLE)}")
    rows = []
    forced_days = None
    if replay.until is not None:
        forced_days = max(0, min(timeline.day_of(pd.Timestamp(replay.until)) + 1, timeline.days))
    if forced or replay.remove:
        record = replay.documented
        if record is None:
            raise InputError(None, "replay", "history replay (replay.force, replay.remove) "
                             f"needs the documented record; {HOW_TO_GET}")
        missing = set(replay.remove) - set(record["event_id"])
        if missing:
            raise InputError(None, "replay.remove",
                             f"no documented event {sorted(missing)[0]!r}")
        keep = record[record["actor_kind"].isin(forced) & ~record["event_id"].isin(replay.remove)]
        if replay.until is not None:   # the record after ``until`` is the forecast's to make
            keep = keep[pd.to_datetime(keep["date"]) <= pd.Timestamp(replay.until)]
        rows += keep.to_dict("records")
    for i, ev in enumerate(replay.add):
        for key in ("date", "actor_kind", "action"):
            if key not in ev:
                raise InputError(None, f"replay.add[{i}].{key}", "required")
        rows.append({**{c: None for c in EVENT_COLUMNS}, **ev, "added": True})
    by_day: dict[int, dict[str, list[dict]]] = defaultdict(lambda: defaultdict(list))
    exits: dict[int, list[int]] = defaultdict(list)
    for ev in rows:
        day = timeline.day_of(pd.Timestamp(ev["date"]))
        if not 0 <= day < timeline.days:
            continue
        if ev["action"] == "exit":
            exits[day].append(COUNTRY_CODES.get(ev.get("country") or "iraq", 0))
            continue
        by_day[day][ev["actor_kind"]].append(_prepare(ev, sites))
    return Schedule(forced, {d: dict(v) for d, v in by_day.items()}, dict(exits), forced_days)


def _num(ev: dict, key: str) -> int:
    v = ev.get(key)
    return 0 if v is None or pd.isna(v) else int(v)


def _prepare(ev: dict, sites: list[str]) -> dict:
    """The fields the dynamics read, with codes and missing counts as zero."""
    target = ev.get("target") or ""
    target = "" if pd.isna(target) else str(target)
    actor = str(ev.get("actor") or "")
    out = {
        "action": str(ev["action"]),
        "actor_code": _ACTOR_CODE.get(actor, _ACTOR_CODE["unattributed"]),
        "target_code": _ACTOR_CODE.get(target, F),
        # A strike on "iran" (2020-01-03) also hit Kataib Hezbollah's leadership (Muhandis).
        "target": FACTIONS.index(target) if target in FACTIONS else 0,
        # Only a leader strike on "iran" kills Iranian commanders (2020-01-03); strikes on
        # IRGC-linked facilities in Syria (target "iran", 2023-2024) do not.
        "target_is_iran": target == "iran" and ev["action"] == "leader_strike",
        "leaders": ev["action"] == "leader_strike",
        "country": _COUNTRY_CODE.get(str(ev.get("country") or "iraq"), 0),
        "weapon": _WEAPON_CODE.get(str(ev.get("weapon") or ""), _WEAPON_CODE["unknown"]),
        "site": str(ev.get("site") or ""),
        # A documented site the model does not simulate (e.g. harir) is logged without one.
        "site_code": sites.index(ev["site"]) if ev.get("site") in sites else -1,
        "intercepted": -1 if ev.get("intercepted") is None or pd.isna(ev.get("intercepted"))
        else int(bool(ev["intercepted"])),
    }
    for key in ("us_killed", "us_wounded", "coalition_killed", "militia_killed",
                "iraqi_killed", "civilian_killed"):
        out[key] = _num(ev, key)
    return out
