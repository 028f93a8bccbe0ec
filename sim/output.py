"""From engine output (integer codes, arrays) to the tables users read.

What lives here: :func:`events_frame` (the shared event schema, ``source = "sim"``),
:func:`daily_frame` (one row per replicate and date) and :func:`summary_frame` (one row per
replicate: the outcome metrics of DESIGN.md). Both engines' outputs pass through here.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from sim import dynamics as dyn
from sim.kernels import as_int64
from sim.events import classify, conform

_KIND = {**{i: "militia" for i in range(dyn.F)}, dyn.US: "us", dyn.IRAQ_GOV: "iraq",
         dyn.IRAN: "iran", dyn.UMBRELLA: "militia", dyn.UNATTRIBUTED: "militia"}


def _lookup(names: list[str], codes: np.ndarray, missing: str = "") -> np.ndarray:
    table = np.array(list(names) + [missing], dtype=object)
    codes = np.where((codes < 0) | (codes >= len(names)), len(names), codes)
    return table[codes]


#: Columns that vary event by event; every other column is a function of (actor, action,
#: weapon, site, country, target, documented, killed, wounded > 0).
_PER_EVENT = ("day", "replicate", "intercepted", "us_killed", "us_wounded", "coalition_killed",
              "militia_killed", "iraqi_killed", "civilian_killed")
_KIND_KEY = ("actor", "action", "weapon", "site", "country", "target", "documented")


def events_frame(out) -> pd.DataFrame:
    """Simulated events in the event schema (+ ``replicate``), sorted by replicate and date.

    Built column by column: names, description, rung, CAMEO code and Goldstein weight are
    worked out once per kind of event (about 1,300 kinds among the 550,000 events of 1,000
    history replicates, by :func:`_events_frame_rows`, the definition) and each column takes
    its kind's value for every event; the columns that vary event by event are made straight
    from the engine's arrays (no object arrays, no NA inference, no sort to find the kinds).
    ``run()`` at 1,000 replicates spends about 0.1 s here, most of it copying strings into
    the Arrow-backed string columns; tests/sim/test_output.py checks it against the definition.
    """
    ev = out.events
    n = len(ev["day"])
    kinds = _kinds(ev) if n else None
    if kinds is None:
        return _events_frame_rows(out, ev)
    first, inverse = kinds
    per_kind = {c: v[first] for c, v in ev.items()}
    per_kind["replicate"] = np.zeros(len(first), np.int64)
    one = type(out)(np.zeros(1, np.int64), out.timeline, out.sites, per_kind, None, {})
    table = _events_frame_rows(one, per_kind, sort=False)
    unit = table["date"].dt.unit
    start = np.datetime64(out.timeline.start.to_datetime64(), unit).astype(np.int64)
    day_length = np.timedelta64(1, "D") // np.timedelta64(1, unit)
    reps = out.replicates[ev["replicate"]]
    columns = {}
    for c in table.columns:
        if c == "date":
            columns[c] = (start + ev["day"] * day_length).view(f"datetime64[{unit}]")
        elif c == "replicate":
            columns[c] = reps
        elif c == "intercepted":   # -1: not an attack (missing)
            columns[c] = pd.arrays.BooleanArray(ev[c] == 1, ev[c] < 0)
        elif c in _PER_EVENT:      # casualties: never missing in a simulation
            columns[c] = pd.arrays.IntegerArray(ev[c].astype(np.int64), np.zeros(n, bool))
        else:
            columns[c] = table[c].array.take(inverse)
    frame = pd.DataFrame(columns, copy=False)
    day = ev["day"]
    if (np.all(reps[1:] >= reps[:-1])
            and np.all((reps[1:] > reps[:-1]) | (day[1:] >= day[:-1]))):
        return frame     # already in (replicate, date) order, as the engines give it
    return frame.sort_values(["replicate", "date"], kind="stable").reset_index(drop=True)


def presence_frame(out) -> pd.DataFrame:
    """The event columns :func:`sim.outcomes.presence_outcomes` reads (``replicate``,
    ``date``, ``action``, ``actor_kind``, ``country``), with :func:`events_frame`'s values,
    straight from the engine's codes (text columns as categoricals over the names), so that
    ``run()`` works out the presence outcomes without building the events table. Rows in
    the engine's order (the outcomes do not depend on it)."""
    ev = out.events

    def categorical(codes, names):   # out of range: missing (events_frame's "")
        codes = np.where((codes < 0) | (codes >= len(names)), -1, codes)
        return pd.Categorical.from_codes(codes, categories=list(names))

    kinds = list(dict.fromkeys(_KIND.values()))
    kind_of = np.array([kinds.index(_KIND[a]) for a in range(len(dyn.ACTOR_NAMES))])
    start = np.datetime64(out.timeline.start.to_datetime64(), "D")
    return pd.DataFrame({
        "replicate": out.replicates[ev["replicate"]],
        "date": start + ev["day"].astype("timedelta64[D]"),
        "action": categorical(ev["action"], dyn.ACTIONS),
        "actor_kind": pd.Categorical.from_codes(kind_of[ev["actor"]], categories=kinds),
        "country": categorical(ev["country"], dyn.COUNTRY_NAMES),
    }, copy=False)


def _kinds(ev) -> tuple[np.ndarray, np.ndarray] | None:
    """One event of each kind (``first``) and each event's kind (``inverse``: its index in
    ``first``), a kind being the values of ``_KIND_KEY``, the U.S./coalition deaths and
    whether anyone was wounded; None when the kinds do not fit in one integer key."""
    n = len(ev["day"])
    codes = [ev[c] for c in _KIND_KEY] + [ev["us_killed"] + ev["coalition_killed"],
                                          ev["us_wounded"] > 0]
    # Each code's range, with 0 in it: mode="wrap" then sends lo..-1 (missing is -1) to the
    # top of the range, one to one, so the codes need no shifting.
    dims = [int(c.max()) - min(int(c.min()), 0) + 1 for c in codes]
    if math.prod(dims) >= 2 ** 62:   # too many kinds for one integer key
        return None
    key = np.ravel_multi_index(codes, dims, mode="wrap")
    inverse, uniques = pd.factorize(key)
    first = np.empty(len(uniques), np.int64)
    first[inverse] = np.arange(n)    # any event of a kind stands for the kind
    return first, inverse


def _events_frame_rows(out, ev, sort: bool = True) -> pd.DataFrame:
    """:func:`events_frame` event by event (the definition; used on each kind of event)."""
    reps = out.replicates[ev["replicate"]]
    actor = _lookup(dyn.ACTOR_NAMES, ev["actor"])
    action = _lookup(list(dyn.ACTIONS), ev["action"])
    weapon = _lookup(dyn.WEAPON_NAMES, ev["weapon"])
    site = _lookup(out.sites, ev["site"])
    country = _lookup(dyn.COUNTRY_NAMES, ev["country"])
    target = _lookup(dyn.ACTOR_NAMES, ev["target"])
    intercepted = pd.array(np.where(ev["intercepted"] < 0, None, ev["intercepted"] == 1),
                           dtype="boolean")
    frame = pd.DataFrame({
        "date": out.timeline.start + pd.to_timedelta(ev["day"], unit="D"),
        "actor": actor, "actor_kind": [_KIND[int(a)] for a in ev["actor"]],
        "action": action, "weapon": weapon, "site": site, "country": country,
        "intercepted": intercepted,
        **{c: ev[c] for c in ("us_killed", "us_wounded", "coalition_killed", "militia_killed",
                              "iraqi_killed", "civilian_killed")},
        "rung": ev["rung"], "goldstein": 0.0, "cameo": "",
        "description": _describe(action, weapon, site, country, target, ev),
        "source": np.where(ev["documented"] == 1, "sim (documented, replayed)", "sim"),
        "target": target, "replicate": reps,
    })
    frame = classify(conform(frame, replicate=True))
    if not sort:
        return frame
    return frame.sort_values(["replicate", "date"], kind="stable").reset_index(drop=True)


def _describe(action, weapon, site, country, target, ev) -> np.ndarray:
    killed = ev["us_killed"] + ev["coalition_killed"]
    text = np.char.add(np.char.add(action.astype(str), " "), weapon.astype(str))
    text = np.char.add(text, np.where(site != "", np.char.add(" on ", site.astype(str)), ""))
    text = np.char.add(text, np.where((action == "strike") | (action == "leader_strike"),
                                      np.char.add(np.char.add(" on ", target.astype(str)),
                                                  np.char.add(" in ", country.astype(str))), ""))
    text = np.char.add(text, np.where(killed > 0, np.char.add(", killed ", killed.astype(str)),
                                      ""))
    return np.char.strip(np.char.replace(text, "  ", " ")).astype(object)


def daily_frame(out) -> pd.DataFrame:
    """Daily series, one row per (replicate, date)."""
    days, n = out.daily["attacks"].shape
    dates = out.timeline.start + pd.to_timedelta(np.arange(days), unit="D")
    floats = ("sovereignty", "fear", "grievance", "arsenal", "level", "risk", "excitement")
    columns = {"replicate": np.repeat(out.replicates, days), "date": np.tile(dates.values, n)}
    for c, v in out.daily.items():   # column by column; counts as integers
        flat = np.ascontiguousarray(v.T).reshape(-1)
        columns[c] = flat if c in floats else as_int64(flat)
    return pd.DataFrame(columns, copy=False)   # one block per column: no copy into blocks


def summary_frame(out) -> pd.DataFrame:
    """Per-replicate outcomes: counts, highest rung and when, U.S. exit, Iran's direct attack."""
    acc = out.summary
    columns = {"replicate": out.replicates}
    start = out.timeline.start
    for c in dyn.SUMMARY_COLUMNS:
        v = acc[c]
        if c.endswith("_day"):  # a day index, or NEVER -> a date, or NaT
            dates = start + pd.to_timedelta(np.where(v >= 0, v, 0), unit="D")
            columns[c.replace("_day", "_date")] = dates.where(v >= 0)
        elif c in ("us_left_iraq", "iran_direct_attack"):
            columns[c] = v.astype(bool)
        else:
            columns[c] = v
    return pd.DataFrame(columns)   # built at once: no column-by-column inserts
