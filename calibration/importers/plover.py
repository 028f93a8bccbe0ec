"""PLOVER-coded event data (such as the POLECAT dataset) into the record's format.

PLOVER (Open Event Data Alliance, "PLOVER: Political Language Ontology for Verifiable Event
Records", draft 0.7b1, https://github.com/openeventdata/PLOVER, PLOVER_MANUAL.tex, chapter
"JSON Data Fields") names an event's fields ``id``, ``date``, ``source`` (the actor, renamed
from CAMEO's source), ``recipient``, ``event`` (the category: ASSAULT, ACCUSE, THREATEN,
SANCTION, RETREAT, COERCE, CONSULT, PROTEST ...; FIGHT and DISAPPROVE in drafts before 0.7),
``mode`` (how: e.g. aerial, artillery) and ``context``. POLECAT, the public PLOVER-coded
dataset, ships them as tab-separated columns headed e.g. "Event ID", "Event Date", "Event
Type", "Event Mode", "Contexts", "Actor Name", "Recipient Name", "Country". Headers are
matched without regard to case and spacing, and both spellings are accepted
(:data:`ALIASES`): a flat CSV or TSV export with :data:`REQUIRED` columns is read. PLOVER's
own interchange format, JSON lines (one record per line with ``id``, ``date``, ``event``,
``source``, ``recipient`` as lists of actor objects, ``mode``, ``context``, ``event_loc``),
is read too (:func:`json_rows`).

Which categories the record keeps, done by whom to whom, is
``calibration/data/event_types.csv`` (dataset ``plover``; the ``detail`` column matches the
mode); actor names are mapped by ``calibration/data/actor_names.csv``. PLOVER's actor order
is directional (source acts on recipient), so every row reads the actor as the doer. An
optional ``dead`` (or ``fatalities``) column becomes ``militia_killed`` on a U.S. strike and a
note elsewhere, as for ACLED.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator

from calibration.importers.common import (COUNTRIES, ImportResult, event_type_table,
                                          lookup, out_of_scope, parse_count, parse_date,
                                          read_rows, record_row, resolve, site_of,
                                          split_names, target_key)
from sim.errors import InputError

REQUIRED: tuple[str, ...] = ("event_id", "event_date", "event_type", "actor_name",
                             "recipient_name", "country")
#: Fields a PLOVER JSON record must have (the manual's required fields).
JSON_REQUIRED: tuple[str, ...] = ("id", "date", "event", "source")
#: Actor sectors whose bare country code names the state (PLOVER: GOV, MIL, COP, ...); an
#: armed group (REB, PRM, UAF) coded only by its country stays unnamed.
STATE_SECTORS: tuple[str, ...] = ("", "GOV", "MIL", "COP", "LEG", "JUD", "SPY")
#: PLOVER actor codes (ISO-3166 alpha-3) of the record's states.
STATE_CODES: dict[str, str] = {"USA": "United States", "IRQ": "Iraq", "IRN": "Iran"}
ALIASES: dict[str, str] = {
    "id": "event_id", "date": "event_date", "event": "event_type", "event_mode": "mode",
    "contexts": "context", "actor": "actor_name", "source_name": "actor_name",
    "recipient": "recipient_name", "event_country": "country", "placename": "location",
    "fatalities": "dead", "deaths": "dead",
}


def read_plover(path: str | Path) -> ImportResult:
    """Map a PLOVER/POLECAT export (CSV, TSV, or PLOVER JSON lines) into record rows and
    unmapped rows.

    Raises:
        InputError: a missing column, a row of the wrong width, a bad ``event_date`` or
            ``dead``: ``FILE:LINE`` and the column.
    """
    path = Path(path)
    result = ImportResult("plover")
    types = event_type_table("plover")
    known_types = {t.event_type.lower() for t in types}
    seen: dict[str, int] = {}
    rows = (json_rows(path, known_types) if is_json(path)
            else read_rows(path, REQUIRED, ALIASES, "a PLOVER/POLECAT export"))
    for line, row in rows:
        where = f"{path.name}:{line}"
        day = parse_date(row["event_date"][:10], where, "event_date")
        dead = parse_count(row.get("dead", ""), where, "dead")
        ident = row["event_id"]
        if not ident:
            raise InputError(where, "event_id", "must not be empty")
        mode = row.get("mode", "")
        info = dict(id=ident, date=day.isoformat(), actor=row["actor_name"],
                    other_side=row["recipient_name"], event_type=row["event_type"],
                    detail=mode, country=row["country"])
        reason = out_of_scope(ident, line, seen, day, row["country"], row["event_type"],
                              known_types,
                              row["event_type"] + (f" / {mode}" if mode else ""))
        if reason:
            result.skip(line, reason, **info)
            continue
        country = COUNTRIES[row["country"].strip().lower()]
        actors, unknown1 = lookup(split_names(row["actor_name"]))
        recipients, unknown2 = lookup(split_names(row["recipient_name"]))
        hit = resolve(types, row["event_type"], mode, actors, recipients)
        if hit is None:
            unknown = unknown1 + unknown2 + [
                f"(no {who} named)" for who, cell in (("actor", "actor_name"),
                                                      ("recipient", "recipient_name"))
                if not split_names(row[cell])]
            if unknown:
                result.skip(line, f"unknown actor: {'; '.join(unknown)}", **info)
            else:
                kinds = ["+".join(sorted({a.kind for a in s})) or "none"
                         for s in (actors, recipients)]
                result.skip(line, f"no mapping for these sides: {kinds[0]} vs {kinds[1]} "
                                  f"({row['event_type']}{' / ' + mode if mode else ''})",
                            **info)
            continue
        t = hit.kind
        killed = dead if t.action == "strike" else None
        place = row.get("location", "")
        note = "; ".join(p for p in (
            f"PLOVER {row['event_type']}" + (f" / {mode}" if mode else ""),
            f"context {row['context']}" if row.get("context") else "",
            f"actor {row['actor_name']}", f"recipient {row['recipient_name']}",
            f"location {place}" if place else "",
            f"dead {dead} (not split by side)" if dead and killed is None else "",
        ) if p)
        description = (row.get("text") or row.get("event_text") or row.get("headline")
                       or f"{row['actor_name']} {row['event_type'].lower()} "
                          f"{row['recipient_name']} ({place or country})")
        result.rows.append(record_row(
            where, event_id=f"plover-{ident}", date=day.isoformat(), actor=hit.actor.key,
            actor_kind=hit.actor.kind, action=t.action, target=target_key(hit.target),
            weapon=t.weapon, country=country, intercepted=t.intercepted,
            site=site_of(t.action, place, description), militia_killed=killed,
            description=description, source=f"PLOVER:{ident}",
            source_quality="tracker", note=note))
    return result


# --- PLOVER JSON lines -----------------------------------------------------------------------

def is_json(path: Path) -> bool:
    """Whether the file is JSON (its first non-blank character is ``{`` or ``[``)."""
    if not path.is_file():
        return False
    with path.open("rb") as handle:
        head = handle.read(4096).lstrip(b"\xef\xbb\xbf \t\r\n")
    return head[:1] in (b"{", b"[")


def _names(actors: Any) -> str:
    """Actor names of a PLOVER ``source``/``recipient``: a list of actor objects (their
    ``identifier_text``, else ``actor_text``, else a state's code), or plain text."""
    if isinstance(actors, (str, dict)):
        actors = [actors]
    names = []
    for a in actors or []:
        if isinstance(a, str):
            names.append(a)
        elif isinstance(a, dict):
            name = a.get("identifier_text") or a.get("name") or a.get("actor_text") or ""
            if not name and str(a.get("sector") or "").upper() in STATE_SECTORS:
                name = STATE_CODES.get(str(a.get("code") or "").upper(), "")
            names.append(str(name))
    return "; ".join(n for n in names if n)


def _text(value: Any) -> str:
    if isinstance(value, list):
        return "; ".join(str(v) for v in value if v not in (None, ""))
    return "" if value is None else str(value)


def json_rows(path: Path, known_types: set[str]) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield ``(line, row)`` for each PLOVER JSON record, one per line (JSONL, as the PLOVER
    manual recommends), flattened into the columns the tabular exports have.

    Raises:
        InputError: a line that is not a JSON object, or a record without a required field
            (``FILE:LINE`` and the field).
    """
    name = path.name
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except UnicodeDecodeError:
        raise InputError(name, None, "not UTF-8 text") from None
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        where = f"{name}:{number}"
        try:
            record = json.loads(text)
        except json.JSONDecodeError as err:
            hint = (" (one event per line: JSON lines, as PLOVER recommends)"
                    if text.lstrip().startswith("[") else "")
            raise InputError(where, None, f"not a JSON object: {err.msg}{hint}") from None
        if not isinstance(record, dict):
            raise InputError(where, None, "not a JSON object (one event per line)")
        for field in JSON_REQUIRED:
            if record.get(field) in (None, "", []):
                raise InputError(where, field, "missing field; a PLOVER record needs "
                                               f"{', '.join(JSON_REQUIRED)}")
        events = record["event"] if isinstance(record["event"], list) else [record["event"]]
        event = next((e for e in events if str(e).lower() in known_types), events[0])
        loc = record.get("event_loc") or {}
        loc = loc[0] if isinstance(loc, list) and loc else loc
        loc = loc if isinstance(loc, dict) else {}
        size = record.get("size_info") or record.get("sizeInfo") or {}
        yield number, {
            "event_id": str(record["id"]), "event_date": str(record["date"]),
            "event_type": str(event), "mode": _text(record.get("mode")),
            "context": _text(record.get("context")),
            "actor_name": _names(record.get("source")),
            "recipient_name": _names(record.get("recipient")),
            "country": str(loc.get("cc3") or loc.get("country code") or loc.get("country")
                           or record.get("country") or ""),
            "location": str(loc.get("name") or ""),
            "dead": _text(record.get("dead", size.get("dead") if isinstance(size, dict)
                                     else None)),
            "text": _text(record.get("text") or record.get("event_text")),
        }
