"""ACLED exports into the record's format.

Columns read (ACLED codebook; the names as in the export files the acledR package documents,
https://rdrr.io/cran/acledR/man/acled_old_dummy.html, and as listed in ACLED's codebook table
of columns: event_id_cnty, event_date, year, time_precision, disorder_type, event_type,
sub_event_type, actor1, assoc_actor_1, inter1, actor2, assoc_actor_2, inter2, interaction,
civilian_targeting, iso, region, country, admin1, admin2, admin3, location, latitude,
longitude, geo_precision, source, source_scale, notes, fatalities, tags, timestamp). Only
:data:`REQUIRED` must be present; the others are used when they are.

Event and sub-event types follow ACLED's categories (acledR's ``acled_event_categories``):
Battles (Armed clash ...), Explosions/Remote violence (Air/drone strike,
Shelling/artillery/missile attack, Remote explosive/landmine/IED, Grenade, ...), Riots
(Violent demonstration, Mob violence), Strategic developments (Disrupted weapons use,
Arrests, Change to group/activity, ...). Which of them the record keeps, done by whom to
whom, is the table ``calibration/data/event_types.csv``; actor names are mapped by
``calibration/data/actor_names.csv``.

Decisions, since ACLED does not say everything the record needs:

- ACLED states that actor1 and actor2 "do not imply directionality". For remote violence the
  initiating side is, in practice, actor1, and the table reads it so (``sides = 1``); for
  "Disrupted weapons use" either order is accepted (``sides = either``).
- ``fatalities`` is a total not split by side. On a U.S. strike it becomes
  ``militia_killed``; on an attack the casualty columns stay empty (unknown) and the total is
  kept in ``note``, because the dead of an attack on a base may be the attackers, Iraqi
  soldiers or U.S. personnel.
- ``time_precision`` 2 or 3 (date known to the week or month) sets ``estimate = true``.
"""

from __future__ import annotations

from pathlib import Path

from calibration.importers.common import (COUNTRIES, ImportResult, event_type_table,
                                          lookup, out_of_scope, parse_count, parse_date,
                                          read_rows, record_row, resolve, site_of,
                                          split_names, target_key)
from sim.errors import InputError

#: The columns an ACLED export must have for a row to be mapped.
REQUIRED: tuple[str, ...] = ("event_id_cnty", "event_date", "event_type", "sub_event_type",
                             "actor1", "actor2", "country", "fatalities")
#: Column names of other ACLED versions and of the API's uppercase exports.
ALIASES: dict[str, str] = {"event_id": "event_id_cnty", "assoc_actor1": "assoc_actor_1",
                           "assoc_actor2": "assoc_actor_2"}


def read_acled(path: str | Path) -> ImportResult:
    """Map an ACLED export (CSV, or tab-separated) into record rows and unmapped rows.

    Raises:
        InputError: a missing column, a row of the wrong width, a bad ``event_date`` or
            ``fatalities`` or ``time_precision``: ``FILE:LINE`` and the column.
    """
    path = Path(path)
    result = ImportResult("acled")
    types = event_type_table("acled")
    known_types = {t.event_type.lower() for t in types}
    seen: dict[str, int] = {}
    for line, row in read_rows(path, REQUIRED, ALIASES, "an ACLED export"):
        where = f"{path.name}:{line}"
        # Parse every checked cell first: a bad cell is an error even on a row out of scope.
        day = parse_date(row["event_date"], where, "event_date")
        fatalities = parse_count(row["fatalities"], where, "fatalities")
        precision = parse_count(row.get("time_precision", ""), where, "time_precision")
        ident = row["event_id_cnty"]
        side1 = split_names(row["actor1"], row.get("assoc_actor_1", ""))
        side2 = split_names(row["actor2"], row.get("assoc_actor_2", ""))
        info = dict(id=ident, date=day.isoformat(), actor=row["actor1"],
                    other_side=row["actor2"], event_type=row["event_type"],
                    detail=row["sub_event_type"], country=row["country"])
        if not ident:
            raise InputError(where, "event_id_cnty", "must not be empty")
        reason = out_of_scope(ident, line, seen, day, row["country"], row["event_type"],
                              known_types, f"{row['event_type']} / {row['sub_event_type']}")
        if reason:
            result.skip(line, reason, **info)
            continue
        country = COUNTRIES[row["country"].strip().lower()]
        actors1, unknown1 = lookup(side1)
        actors2, unknown2 = lookup(side2)
        hit = resolve(types, row["event_type"], row["sub_event_type"], actors1, actors2)
        if hit is None:
            unknown = unknown1 + unknown2
            if unknown:
                result.skip(line, f"unknown actor: {'; '.join(unknown)}", **info)
            else:
                result.skip(line, f"no mapping for these sides: {_kinds(actors1)} vs "
                                  f"{_kinds(actors2)} ({row['event_type']} / "
                                  f"{row['sub_event_type']})", **info)
            continue
        t = hit.kind
        killed = fatalities if t.action == "strike" else None
        place = ", ".join(p for p in (row.get("location", ""), row.get("admin1", "")) if p)
        note = "; ".join(p for p in (
            f"ACLED {row['event_type']} / {row['sub_event_type']}",
            f"actor1 {row['actor1']}" + (f" with {row['assoc_actor_1']}"
                                         if row.get("assoc_actor_1") else ""),
            f"actor2 {row['actor2']}" + (f" with {row['assoc_actor_2']}"
                                         if row.get("assoc_actor_2") else ""),
            f"location {place}" if place else "",
            f"fatalities {fatalities} (ACLED total, not split by side)"
            if fatalities and killed is None else "",
            f"ACLED sources: {row['source']}" if row.get("source") else "",
        ) if p)
        result.rows.append(record_row(
            where, event_id=f"acled-{ident}", date=day.isoformat(), actor=hit.actor.key,
            actor_kind=hit.actor.kind, action=t.action, target=target_key(hit.target),
            weapon=t.weapon, country=country, intercepted=t.intercepted,
            site=site_of(t.action, row.get("location", ""), row.get("notes", "")),
            militia_killed=killed, estimate=(precision or 1) > 1,
            description=row.get("notes") or f"{row['sub_event_type']} ({place or country})",
            source=f"ACLED:{ident}", source_quality="tracker", note=note))
    return result


def _kinds(side) -> str:
    return "+".join(sorted({a.kind for a in side})) or "none"
