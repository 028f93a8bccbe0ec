"""The scenario file as declared models (pydantic), and the JSON Schema editors use.

What lives here: :func:`scenario_model`, the pydantic model of one scenario's data, built
from the declarations of ``sim.params`` (types, bounds, defaults, meanings) and the rule
registry (``sim.rules``: the keys allowed in ``[us]`` and ``[[us.periods]]`` depend on the
rule); :func:`validate_scenario`, which checks merged scenario data against it and returns
the normalised data or raises the project's one-line :class:`~sim.errors.InputError`
(dotted field, what is allowed); :func:`scenario_json_schema`; and the same for the sweep
spec's keys (:func:`sweep_model`, :func:`validate_sweep`, :func:`sweep_json_schema`; what a
varied path means is checked by ``sim.sweep.spec``).

What does not: reading files, ``extends`` and ``--set`` (``sim.scenario``, which merges and
then validates here), the parameters' values and bounds (``sim.params``).

How messages stay precise: the few value types of a scenario (a bounded number, a date in
range, a name from a list, a rule, a table, an array of tables) are annotated types whose
validators raise a message in the project's words, and every table rejects an unknown key
before anything else with the keys it allows. A validation error is then turned into
``InputError(None, "shocks[2].kind", "unknown shock kind 'war'; known: ...")``.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import numbers
import re
from datetime import date, datetime
from functools import lru_cache
from typing import Annotated, Any, Literal, Optional, Union

from pydantic import (AfterValidator, BaseModel, BeforeValidator, ConfigDict, Discriminator,
                      Field, Tag, ValidationError, ValidationInfo, WithJsonSchema, create_model,
                      model_validator)
from pydantic_core import PydanticCustomError

from sim import events as ev
from sim import params as P
from sim.errors import InputError
from sim.rules import REGISTRY

DATE_MIN, DATE_MAX = date.fromisoformat(P.DATE_MIN), date.fromisoformat(P.DATE_MAX)
DEFAULT_RULE: str = P.USParams.rule
#: Actor kinds whose documented actions history replay can force (sim.replay.FORCEABLE).
REPLAY_FORCEABLE: tuple[str, ...] = ("us", "militia", "iran", "iraq")
#: Keys of an added event: the record's columns that make sense for a new event.
REPLAY_ADD_KEYS: tuple[str, ...] = (
    "date", "actor", "actor_kind", "action", "target", "weapon", "site", "country",
    "intercepted", *ev.CASUALTY_COLUMNS, "description")
REPLAY_TARGETS: tuple[str, ...] = ev.MILITIA_ACTORS + ("us", "iraq", "iran")
SITE_COUNTRIES: tuple[str, ...] = P.SITE_COUNTRIES
TOP_KEYS: tuple[str, ...] = (
    "name", "description", "start", "end", "seed", "extends", "shock_scale",
    "war_half_life_days", "war_onset_days",
    "iran", "militias", "weapons", "sites", "us", "iraq", "observation", "shocks", "replay")
#: Marks union tags in pydantic's error locations (they are not keys of the file).
_TAG = "§"
#: Stands for the dotted path of the value in a message; replaced when the error is raised.
_HERE = "\x00here\x00"


# --- Messages --------------------------------------------------------------------------------

def fail(message: str, at: str = "") -> PydanticCustomError:
    """An error in the project's words; ``at`` is a key below the value being checked."""
    return PydanticCustomError("scenario", "{message}", {"message": message, "at": at})


def show(value: Any) -> str:
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return str(value)


def did_you_mean(key: Any, allowed: Any) -> str:
    """``"did you mean 'fear_weight'? "`` for a misspelt ``key`` close to one of ``allowed``
    (difflib), else ``""``: put before the list of allowed keys, so that the likely fix is
    read first."""
    close = difflib.get_close_matches(str(key), [str(a) for a in allowed], n=1, cutoff=0.6)
    return f"did you mean {close[0]!r}? " if close else ""


def _fmt(x: float | None) -> str:
    if x is None:
        return "..."
    return str(int(x)) if float(x).is_integer() and abs(x) < 1e15 else repr(float(x))


def input_error(err: ValidationError) -> InputError:
    """The first problem of a validation error, as the project's one-line error."""
    e = err.errors(include_url=False)[0]
    ctx = e.get("ctx") or {}
    path = ""
    for part in e["loc"]:
        if isinstance(part, int):
            path += f"[{part}]"
        elif not str(part).startswith(_TAG):
            path += f".{part}" if path else str(part)
    message = ctx.get("message") if e["type"] == "scenario" else {
        "missing": "required", "extra_forbidden": "unknown key"}.get(e["type"], e["msg"])
    message = message.replace(_HERE, path)
    at = ctx.get("at", "") if e["type"] == "scenario" else ""
    if at:
        path = f"{path}{'' if at.startswith('[') or not path else '.'}{at}"
    return InputError(None, path or None, message)


# --- Value types -----------------------------------------------------------------------------

def _number(value: Any, lo: float | None, hi: float | None, integer: bool) -> int | float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise fail(f"expected {'a whole number' if integer else 'a number'}, got {show(value)}")
    if integer:
        if not isinstance(value, numbers.Integral) and (
                not math.isfinite(value) or not float(value).is_integer()):
            raise fail(f"expected a whole number, got {show(value)}")
        number: int | float = int(value)
    else:
        number = float(value)
    if math.isnan(number) or (lo is not None and number < lo) or (hi is not None and number > hi):
        raise fail(f"{show(value)} is outside [{_fmt(lo)}, {_fmt(hi)}]")
    return number


def Number(lo: float | None = None, hi: float | None = None, integer: bool = False) -> Any:
    """A number within [lo, hi] (inclusive); whole if ``integer``."""
    return Annotated[int if integer else float, Field(ge=lo, le=hi),
                     BeforeValidator(lambda v: _number(v, lo, hi, integer))]


def _day(value: Any) -> date:
    if isinstance(value, datetime):
        if value.time() != datetime.min.time() or value.tzinfo is not None:
            raise fail(f"expected a date (YYYY-MM-DD) without a time, got {value.isoformat()}")
        value = value.date()
    elif isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        try:
            value = date.fromisoformat(value.strip())
        except ValueError:
            raise fail(f"{value.strip()} is not a date (YYYY-MM-DD)") from None
    if not isinstance(value, date):
        raise fail(f"expected a date (YYYY-MM-DD), got {show(value)}")
    if not DATE_MIN <= value <= DATE_MAX:
        raise fail(f"{value} is outside {DATE_MIN}..{DATE_MAX}")
    return value


#: The years of DATE_MIN..DATE_MAX as a pattern, for editors (JSON Schema compares no dates).
_YEARS = "|".join(str(y) for y in range(DATE_MIN.year, DATE_MAX.year + 1))
_DAY_SCHEMA = {"type": "string", "format": "date", "pattern": f"^({_YEARS})-[0-9]{{2}}-[0-9]{{2}}$"}
#: A day within DATE_MIN..DATE_MAX: a TOML date or "YYYY-MM-DD".
Day = Annotated[date, BeforeValidator(_day), WithJsonSchema(_DAY_SCHEMA)]
#: A day, or "" for none (a site the U.S. never left).
DayOrNone = Annotated[str, BeforeValidator(lambda v: v if v == "" else _day(
    _text(v)).isoformat()), WithJsonSchema({"anyOf": [{"const": ""}, _DAY_SCHEMA]})]


def _text(value: Any, allow_empty: bool = True) -> str:
    if not isinstance(value, str):
        raise fail(f"expected a string, got {show(value)}")
    if not allow_empty and not value.strip():
        raise fail("must not be empty")
    return value


Text = Annotated[str, BeforeValidator(_text)]
Name = Annotated[str, Field(pattern=r"\S"),
                 BeforeValidator(lambda v: _text(v, allow_empty=False))]


def Choice(allowed: tuple[str, ...], what: str = "value") -> Any:
    """One of ``allowed``."""
    def check(value: Any) -> str:
        if not isinstance(value, str) or value not in allowed:
            shown = ", ".join(repr(a) if not a else a for a in allowed)
            raise fail(f"unknown {what} {show(value)}; {did_you_mean(value, allowed)}"
                       f"known: {shown}")
        return value
    return Annotated[Literal[allowed], BeforeValidator(check)]


def _rule_name(value: Any) -> str:
    known = ", ".join(sorted(REGISTRY))
    if not isinstance(value, str):
        raise fail(f"expected a rule name (string), got {show(value)}; known rules: {known}")
    if value not in REGISTRY:
        raise fail(f"unknown rule {value!r}; {did_you_mean(value, REGISTRY)}known rules: {known}")
    return value


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise fail(f"expected true or false, got {show(value)}")
    return value


def _array(value: Any) -> list:
    if not isinstance(value, list):
        raise fail(f"expected an array ([...]), got {show(value)}")
    return value


def _array_of_tables(value: Any) -> list:
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise fail(f"expected an array of tables ([[{_HERE}]]), got {show(value)}")
    return value


def Array(item: Any, tables: bool = False) -> Any:
    return Annotated[list[item], BeforeValidator(_array_of_tables if tables else _array)]


# --- Tables ----------------------------------------------------------------------------------

class Table(BaseModel):
    """A TOML table: a mapping whose unknown keys are errors, reported before anything else."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _known_keys(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            raise fail(f"expected a table ([{_HERE}]), got {show(data)}")
        for key, value in data.items():
            if key not in cls.model_fields:
                raise fail(cls.unknown(key, value), at=key)
        return data

    @classmethod
    def unknown(cls, key: str, value: Any) -> str:
        return (f"unknown key; {did_you_mean(key, cls.model_fields)}"
                f"allowed: {', '.join(cls.model_fields)}")


def _declared(cls: type) -> dict[str, dataclasses.Field]:
    """The declared parameters of a ``sim.params`` dataclass (those made with ``param``)."""
    return {f.name: f for f in dataclasses.fields(cls) if "doc" in f.metadata}


def _param_type(owner: type, f: dataclasses.Field) -> Any:
    if owner is P.SiteParams and f.name == "country":
        return Choice(SITE_COUNTRIES)
    if owner is P.SiteParams and f.name == "until":
        return DayOrNone
    if owner is P.USParams and f.name == "rule":
        return Annotated[str, BeforeValidator(_rule_name)]
    if isinstance(f.default, str):
        return Text
    meta = f.metadata
    return Number(meta["lo"], meta["hi"], integer=meta["integer"])


def _param_fields(cls: type, defaults: dict[str, Any] | None = None,
                  skip: tuple[str, ...] = ()) -> dict[str, Any]:
    """pydantic fields for the declared parameters of ``cls``: type, bounds, default, meaning."""
    out = {}
    for name, f in _declared(cls).items():
        if name in skip:
            continue
        default = (defaults or {}).get(name, f.default)
        out[name] = (_param_type(cls, f),
                     Field(default=default, description=f"{f.metadata['doc']} "
                                                        f"(source: {f.metadata['source']})"))
    return out


def _table(name: str, fields: dict[str, Any], doc: str, base: type = Table) -> type[Table]:
    return create_model(name, __base__=base, __doc__=doc, **fields)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _keyed(name: str, what: str, tables: dict[str, type[Table]], doc: str,
           extra: dict[str, Any] | None = None, others: str = "") -> type[Table]:
    """A table of sub-tables keyed by a known name (factions, weapons, sites)."""
    class Keyed(Table):
        @classmethod
        def unknown(cls, key: str, value: Any) -> str:
            if isinstance(value, dict) or not extra:
                return (f"unknown {what} {key!r}; {did_you_mean(key, tables)}"
                        f"known: {', '.join(tables)}")
            return (f"unknown key; {did_you_mean(key, [*(extra or {}), *tables])}"
                    f"allowed: {', '.join(extra)}, or {others}: {', '.join(tables)}")
    fields = dict(extra or {})
    fields.update({key: (Optional[model], None) for key, model in tables.items()})
    return create_model(name, __base__=Keyed, __doc__=doc, **fields)


def _rule_fields(rule: str) -> dict[str, Any]:
    return {key: (Number(lo, hi), Field(default=default, description=doc))
            for key, (default, lo, hi, doc) in REGISTRY[rule].parameters.items()}


def unknown_rule_key(key: str, allowed: str, rule: str) -> str:
    params = ", ".join(REGISTRY[rule].parameters) or "none"
    owners = [name for name, cls in sorted(REGISTRY.items()) if key in cls.parameters]
    hint = f" ({key!r} is a parameter of {', '.join(owners)})" if owners else ""
    guess = "" if owners else did_you_mean(
        key, [*allowed.split(", "), *REGISTRY[rule].parameters])
    return (f"unknown key; {guess}allowed: {allowed}, and the parameters of rule {rule!r}: "
            f"{params}{hint}")


US_FIELDS: tuple[str, ...] = (*_declared(P.USParams), "periods")


def _rule_union(variants: dict[str, type], check: Any, default: str | None) -> Any:
    """A union of one model per rule, chosen by the table's ``rule`` (after ``check``)."""
    choose = Discriminator(lambda v: _TAG + str(v.get("rule", default) if isinstance(v, dict)
                                                else getattr(v, "rule", default)))
    members = tuple(Annotated[model, Tag(_TAG + rule)] for rule, model in variants.items())
    return Annotated[Union[members], choose, BeforeValidator(check)]


def _check_us(data: Any) -> Any:
    if not isinstance(data, dict):
        raise fail(f"expected a table ([{_HERE}]), got {show(data)}")
    rule = data.get("rule", DEFAULT_RULE)
    try:
        _rule_name(rule)
    except PydanticCustomError as err:
        raise fail(err.context["message"], at="rule") from None
    for key in data:
        if key not in US_FIELDS and key not in REGISTRY[rule].parameters:
            raise fail(unknown_rule_key(key, ", ".join(US_FIELDS), rule), at=key)
    return {"rule": rule, **data}


def _check_period(data: Any) -> Any:
    for key in ("start", "rule"):
        if key not in data:
            raise fail("required: each period has a start date and a rule", at=key)
    try:
        rule = _rule_name(data["rule"])
    except PydanticCustomError as err:
        raise fail(err.context["message"], at="rule") from None
    for key in data:
        if key not in ("start", "rule") and key not in REGISTRY[rule].parameters:
            raise fail(unknown_rule_key(key, "start, rule", rule), at=key)
    return data


def _unique_starts(periods: list) -> list:
    seen: dict[date, int] = {}
    for i, period in enumerate(periods):
        if period.start in seen:
            raise fail(f"{period.start} repeats us.periods[{seen[period.start]}]; one rule per "
                       "start date", at=f"[{i}].start")
        seen[period.start] = i
    return periods


def _us_model() -> Any:
    us_fields = _param_fields(P.USParams, skip=("rule",))
    periods: dict[str, type] = {}
    variants: dict[str, type] = {}
    for rule in sorted(REGISTRY):
        periods[rule] = create_model(
            f"Period_{rule}", __base__=_Strict,
            __doc__=f"From `start` on, the U.S. follows rule {rule!r}.",
            start=(Day, ...), rule=(Literal[rule], ...), **_rule_fields(rule))
    period = _rule_union(periods, _check_period, None)
    for rule in sorted(REGISTRY):
        doc = REGISTRY[rule].__doc__.strip().splitlines()[0] if REGISTRY[rule].__doc__ else rule
        variants[rule] = create_model(
            f"US_{rule}", __base__=_Strict, __doc__=f"U.S. forces under rule {rule!r}: {doc}",
            rule=(Literal[rule], Field(default=rule, description="the deterrence rule")),
            periods=(Optional[Annotated[list[period], BeforeValidator(_array_of_tables),
                                        AfterValidator(_unique_starts)]],
                     Field(default=None, description="rules from dates (replace `rule` then)")),
            **us_fields, **_rule_fields(rule))
    return _rule_union(variants, _check_us, DEFAULT_RULE)


def _check_shock(data: Any) -> Any:
    if "kind" not in data:
        raise fail(f"required; one of {', '.join(P.SHOCK_KINDS)}", at="kind")
    kind = data["kind"]
    if not isinstance(kind, str) or kind not in P.SHOCK_KINDS:
        raise fail(f"unknown shock kind {show(kind)}; {did_you_mean(kind, P.SHOCK_KINDS)}"
                   f"known: {', '.join(P.SHOCK_KINDS)}", at="kind")
    allowed = P.SHOCK_FIELDS[kind]
    for key in data:
        if key not in allowed:
            raise fail(f"unknown key for a {kind!r} shock; {did_you_mean(key, allowed)}"
                       f"allowed: {', '.join(allowed)}", at=key)
    for key in P.SHOCK_REQUIRED:
        if key not in data:
            raise fail(f"required; a shock has {', '.join(P.SHOCK_REQUIRED)}", at=key)
    return data


class _ShockBase(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="after")
    def _end_after_date(self) -> Any:
        end = getattr(self, "end", None)
        if end is not None and end < self.date:
            raise fail(f"end {end} is before the shock's date {self.date}", at="end")
        return self


def _shock_model() -> Any:
    fields = {f.name: f for f in dataclasses.fields(P.Shock)}
    variants = {}
    for kind, keys in P.SHOCK_FIELDS.items():
        spec: dict[str, Any] = {
            "date": (Day, Field(description=fields["date"].metadata["doc"])),
            "kind": (Literal[kind], Field(description=P.SHOCK_KINDS[kind])),
            "size": (Number(*P.SHOCK_SIZE_BOUNDS[kind]), Field(description="size")),
        }
        if "end" in keys:
            spec["end"] = (Optional[Day], Field(default=None,
                                                description=fields["end"].metadata["doc"]))
        if "half_life_days" in keys:
            meta = fields["half_life_days"].metadata
            spec["half_life_days"] = (Number(meta["lo"], meta["hi"]),
                                      Field(default=None, description=meta["doc"]))
        variants[kind] = create_model(f"Shock_{kind}", __base__=_ShockBase, **spec)
    choose = Discriminator(lambda v: _TAG + str(v.get("kind") if isinstance(v, dict)
                                                else getattr(v, "kind", "")))
    members = tuple(Annotated[m, Tag(_TAG + k)] for k, m in variants.items())
    return Annotated[Union[members], choose, BeforeValidator(_check_shock)]


_Actor = Choice(ev.MILITIA_ACTORS + ("us", "iraq", "iran"), "actor")
_ActorKind = Choice(ev.ACTOR_KINDS, "actor kind")
_Action = Choice(tuple(dict.fromkeys(a for acts in ev.ACTIONS.values() for a in acts)), "action")
_Target = Choice(("",) + REPLAY_TARGETS, "target")
_Weapon = Choice(ev.WEAPONS, "weapon")
_Site = Choice(("",) + tuple(P.SITE_DEFAULTS), "site")
_Country = Choice(ev.COUNTRIES, "country")
_Flag = Annotated[bool, BeforeValidator(_flag)]
_Casualties = Number(0, P.MAX_CASUALTIES, integer=True)
_EventId = Annotated[str, BeforeValidator(lambda v: _text(v, False))]


class AddedEvent(Table):
    """An event added by history replay, in the record's columns."""

    # For editors: a militia event names its faction; each kind of actor has its actions.
    model_config = ConfigDict(extra="forbid", json_schema_extra={"allOf": [
        {"if": {"properties": {"actor_kind": {"const": "militia"}}, "required": ["actor_kind"]},
         "then": {"required": ["actor"]}}] + [
        {"if": {"properties": {"actor_kind": {"const": kind}}, "required": ["actor_kind"]},
         "then": {"properties": {"action": {"enum": list(ev.ACTIONS[kind])}}}}
        for kind in ev.ACTOR_KINDS]})

    date: Day
    actor: Optional[_Actor] = None
    actor_kind: _ActorKind
    action: _Action
    target: Optional[_Target] = None
    weapon: Optional[_Weapon] = None
    site: Optional[_Site] = None
    country: Optional[_Country] = None
    intercepted: Optional[_Flag] = None
    us_killed: _Casualties = None
    us_wounded: _Casualties = None
    coalition_killed: _Casualties = None
    militia_killed: _Casualties = None
    iraqi_killed: _Casualties = None
    civilian_killed: _Casualties = None
    description: Optional[Text] = None

    @classmethod
    def unknown(cls, key: str, value: Any) -> str:
        return (f"unknown key; {did_you_mean(key, REPLAY_ADD_KEYS)}"
                f"an added event has {', '.join(REPLAY_ADD_KEYS)}")

    @model_validator(mode="before")
    @classmethod
    def _actor_and_action(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        for key, value in data.items():
            if key not in REPLAY_ADD_KEYS:
                raise fail(cls.unknown(key, value), at=key)
        for key in ("date", "actor_kind", "action"):
            if key not in data:
                raise fail("required; an added event needs at least date, actor_kind and "
                           "action", at=key)
        kind = data["actor_kind"]
        if kind not in ev.ACTOR_KINDS:
            return data                         # the field's own check says what is allowed
        if kind == "militia":
            if "actor" not in data:
                raise fail(f"required for a militia event; one of "
                           f"{', '.join(ev.MILITIA_ACTORS)}", at="actor")
            allowed: tuple[str, ...] = ev.MILITIA_ACTORS
        else:
            allowed = (kind,)
            data = {**data, "actor": data.get("actor", kind)}
        if not isinstance(data["actor"], str) or data["actor"] not in allowed:
            raise fail(f"unknown {'militia' if kind == 'militia' else 'actor'} "
                       f"{show(data['actor'])}; known: {', '.join(allowed)}", at="actor")
        if not isinstance(data["action"], str) or data["action"] not in ev.ACTIONS[kind]:
            raise fail(f"unknown action of a {kind} actor {show(data['action'])}; known: "
                       f"{', '.join(ev.ACTIONS[kind])}", at="action")
        return data


assert tuple(AddedEvent.model_fields) == REPLAY_ADD_KEYS


_Forced = Array(Choice(REPLAY_FORCEABLE, "actor kind"))
_Removed = Array(_EventId)
_Added = Array(AddedEvent, tables=True)


class Replay(Table):
    """History replay: force documented actions, remove or add single documented events."""

    force: Optional[_Forced] = Field(
        default=None, description="actor kinds whose documented actions are replayed")
    remove: Optional[_Removed] = Field(
        default=None, description="event_ids of the record to delete")
    add: Optional[_Added] = Field(
        default=None, description="events to add, in the record's columns")
    until: Optional[Day] = Field(
        default=None, description="force the record's actions up to and including this "
                                  "day only; afterwards the forced actors decide themselves "
                                  "(a forecast conditioned on the documented history)")

    @model_validator(mode="after")
    def _removed_are_documented(self, info: ValidationInfo) -> Any:
        """Removed events must be documented, and of an actor kind the replay forces (the
        record's events happen only for forced kinds, so removing another changes nothing).
        Checked only when a record is given (``context={"record": events}``)."""
        record = (info.context or {}).get("record")
        if record is None or not self.remove:
            return self
        kinds = dict(zip(record["event_id"].astype(str), record["actor_kind"].astype(str)))
        force = self.force or []
        for i, event_id in enumerate(self.remove):
            if event_id not in kinds:
                close = [k for k in kinds if event_id[:10] and k.startswith(event_id[:10])]
                hint = f"; on that date: {', '.join(close)}" if close else ""
                raise fail(f"no documented event {event_id!r} in the record{hint}",
                           at=f"remove[{i}]")
            if kinds[event_id] not in force:
                raise fail(f"{event_id!r} is a {kinds[event_id]} event, but replay.force "
                           f"does not force {kinds[event_id]!r}; removing it changes nothing",
                           at=f"remove[{i}]")
        return self


class _ScenarioBase(Table):
    @model_validator(mode="after")
    def _end_after_start(self) -> Any:
        if self.start and self.end and self.end < self.start:
            raise fail(f"end {self.end} is before start {self.start}", at="end")
        return self


def _registry_key() -> tuple:
    return tuple((name, id(cls), tuple(cls.parameters.items())) for name, cls in
                 sorted(REGISTRY.items()))


def scenario_model() -> type[Table]:
    """The pydantic model of a scenario's data (rebuilt when a rule is registered)."""
    return _scenario_model(_registry_key())


@lru_cache(maxsize=4)
def _scenario_model(_key: tuple) -> type[Table]:
    def table(cls: type, doc: str, defaults: dict | None = None, name: str = "") -> type[Table]:
        return _table(f"{cls.__name__}_{name}" if name else cls.__name__,
                      _param_fields(cls, defaults), doc)

    factions = {f: table(P.FactionParams, f"Faction {f}: capacities and leanings.",
                         P.FACTION_DEFAULTS[f], f) for f in ev.FACTIONS}
    militias = _keyed("Militias", "faction", factions,
                      "How every faction weighs grievance against fear, and one table per "
                      "faction.", extra=_param_fields(P.MilitiaCommon), others="a faction table")
    weapons = _keyed("Weapons", "weapon", {w: table(P.WeaponParams, f"Weapon {w}.",
                                                    P.WEAPON_DEFAULTS[w], w)
                                           for w in P.WEAPON_KEYS}, "Weapons' outcomes.")
    sites = _keyed("Sites", "site", {s: table(P.SiteParams, f"Site {s}.", P.SITE_DEFAULTS[s], s)
                                     for s in P.SITE_DEFAULTS}, "U.S. sites militias attack.")
    fields: dict[str, Any] = {
        "name": (Optional[Name], Field(default=None, description="the scenario's name "
                                       "(default: the file's stem; not inherited)")),
        "description": (Optional[Text], Field(default=None, description="the question the "
                                              "scenario asks (not inherited)")),
        "start": (Day, Field(default=date.fromisoformat(P.DEFAULT_START),
                             description="first simulated day")),
        "end": (Day, Field(default=date.fromisoformat(P.DEFAULT_END),
                           description="last simulated day, not before start")),
        "seed": (Number(*P.SEED_BOUNDS, integer=True),
                 Field(default=P.DEFAULT_SEED, description="replicate i of seed s is always "
                                                           "the same run")),
        "extends": (Optional[Text], Field(default=None, description="a scenario this one "
                                          "inherits from, relative to this file")),
        "shock_scale": (Number(*P.SHOCK_SCALE_BOUNDS),
                        Field(default=1.0, description="multiplies the tension of every "
                                                       "regional war and freeze")),
        "war_half_life_days": (Number(1.0, 5000.0),
                               Field(default=P.ModelParams.war_half_life_days,
                                     description="half-life of a regional war's tension")),
        "war_onset_days": (Number(0.0, 120.0),
                           Field(default=P.ModelParams.war_onset_days,
                                 description="time constant of a regional war's rise")),
        "iran": (Optional[table(P.IranParams, P.IranParams.__doc__)], None),
        "militias": (Optional[militias], None),
        "weapons": (Optional[weapons], None),
        "sites": (Optional[sites], None),
        "us": (Optional[_us_model()], Field(default=None, description="U.S. forces: `rule` "
                                            "and its parameters, and USParams fields")),
        "iraq": (Optional[table(P.IraqParams, P.IraqParams.__doc__)], None),
        "observation": (Optional[table(P.ObservationParams, P.ObservationParams.__doc__)], None),
        "shocks": (Optional[Array(_shock_model(), tables=True)],
                   Field(default=None, description="dated exogenous drivers")),
        "replay": (Optional[Replay], None),
    }
    assert tuple(fields) == TOP_KEYS
    return _table("Scenario", fields, "An escalation-sim scenario file (TOML).",
                  base=_ScenarioBase)


def validate_scenario(data: dict[str, Any], record: Any = None) -> dict[str, Any]:
    """Check merged scenario data; return it normalised (numbers typed as declared, dates as
    ISO strings, only the keys given).

    Args:
        data: the scenario's keys after ``extends`` and ``--set`` (``extends`` removed).
        record: the documented events (``replay.remove`` is checked against them), or None.

    Raises:
        InputError: with no file (the caller knows which file set the field), the dotted
            field and what is allowed.
    """
    try:
        model = scenario_model().model_validate(data, context={"record": record})
    except ValidationError as err:
        raise input_error(err) from None
    return model.model_dump(mode="json", exclude_unset=True)


def scenario_json_schema() -> dict[str, Any]:
    """The JSON Schema of a scenario file, for editors (``escalation schema scenario``).

    One file is checked on its own, so a child that sets a rule's parameters under ``[us]``
    without naming the rule (it inherits it) is accepted with any rule's parameters.
    """
    schema = scenario_model().model_json_schema()
    defs = schema.get("$defs", {})
    us = schema["properties"]["us"]
    union = next(s for s in us.get("anyOf", [us]) if "oneOf" in s)
    variants = union.pop("oneOf")
    union.pop("discriminator", None)
    for ref in variants:
        variant = defs[ref["$ref"].split("/")[-1]]
        variant.setdefault("required", []).append("rule")
    inherited: dict[str, Any] = {}
    for ref in variants:
        inherited.update(defs[ref["$ref"].split("/")[-1]]["properties"])
    inherited.pop("rule")
    union["anyOf"] = variants + [{"type": "object", "not": {"required": ["rule"]},
                                  "properties": inherited, "additionalProperties": False}]
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "escalation-sim scenario"
    return _drop_tags(schema)


def _drop_tags(node: Any) -> Any:
    """Remove pydantic's discriminator mappings (they name internal tags, not values)."""
    if isinstance(node, dict):
        node.pop("discriminator", None)
        return {k: _drop_tags(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_drop_tags(v) for v in node]
    return node


# --- The sweep spec ----------------------------------------------------------------------------
# Its shape: keys, types, the design and its sample size. What a varied path means, and its
# bounds, depend on the base scenario and are checked by sim.sweep.spec against sim.params.

DESIGNS = ("grid", "lhs", "sobol", "saltelli", "morris")
ROLES = ("lever", "uncertainty")
PARAM_KEYS = ("values", "bounds", "distribution", "integer", "role")
DEFAULT_REPLICATES = 10
DEFAULT_LEVELS = 4
SPEC_NAME = r"[A-Za-z0-9][A-Za-z0-9_.-]*"


def _whole_in(lo: int, hi: int, shown: str) -> Any:
    def check(v: Any) -> int:
        if isinstance(v, bool) or not isinstance(v, numbers.Integral) or not lo <= v <= hi:
            raise fail(f"expected a whole number in {shown}, got {v!r}")
        return int(v)
    return Annotated[int, Field(ge=lo, le=hi), BeforeValidator(check)]


def _spec_name(v: Any) -> str:
    if not isinstance(v, str) or not re.fullmatch(SPEC_NAME, v):
        raise fail(f"expected a name of letters, digits, '_', '-', '.', got {v!r}")
    return v


def _design(v: Any) -> str:
    if v not in DESIGNS:
        raise fail(f"{v!r}; allowed: {', '.join(DESIGNS)}")
    return v


def _scenario_path(v: Any) -> str:
    if not isinstance(v, str) or not v.strip():
        raise fail("expected a path to a scenario file, relative to this spec")
    return v


def _positive(v: Any) -> int:
    if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < 1:
        raise fail(f"expected a positive whole number, got {v!r}")
    return int(v)


def _bool(v: Any) -> bool:
    if not isinstance(v, bool):
        raise fail("expected true or false")
    return v


def _set_table(v: Any) -> dict:
    if not isinstance(v, dict):
        raise fail("expected a table of dotted keys and values")
    return v


def _parameter_tables(v: Any) -> dict:
    if not isinstance(v, dict) or not v:
        raise fail("missing; at least one [parameters.\"dotted.path\"] table")
    return v


_PARAMETER_TABLE = {
    "type": "object",
    "description": "a varied parameter: values (grid), or bounds and/or a scipy.stats "
                   "distribution with its arguments (sampled designs)",
    "properties": {
        "values": {"type": "array", "minItems": 1,
                   "items": {"anyOf": [{"type": "number"}, {"type": "string"}]}},
        "bounds": {"type": "array", "minItems": 2, "maxItems": 2, "items": {"type": "number"}},
        "distribution": {"type": "string", "description": "a continuous scipy.stats "
                                                          "distribution, e.g. truncnorm"},
        "integer": {"type": "boolean"},
        "role": {"enum": list(ROLES)},
        "loc": {"type": "number"}, "scale": {"type": "number"},
    },
    "additionalProperties": {"anyOf": [{"type": "number"}, {"type": "object"}]},
}


class _SweepBase(Table):
    @model_validator(mode="before")
    @classmethod
    def _required(cls, data: Any) -> Any:
        if isinstance(data, dict):
            if "design" not in data:
                raise fail(f"missing; allowed: {', '.join(DESIGNS)}", at="design")
            if "scenario" not in data:
                raise fail("missing; the base scenario file, relative to this spec "
                           "(e.g. \"../history.toml\")", at="scenario")
            if "parameters" not in data:
                raise fail("missing; at least one [parameters.\"dotted.path\"] table",
                           at="parameters")
        return data

    @model_validator(mode="after")
    def _design_keys(self) -> Any:
        design, samples, given = self.design, self.samples, self.model_fields_set
        if design == "grid":
            if samples is not None:
                raise fail("only for sampled designs (lhs, sobol, saltelli, morris); a grid's "
                           "size is the product of its values", at="samples")
        else:
            if samples is None:
                raise fail(f"missing; design {design!r} needs a number of samples",
                           at="samples")
            if design in ("sobol", "saltelli") and samples & (samples - 1):
                raise fail(f"{samples} is not a power of two; {design} designs need 2^m (e.g. "
                           "64, 128, 256) to keep the Sobol sequence balanced", at="samples")
            if design == "morris" and samples < 2:
                raise fail("morris needs at least 2 trajectories", at="samples")
        if "second_order" in given and design != "saltelli":
            raise fail("only for design = \"saltelli\"", at="second_order")
        if "levels" in given and design != "morris":
            raise fail("only for design = \"morris\"", at="levels")
        return self


@lru_cache(maxsize=1)
def sweep_model() -> type[Table]:
    """The pydantic model of a sweep spec's keys (``scenarios/sweeps/*.toml``)."""
    from sim.dynamics import SUMMARY_COLUMNS as ENGINE_COLUMNS
    from sim.outcomes import SWEEP_METRICS
    SUMMARY_COLUMNS = tuple(ENGINE_COLUMNS) + SWEEP_METRICS

    def metrics(v: Any) -> list:
        if not isinstance(v, list) or not v or not all(isinstance(m, str) for m in v):
            raise fail("expected a non-empty array of metric names; allowed: "
                       + ", ".join(SUMMARY_COLUMNS))
        for m in v:
            if m not in SUMMARY_COLUMNS:
                raise fail(f"unknown metric {m!r}; allowed: {', '.join(SUMMARY_COLUMNS)}")
        if len(set(v)) != len(v):
            raise fail("a metric is listed twice")
        return v

    fields: dict[str, Any] = {
        "name": (Annotated[str, Field(pattern=SPEC_NAME), BeforeValidator(_spec_name)],
                 Field(default=None, description="names the result folder (default: the "
                                                 "file's stem)")),
        "description": (Text, Field(default="", description="the question the sweep asks")),
        "scenario": (Annotated[str, BeforeValidator(_scenario_path)],
                     Field(description="base scenario file, relative to this spec")),
        "seed": (_whole_in(0, 2 ** 63 - 1, "[0, 2^63)"),
                 Field(default=None, description="default: the base scenario's seed")),
        "replicates": (_whole_in(1, 1_000_000, "[1, 1000000]"),
                       Field(default=DEFAULT_REPLICATES, description="runs per design point")),
        "design": (Annotated[Literal[DESIGNS], BeforeValidator(_design)],
                   Field(description="grid, or a sample: lhs, sobol, saltelli, morris")),
        "samples": (Annotated[int, Field(ge=1), BeforeValidator(_positive)],
                    Field(default=None, description="sampled designs only: lhs points; sobol "
                          "2^m points; saltelli N; morris N trajectories")),
        "second_order": (Annotated[bool, BeforeValidator(_bool)],
                         Field(default=None, description="saltelli only (default: true when "
                                                         "two or more parameters)")),
        "levels": (_whole_in(2, 100, "[2, 100]"),
                   Field(default=DEFAULT_LEVELS, description="morris only: grid levels")),
        "metrics": (Annotated[list[Literal[tuple(SUMMARY_COLUMNS)]], Field(min_length=1),
                              BeforeValidator(metrics)],
                    Field(default=list(ENGINE_COLUMNS), description="outcomes to keep (the "
                          "presence outcomes make the sweep record events, which costs time)")),
        "set": (Annotated[dict[str, Any], BeforeValidator(_set_table)],
                Field(default_factory=dict, description="fixed overrides of the base scenario,"
                                                        " by dotted path, as --set")),
        "parameters": (Annotated[dict[str, Any], BeforeValidator(_parameter_tables),
                                 WithJsonSchema({"type": "object", "minProperties": 1,
                                                 "additionalProperties": _PARAMETER_TABLE})],
                       Field(description="varied parameters by dotted path (sim.params; "
                                         "us.<param> for the rule's)")),
    }
    return _table("SweepSpec", fields, "An escalation-sim sweep spec (TOML).", base=_SweepBase)


def validate_sweep(data: Any) -> dict[str, Any]:
    """Check a sweep spec's keys and types; return them with defaults filled.

    Raises:
        InputError: with no file, the dotted field and what is allowed.
    """
    try:
        return dict(sweep_model().model_validate(data))
    except ValidationError as err:
        raise input_error(err) from None


def sweep_json_schema() -> dict[str, Any]:
    """The JSON Schema of a sweep spec file (``escalation schema sweep``)."""
    schema = sweep_model().model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "escalation-sim sweep spec"
    schema["required"] = ["scenario", "design", "parameters"]
    return _drop_tags(schema)


def json_schema(kind: str) -> dict[str, Any]:
    """``scenario`` or ``sweep``: the JSON Schema of that file format."""
    schemas = {"scenario": scenario_json_schema, "sweep": sweep_json_schema}
    if kind not in schemas:
        raise InputError(None, "KIND", f"unknown file format {kind!r}; allowed: scenario, sweep")
    return schemas[kind]()
