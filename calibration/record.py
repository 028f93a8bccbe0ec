"""Loading and validating the documented record in ``calibration/data``.

What lives here: one loader per data file (events, tallies, factions, sites, episodes). Each
checks every row against a pydantic row model and stops at the first bad row with an
:class:`~sim.errors.InputError` naming ``file:line``, the column and what is allowed, so a
typo in the data is found where it is, not as a wrong number in a calibration run.

What does not live here: the data themselves (``calibration/data/*.csv``, with their sources),
the event vocabularies and the escalation ladder (``sim.events``), summaries and figures of
the record (``sim.commands.record``, ``sim.plots.record``), and fitting the model.
"""

from __future__ import annotations

import csv
import re
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Iterable

import pandas as pd
from pydantic import (BaseModel, BeforeValidator, ConfigDict, ValidationError, ValidationInfo,
                      model_validator)

from sim import events as ev
from sim.documented import Documented
from sim.errors import InputError

#: Where the packaged data files live (shipped as package data, see pyproject.toml).
DATA_DIR = Path(__file__).parent / "data"

#: The model's default window (DESIGN.md); a dated row outside it is a typo or out of scope.
WINDOW: tuple[date, date] = (date(2019, 10, 1), date(2024, 12, 31))

#: Geographic scopes of a tally: counts are published for Iraq, Syria or both (and, in the
#: 2023-2024 campaign, including the Tower 22 attack in Jordan).
SCOPES: tuple[str, ...] = ("iraq", "syria", "iraq_syria", "iraq_syria_jordan")

#: How far a reader can trust a row's source (DESIGN.md): an official release (Pentagon,
#: CENTCOM, State Department, the Iraqi government), a major outlet (AP, Reuters, AFP, ...), a
#: research tracker (the Washington Institute, ACLED, ISW/CTP, ...) or anything else. A row with
#: several sources takes the best of them.
SOURCE_QUALITIES: tuple[str, ...] = ("official", "major_outlet", "tracker", "other")

#: How a tally's source words its count: "19 attacks" (exact), "at least 100" / "more than
#: 165" (at_least), "fewer than" (at_most), "about 66" / "nearly three dozen" (about).
BOUNDS: tuple[str, ...] = ("exact", "at_least", "at_most", "about")

#: Columns the record keeps beyond the event schema, in this order after the schema's.
RECORD_EXTRA_COLUMNS: tuple[str, ...] = (
    "source_quality", "event_id", "us_wounded_high", "militia_killed_high", "iraqi_killed_high",
    "estimate", "note",
)

TARGETS: tuple[str, ...] = ev.MILITIA_ACTORS + ("us", "iraq", "iran")


# --- Cell validators ----------------------------------------------------------------------
# Each takes the raw CSV text and returns the typed value or raises ValueError with a message
# that says what is allowed; the message becomes the InputError's message unchanged.

class RowError(ValueError):
    """A check across columns that failed; ``field`` is the column to blame."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


def _text(value: Any) -> str:
    return str(value).strip()


def _required(value: Any) -> str:
    text = _text(value)
    if not text:
        raise ValueError("must not be empty")
    return text


def _day(value: Any) -> date:
    text = _text(value)
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            raise ValueError
        day = date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a date (YYYY-MM-DD)") from None
    if not WINDOW[0] <= day <= WINDOW[1]:
        raise ValueError(f"{day} is outside the record's window {WINDOW[0]}..{WINDOW[1]}")
    return day


def _count(value: Any) -> int | None:
    text = _text(value)
    if not text:
        return None
    if not text.isdigit():
        raise ValueError(f"{text!r} is not a non-negative integer (or empty)")
    return int(text)


def _required_count(value: Any) -> int:
    text = _text(value)
    if not text.isdigit():
        raise ValueError(f"{text!r} is not a non-negative integer")
    return int(text)


def _flag(value: Any) -> bool:
    text = _text(value).lower()
    if text not in ("true", "false"):
        raise ValueError(f"{_text(value)!r} is not true or false")
    return text == "true"


def _maybe_flag(value: Any) -> bool | None:
    text = _text(value).lower()
    if text not in ("true", "false", ""):
        raise ValueError(f"{_text(value)!r} is not true, false or empty (unknown)")
    return None if not text else text == "true"


def _one_of(allowed: Iterable[str]) -> BeforeValidator:
    """A validator accepting only ``allowed`` values ("" allowed only if listed)."""
    allowed = tuple(allowed)
    shown = ", ".join(a for a in allowed if a) + (" or empty" if "" in allowed else "")

    def check(value: Any) -> str:
        text = _text(value)
        if text not in allowed:
            raise ValueError(f"{text!r} is not one of {shown}")
        return text
    return BeforeValidator(check)


def _list_of(allowed: Iterable[str]) -> BeforeValidator:
    """A validator for a ``;``-separated list whose items must be in ``allowed``."""
    allowed = tuple(a for a in allowed if a)

    def check(value: Any) -> str:
        items = [i.strip() for i in _text(value).split(";") if i.strip()]
        for item in items:
            if item not in allowed:
                raise ValueError(f"{item!r} is not one of {', '.join(allowed)} "
                                 "(items separated by ';')")
        return ";".join(items)
    return BeforeValidator(check)


Text = Annotated[str, BeforeValidator(_text)]
Required = Annotated[str, BeforeValidator(_required)]
Day = Annotated[date, BeforeValidator(_day)]
Count = Annotated[int | None, BeforeValidator(_count)]
RequiredCount = Annotated[int, BeforeValidator(_required_count)]
Flag = Annotated[bool, BeforeValidator(_flag)]
MaybeFlag = Annotated[bool | None, BeforeValidator(_maybe_flag)]


def _not_below(row: BaseModel, high: str, low: str) -> None:
    hi, lo = getattr(row, high), getattr(row, low)
    if hi is not None and lo is not None and hi < lo:
        raise RowError(high, f"{hi} is below {low} ({lo}); the high estimate must be >= it")


# --- Row models (field order = column order of the file) ---------------------------------

class _Row(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EventRow(_Row):
    """One documented event (``events.csv``)."""

    event_id: Required
    date: Day
    actor: Required
    actor_kind: Annotated[str, _one_of(ev.ACTOR_KINDS)]
    action: Annotated[str, _one_of(ev.ALL_ACTIONS)]
    target: Annotated[str, _one_of(("",) + TARGETS)]
    weapon: Annotated[str, _one_of(ev.WEAPONS)]
    site: Text
    country: Annotated[str, _one_of(ev.COUNTRIES)]
    intercepted: MaybeFlag
    us_killed: Count
    us_wounded: Count
    coalition_killed: Count
    militia_killed: Count
    iraqi_killed: Count
    civilian_killed: Count
    us_wounded_high: Count
    militia_killed_high: Count
    iraqi_killed_high: Count
    estimate: Flag
    description: Text
    source: Required
    source_quality: Annotated[str, _one_of(SOURCE_QUALITIES)]
    note: Text

    @model_validator(mode="after")
    def _consistent(self) -> "EventRow":
        if self.actor_kind == "militia":
            if self.actor not in ev.MILITIA_ACTORS:
                raise RowError("actor", f"{self.actor!r} is not a militia actor; one of "
                                        f"{', '.join(ev.MILITIA_ACTORS)}")
        elif self.actor != self.actor_kind:
            raise RowError("actor", f"{self.actor!r} does not match actor_kind "
                                    f"{self.actor_kind!r}; it must be {self.actor_kind!r}")
        allowed = ev.ACTIONS[self.actor_kind]
        if self.action not in allowed:
            raise RowError("action", f"{self.action!r} is not an action of actor_kind "
                                     f"{self.actor_kind!r}; one of {', '.join(allowed)}")
        for col in ("us_wounded", "militia_killed", "iraqi_killed"):
            _not_below(self, f"{col}_high", col)
        return self


class TallyRow(_Row):
    """A published count over a period (``tallies.csv``), e.g. attacks Oct 2023-Feb 2024."""

    tally_id: Required
    start: Day
    end: Day
    measure: Required
    scope: Annotated[str, _one_of(SCOPES)]
    count: RequiredCount
    count_high: Count
    bound: Annotated[str, _one_of(BOUNDS)]
    source: Required
    note: Text

    @model_validator(mode="after")
    def _consistent(self) -> "TallyRow":
        if self.end < self.start:
            raise RowError("end", f"{self.end} is before start {self.start}")
        _not_below(self, "count_high", "count")
        return self


class FactionRow(_Row):
    """A militia faction and what is known of its size and arsenal (``factions.csv``)."""

    faction: Annotated[str, _one_of(ev.MILITIA_ACTORS)]
    name: Required
    founded: Text
    leaders: Text
    fighters_low: Count
    fighters_high: Count
    weapons: Annotated[str, _list_of(ev.WEAPONS)]
    us_designation: Text
    in_seeds: Flag
    source: Required
    note: Text

    @model_validator(mode="after")
    def _consistent(self) -> "FactionRow":
        _not_below(self, "fighters_high", "fighters_low")
        return self


class SiteRow(_Row):
    """A U.S./coalition site and its troop numbers (``sites.csv``)."""

    site: Required
    name: Required
    country: Annotated[str, _one_of(tuple(c for c in ev.COUNTRIES if c))]
    troops_low: Count
    troops_high: Count
    source: Required
    note: Text

    @model_validator(mode="after")
    def _consistent(self) -> "SiteRow":
        _not_below(self, "troops_high", "troops_low")
        return self


class EpisodeRow(_Row):
    """A named period of the record (``episodes.csv``), shaded in the figures."""

    episode_id: Required
    start: Day
    end: Day
    label: Required
    source: Required

    @model_validator(mode="after")
    def _consistent(self) -> "EpisodeRow":
        if self.end < self.start:
            raise RowError("end", f"{self.end} is before start {self.start}")
        return self


# --- Reading ------------------------------------------------------------------------------

def _first_error(err: ValidationError) -> tuple[str | None, str]:
    """The column and message of pydantic's first error, as the user should read them."""
    first = err.errors()[0]
    cause = first.get("ctx", {}).get("error")
    field = getattr(cause, "field", None) or (str(first["loc"][0]) if first["loc"] else None)
    return field, str(cause) if cause is not None else first["msg"]


def _read(path: Path, model: type[_Row], key: str) -> list[dict[str, Any]]:
    """Validate every row of a CSV file; raise InputError at the first bad one.

    The csv module (not pandas) reads the file so that line numbers stay exact even when a
    quoted description spans lines: a row's line is the line where it starts, header = 1.
    """
    name = path.name
    columns = list(model.model_fields)
    if not path.is_file():
        raise InputError(str(path), None, "no such file")
    rows: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        header = [h.strip() for h in next(reader, [])]
        for col in columns:
            if col not in header:
                raise InputError(f"{name}:1", col, f"missing column; {name} needs the columns "
                                                   f"{', '.join(columns)}")
        for col in header:
            if col not in columns:
                raise InputError(f"{name}:1", col or "(empty)",
                                 f"unknown column; {name} has the columns {', '.join(columns)}")
        end = reader.line_num
        for cells in reader:
            line, end = end + 1, reader.line_num
            if not any(c.strip() for c in cells):
                continue
            where = f"{name}:{line}"
            if len(cells) != len(header):
                raise InputError(where, None, f"{len(cells)} cells but the header has "
                                              f"{len(header)} columns")
            try:
                row = model.model_validate(dict(zip(header, cells))).model_dump()
            except ValidationError as err:
                raise InputError(where, *_first_error(err)) from None
            if row[key] in seen:
                raise InputError(where, key, f"{row[key]!r} repeats line {seen[row[key]]}; "
                                             f"each {key} must be unique")
            seen[row[key]] = line
            rows.append(row)
    return rows


def _frame(rows: list[dict[str, Any]], model: type[_Row], dtypes: dict[str, str]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=list(model.model_fields))
    for col, dtype in dtypes.items():
        frame[col] = pd.to_datetime(frame[col]) if dtype == "datetime" else frame[col].astype(dtype)
    return frame


def _path(path: str | Path | None, name: str) -> Path:
    return Path(path) if path is not None else DATA_DIR / name


def _text_dtypes(model: type[_Row]) -> dict[str, str]:
    return {c: "string" for c, f in model.model_fields.items() if f.annotation is str}


# --- Loaders ------------------------------------------------------------------------------

def load_record(path: str | Path | None = None) -> pd.DataFrame:
    """The documented events in the event schema, validated, sorted by date then event_id.

    Columns: ``sim.events.EVENT_COLUMNS`` and ``EXTRA_COLUMNS`` (dtypes by
    :func:`sim.events.conform`, ``rung``/``cameo``/``goldstein`` by
    :func:`sim.events.classify`, so the record and simulations share one ladder), then
    :data:`RECORD_EXTRA_COLUMNS` (the id, high estimates, the estimate flag and the note).

    Args:
        path: an ``events.csv``; default the packaged one.

    Raises:
        InputError: at the first bad row, naming ``events.csv:LINE`` and the column.
    """
    rows = _read(_path(path, "events.csv"), EventRow, "event_id")
    frame = pd.DataFrame(rows, columns=list(EventRow.model_fields))
    events = ev.conform(ev.classify(frame))
    for col in ("us_wounded_high", "militia_killed_high", "iraqi_killed_high"):
        events[col] = events[col].astype("Int64")
    events["event_id"] = events["event_id"].astype("string")
    events["note"] = events["note"].astype("string")
    events["source_quality"] = events["source_quality"].astype("string")
    events["estimate"] = events["estimate"].astype(bool)
    contract = list(ev.EVENT_COLUMNS) + list(ev.EXTRA_COLUMNS)
    events = events[contract + list(RECORD_EXTRA_COLUMNS)]
    return events.sort_values(["date", "event_id"], kind="stable").reset_index(drop=True)


def load_tallies(path: str | Path | None = None) -> pd.DataFrame:
    """Published counts over periods, the record's answer where single events are unknown.

    Most of the ~170 attacks of October 2023-February 2024 are known only as counts, so
    calibration compares simulated totals over these periods with ``count`` (and
    ``count_high`` when sources differ). Sorted by start then tally_id.
    """
    rows = _read(_path(path, "tallies.csv"), TallyRow, "tally_id")
    frame = _frame(rows, TallyRow, {**_text_dtypes(TallyRow), "start": "datetime",
                                    "end": "datetime", "count": "int64",
                                    "count_high": "Int64"})
    return frame.sort_values(["start", "tally_id"], kind="stable").reset_index(drop=True)


def load_factions(path: str | Path | None = None) -> pd.DataFrame:
    """Militia factions with size, arsenal and designation, seeding the militia agents."""
    rows = _read(_path(path, "factions.csv"), FactionRow, "faction")
    return _frame(rows, FactionRow, {**_text_dtypes(FactionRow), "fighters_low": "Int64",
                                     "fighters_high": "Int64", "in_seeds": "bool"})


def load_sites(path: str | Path | None = None) -> pd.DataFrame:
    """U.S./coalition sites with troop numbers, seeding the U.S. bases."""
    rows = _read(_path(path, "sites.csv"), SiteRow, "site")
    return _frame(rows, SiteRow, {**_text_dtypes(SiteRow), "troops_low": "Int64",
                                  "troops_high": "Int64"})


def load_episodes(path: str | Path | None = None) -> pd.DataFrame:
    """Named periods of the record, shaded on every timeline. Sorted by start."""
    rows = _read(_path(path, "episodes.csv"), EpisodeRow, "episode_id")
    frame = _frame(rows, EpisodeRow, {**_text_dtypes(EpisodeRow), "start": "datetime",
                                      "end": "datetime"})
    return frame.sort_values(["start", "episode_id"], kind="stable").reset_index(drop=True)


def documented(path: str | Path | None = None) -> Documented:
    """The record's events, tallies and episodes, as runs, replays and plots are given them.

    The model never loads the record itself (DESIGN.md, "Layers"): the command line, the page
    and notebooks call this and pass the result, e.g. ``load_scenario(path, record=documented())``.

    Args:
        path: a folder holding events.csv, tallies.csv and episodes.csv; default the packaged
            ``calibration/data``.
    """
    folder = Path(path) if path is not None else None
    return Documented(
        events=load_record(folder / "events.csv" if folder else None),
        tallies=load_tallies(folder / "tallies.csv" if folder else None),
        episodes=load_episodes(folder / "episodes.csv" if folder else None))
