"""What every importer shares: reading an export, the actor and event-type tables, one
mapped row in the record's format, and writing the result.

What lives here: :func:`read_rows` (a CSV/TSV export read with exact line numbers, its header
checked, each row's width checked), the lookup tables of ``calibration/data``
(:func:`actor_table`, :func:`event_type_table`), :func:`resolve` (which side of an event is
whom), :func:`record_row` (one row of ``events.csv``, checked by the record's own row model)
and :class:`ImportResult`. What does not: the meaning of one dataset's columns
(``calibration.importers.acled``, ``calibration.importers.plover``).

Bad input (a missing column, a row of the wrong width, a bad date or number) raises
:class:`~sim.errors.InputError` naming ``file:line`` and the column; rows that are well formed
but outside the record's scope (an actor the tables do not know, an event type the model has
no action for, a date outside the window) are not errors: they go to the unmapped report with
their reason, so nothing is silently dropped.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator

import pandas as pd
from pydantic import ValidationError

from calibration.record import DATA_DIR, WINDOW, EventRow, _first_error
from sim import events as ev
from sim.errors import InputError

#: Columns of the unmapped report, in order.
UNMAPPED_COLUMNS: tuple[str, ...] = ("line", "id", "date", "actor", "other_side", "event_type",
                                     "detail", "country", "reason")
#: Kinds an actor name can map to: the schema's actor kinds, plus ``coalition`` (non-U.S.
#: coalition forces and contractors, which are only ever the target of an attack).
ACTOR_KINDS: tuple[str, ...] = ev.ACTOR_KINDS + ("coalition",)
COUNTRIES: dict[str, str] = {"iraq": "iraq", "syria": "syria", "jordan": "jordan",
                             "iran": "iran", "irq": "iraq", "syr": "syria", "jor": "jordan",
                             "irn": "iran", "iq": "iraq", "sy": "syria", "jo": "jordan",
                             "ir": "iran"}


# --- Reading ------------------------------------------------------------------------------

def header_key(text: str) -> str:
    """A header cell as a column key: ``"Event Date"`` and ``"event_date"`` both give
    ``event_date`` (exports differ in case and spacing)."""
    return re.sub(r"[^a-z0-9]+", "_", text.strip().lower()).strip("_")


def read_rows(path: Path, required: tuple[str, ...], aliases: dict[str, str],
              what: str) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield ``(line, row)`` for each non-empty row of a CSV or TSV export.

    The csv module (not pandas) reads the file so that a row's line is where it starts even
    when a quoted note spans lines (header = line 1), as ``calibration.record`` does.
    Header cells are normalised by :func:`header_key` and renamed by ``aliases``.

    Raises:
        InputError: no such file, a missing required column (``FILE:1``), or a row whose
            number of cells differs from the header's (``FILE:LINE``).
    """
    name = path.name
    if not path.is_file():
        raise InputError(str(path), None, "no such file")
    try:
        yield from _read_rows(path, required, aliases, what)
    except UnicodeDecodeError:
        raise InputError(name, None, f"not UTF-8 text; {what} is read as CSV or TSV "
                                     "(save a spreadsheet as CSV UTF-8)") from None
    except csv.Error as err:
        raise InputError(name, None, f"not a readable CSV or TSV file ({err})") from None


def _read_rows(path: Path, required: tuple[str, ...], aliases: dict[str, str],
               what: str) -> Iterator[tuple[int, dict[str, str]]]:
    name = path.name
    with path.open(newline="", encoding="utf-8-sig") as handle:
        first = handle.readline()
        handle.seek(0)
        delimiter = "\t" if first.count("\t") > first.count(",") else ","
        reader = csv.reader(handle, delimiter=delimiter)
        header = [aliases.get(header_key(h), header_key(h)) for h in next(reader, [])]
        for col in required:
            if col not in header:
                raise InputError(f"{name}:1", col, f"missing column; {what} needs the columns "
                                                   f"{', '.join(required)}")
        end = reader.line_num
        for cells in reader:
            line, end = end + 1, reader.line_num
            if not any(c.strip() for c in cells):
                continue
            if len(cells) != len(header):
                raise InputError(f"{name}:{line}", None, f"{len(cells)} cells but the header "
                                                         f"has {len(header)} columns")
            yield line, {h: c.strip() for h, c in zip(header, cells)}


def parse_date(text: str, where: str, column: str) -> date:
    """An ISO date (``2024-01-28``) or ACLED's older day-month-year (``28 January 2024``)."""
    for fmt in ("%Y-%m-%d", "%d %B %Y", "%d-%B-%Y", "%d %b %Y"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise InputError(where, column, f"{text!r} is not a date (YYYY-MM-DD or e.g. "
                                    "'28 January 2024')")


def parse_count(text: str, where: str, column: str) -> int | None:
    """A non-negative integer, or None when empty."""
    if not text:
        return None
    if not text.isdigit():
        raise InputError(where, column, f"{text!r} is not a non-negative integer (or empty)")
    return int(text)


def in_window(day: date) -> bool:
    return WINDOW[0] <= day <= WINDOW[1]


def out_of_scope(ident: str, line: int, seen: dict[str, int], day: date, country: str,
                 event_type: str, known_types: set[str], type_label: str) -> str | None:
    """Why a row is not kept before its actors are read (a repeated id, a date outside the
    window, a country or event type outside the model's scope), or None; every importer
    screens its rows the same way. Records the row's id in ``seen``."""
    if ident in seen:
        return f"duplicate id: {ident} (line {seen[ident]})"
    seen[ident] = line
    if not in_window(day):
        return f"date outside window: {day} is not in {WINDOW[0]}..{WINDOW[1]}"
    if COUNTRIES.get(country.strip().lower()) is None:
        return f"country outside scope: {country!r}"
    if event_type.strip().lower() not in known_types:
        return f"event type outside scope: {type_label}"
    return None


# --- Tables -------------------------------------------------------------------------------

def name_key(name: str) -> str:
    """An actor name as a lookup key: case, accents, apostrophes, hyphens and ACLED's period
    suffix ("(2021-)") do not matter, so "Kata'ib Hizballah" and "kataib hizballah" meet."""
    text = unicodedata.normalize("NFKD", name)
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    text = re.sub(r"\(\d{4}-(\d{4})?\)", " ", text)
    text = re.sub(r"['\u2019\u2018`\u02bf\u02be]", "", text)
    return re.sub(r"[^a-z0-9]+", " ", text).strip()


@dataclass(frozen=True)
class Actor:
    """A mapped actor name: its kind (``militia``, ``us``, ``iraq``, ``iran``, ``coalition``)
    and key (a faction key for militias, else the kind)."""

    kind: str
    key: str
    name: str


@lru_cache(maxsize=4)
def actor_table(path: Path = DATA_DIR / "actor_names.csv") -> dict[str, Actor]:
    """``calibration/data/actor_names.csv`` as {name key: Actor}; checked on load."""
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    out: dict[str, Actor] = {}
    allowed = {"militia": ev.MILITIA_ACTORS, "us": ("us",), "iraq": ("iraq",),
               "iran": ("iran",), "coalition": ("coalition",)}
    for i, row in enumerate(table.itertuples(index=False), start=2):
        where = f"{path.name}:{i}"
        if row.actor_kind not in allowed:
            raise InputError(where, "actor_kind", f"{row.actor_kind!r} is not one of "
                                                  f"{', '.join(allowed)}")
        if row.actor not in allowed[row.actor_kind]:
            raise InputError(where, "actor", f"{row.actor!r} is not one of "
                                             f"{', '.join(allowed[row.actor_kind])}")
        key = name_key(row.name)
        if key in out and out[key].key != row.actor:
            raise InputError(where, "name", f"{row.name!r} is already mapped to "
                                            f"{out[key].key!r}")
        out[key] = Actor(row.actor_kind, row.actor, row.name)
    return out


@dataclass(frozen=True)
class EventType:
    """One row of ``event_types.csv``: an event type (and detail) done by an actor kind to
    the other side, and the record's action and weapon for it."""

    event_type: str
    detail: str
    actor_kind: str
    other_side: str
    action: str
    weapon: str
    intercepted: str
    sides: str


@lru_cache(maxsize=4)
def event_type_table(dataset: str, path: Path = DATA_DIR / "event_types.csv"
                     ) -> tuple[EventType, ...]:
    """The rows of ``calibration/data/event_types.csv`` for one dataset, checked on load."""
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    rows = []
    for i, row in enumerate(table.itertuples(index=False), start=2):
        if row.dataset != dataset:
            continue
        where = f"{path.name}:{i}"
        if row.action not in ev.ACTIONS.get(row.actor_kind, ()):
            raise InputError(where, "action", f"{row.action!r} is not an action of "
                                              f"{row.actor_kind!r}")
        if row.weapon not in ev.WEAPONS:
            raise InputError(where, "weapon", f"{row.weapon!r} is not one of "
                                              f"{', '.join(w for w in ev.WEAPONS if w)}")
        if row.sides not in ("1", "either"):
            raise InputError(where, "sides", f"{row.sides!r} is not 1 or either")
        rows.append(EventType(row.event_type, row.detail, row.actor_kind, row.other_side,
                              row.action, row.weapon, row.intercepted, row.sides))
    return tuple(rows)


def lookup(names: list[str]) -> tuple[list[Actor], list[str]]:
    """The mapped actors among ``names`` (empty names skipped) and the unknown names."""
    table = actor_table()
    found, unknown = [], []
    for name in names:
        if not name:
            continue
        actor = table.get(name_key(name))
        (found.append(actor) if actor else unknown.append(name))
    return found, unknown


def split_names(*cells: str) -> list[str]:
    """Actor names from cells that may hold several separated by ``;`` (ACLED's associated
    actors) or ``|``."""
    return [n.strip() for c in cells for n in re.split(r"[;|]", c or "") if n.strip()]


def _matches(side: list[Actor], kind: str) -> list[Actor]:
    if kind == "any":
        return side
    if kind == "us":
        return [a for a in side if a.kind in ("us", "coalition")]
    return [a for a in side if a.kind == kind]


def _best(actors: list[Actor]) -> Actor:
    """A named faction before the umbrella, before an unattributed group."""
    rank = {"unattributed": 2, "islamic_resistance_in_iraq": 1}
    return sorted(actors, key=lambda a: rank.get(a.key, 0))[0]


@dataclass
class Resolved:
    """Who did what to whom, once an event's sides are mapped."""

    kind: EventType
    actor: Actor
    target: Actor | None


def resolve(types: tuple[EventType, ...], event_type: str, detail: str,
            side1: list[Actor], side2: list[Actor]) -> Resolved | None:
    """The first event-type row that fits the two sides, or None.

    A row fits when side 1 holds an actor of its ``actor_kind`` and side 2 one of its
    ``other_side`` (``us`` includes coalition forces); with ``sides = either`` the sides may
    also be the other way round (ACLED's actor order is not a direction). Rows whose detail is
    ``*`` fit any detail, after the rows that name it.
    """
    detail = detail.strip().lower()
    for t in types:
        if t.event_type.lower() != event_type.strip().lower():
            continue
        if t.detail != "*" and t.detail.lower() != detail and t.detail.lower() not in detail:
            continue
        orders = [(side1, side2)] + ([(side2, side1)] if t.sides == "either" else [])
        for doer, other in orders:
            doers = [a for a in doer if a.kind == t.actor_kind]
            others = _matches(other, t.other_side)
            if doers and (others or t.other_side == "any"):
                return Resolved(t, _best(doers), _best(others) if others else None)
    return None


@lru_cache(maxsize=4)
def site_table(path: Path = DATA_DIR / "site_names.csv") -> tuple[tuple[str, str], ...]:
    """``calibration/data/site_names.csv`` as (spelling key, site) pairs, in file order (the
    more specific spellings first)."""
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    return tuple((name_key(r.spelling), r.site) for r in table.itertuples(index=False))


#: Actions aimed at a U.S./coalition site: their ``site`` is the site's key.
SITE_ACTIONS: tuple[str, ...] = ("attack", "storming", "state_attack")


def site_of(action: str, location: str, text: str = "") -> str:
    """The record's ``site`` of an imported event.

    An attack's site is the U.S./coalition site its location or description names
    (``site_names.csv``: "Ain al-Asad", "Victory base", "Tower 22" ...), else empty
    (unknown). A strike's site is the place struck, as a key ("Al Qaim" -> ``al_qaim``), as
    the record writes it. Other acts have none.
    """
    if action in SITE_ACTIONS:
        haystack = f" {name_key(location)} {name_key(text)} "
        for key, site in site_table():
            if f" {key} " in haystack:
                return site
        return ""
    if action in ("strike", "leader_strike"):
        return name_key(location).replace(" ", "_")
    return ""


# --- Output -------------------------------------------------------------------------------

COLUMNS: tuple[str, ...] = tuple(EventRow.model_fields)


def target_key(target: Actor | None) -> str:
    """The record's ``target`` of a mapped other side (coalition forces count as ``us``)."""
    if target is None:
        return ""
    return "us" if target.kind == "coalition" else target.key


def record_row(where: str, **cells: Any) -> dict[str, str]:
    """One ``events.csv`` row as text, checked by the record's row model.

    A mapping mistake (an action the actor kind does not have, say) is caught here rather
    than when the written file is loaded.
    """
    row = {c: "" for c in COLUMNS}
    row["estimate"] = "false"
    for k, v in cells.items():
        if k not in row:
            raise KeyError(k)
        row[k] = "" if v is None else (str(v).lower() if isinstance(v, bool) else str(v))
    try:
        EventRow.model_validate(row)
    except ValidationError as err:
        raise InputError(where, *_first_error(err)) from None
    return row


@dataclass
class ImportResult:
    """The mapped rows (``events.csv`` columns, as text) and the unmapped ones with reasons."""

    dataset: str
    rows: list[dict[str, str]] = field(default_factory=list)
    unmapped: list[dict[str, str]] = field(default_factory=list)

    def skip(self, line: int, reason: str, **cells: str) -> None:
        self.unmapped.append({"line": str(line), **{c: "" for c in UNMAPPED_COLUMNS[1:-1]},
                              **cells, "reason": reason})

    def events(self) -> pd.DataFrame:
        """The mapped rows as text, in ``events.csv`` column order."""
        return pd.DataFrame(self.rows, columns=list(COLUMNS), dtype="string")

    def report(self) -> pd.DataFrame:
        return pd.DataFrame(self.unmapped, columns=list(UNMAPPED_COLUMNS), dtype="string")

    def reasons(self) -> Counter:
        """Unmapped rows per kind of reason (the text before a colon)."""
        return Counter(r["reason"].split(":")[0] for r in self.unmapped)

    def summary(self) -> str:
        """The one-paragraph summary the command prints."""
        text = f"kept {len(self.rows)}, unmapped {len(self.unmapped)}"
        if self.unmapped:
            text += ": " + ", ".join(f"{reason} {n}" for reason, n in
                                     self.reasons().most_common())
        return text
