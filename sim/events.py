"""The event schema shared by the documented record and the simulation.

What lives here: the column list and dtypes (a contract of DESIGN.md), the controlled
vocabularies (actor kinds, actions, weapons, countries, factions), and the classification of
an event onto the escalation ladder, the CAMEO codebook and the Goldstein scale. Every table
of events, documented or simulated, passes through :func:`classify` and :func:`empty_events`,
so statistics computed on the record and on a simulation use the same definitions.

What does not live here: loading the record (``calibration.record``) or producing simulated
events (``sim.engine``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

# --- Columns (contract) -------------------------------------------------------------------

#: Columns of every event table, in order (DESIGN.md, "Events").
EVENT_COLUMNS: tuple[str, ...] = (
    "date", "actor", "actor_kind", "action", "weapon", "site", "country", "intercepted",
    "us_killed", "us_wounded", "coalition_killed", "militia_killed", "iraqi_killed",
    "civilian_killed", "rung", "goldstein", "cameo", "description", "source",
)

#: Extra columns this project adds to the contract (see the closing note of issue 2):
#: ``target`` says against whom an action was aimed (a faction key, ``us``, ``iraq`` or
#: ``iran``); DESIGN.md's schema has no place for it, yet strikes and Iran's answer need it.
EXTRA_COLUMNS: tuple[str, ...] = ("target",)

CASUALTY_COLUMNS: tuple[str, ...] = (
    "us_killed", "us_wounded", "coalition_killed", "militia_killed", "iraqi_killed",
    "civilian_killed",
)

ACTOR_KINDS: tuple[str, ...] = ("militia", "us", "iraq", "iran")

#: Militia factions named in the seeds (003_3137d872d5bc9f5a.txt), their umbrella, and a
#: key for attacks that no faction claimed and nobody attributed.
FACTIONS: tuple[str, ...] = (
    "kataib_hezbollah",
    "kataib_sayyid_al_shuhada",
    "harakat_al_nujaba",
    "asaib_ahl_al_haq",
    "kataib_imam_ali",
    "jund_al_imam",
    "ansar_allah_al_awfiya",
)
MILITIA_ACTORS: tuple[str, ...] = FACTIONS + ("islamic_resistance_in_iraq", "unattributed")

#: Actions by actor kind. ``attack``: a militia attack on a U.S./coalition site;
#: ``storming``: a crowd breaking into a compound; ``strike``: a U.S. strike on militia
#: facilities; ``leader_strike``: a strike that kills or targets leaders; ``state_attack``:
#: a state's own forces attacking another state's; ``condemnation``, ``statement``,
#: ``vote``, ``raid``, ``negotiation``, ``agreement``: political acts; ``suspension``: a
#: faction announces it stops attacking; ``exit``: U.S. forces leave a country.
ACTIONS: dict[str, tuple[str, ...]] = {
    "militia": ("attack", "storming", "statement", "suspension"),
    "us": ("strike", "leader_strike", "statement", "designation", "exit"),
    "iraq": ("condemnation", "statement", "vote", "raid", "negotiation", "agreement",
             "restraint"),
    "iran": ("state_attack", "statement", "directive"),
}
ALL_ACTIONS: tuple[str, ...] = tuple(sorted({a for v in ACTIONS.values() for a in v}))

WEAPONS: tuple[str, ...] = (
    "", "rocket", "drone", "ballistic_missile", "mortar", "ied", "small_arms", "crowd",
    "air_strike", "unknown",
)
COUNTRIES: tuple[str, ...] = ("", "iraq", "syria", "jordan", "iran")

RUNG_MIN, RUNG_MAX = 0, 9

#: The escalation ladder (DESIGN.md).
RUNG_LABELS: dict[int, str] = {
    0: "none",
    1: "verbal threat or condemnation",
    2: "non-damaging attack or storming",
    3: "attack that damages or wounds",
    4: "lethal attack on U.S./coalition personnel",
    5: "U.S. strike on militia facilities",
    6: "strike killing leaders",
    7: "state-on-state attack",
    8: "strike on Iranian territory",
    9: "open war",
}


# --- Classification -----------------------------------------------------------------------

#: CAMEO codes and Goldstein weights used by :func:`classify`.
#: Codes from the CAMEO codebook (Schrodt, "CAMEO Conflict and Mediation Event Observations
#: Event and Actor Codebook", v1.1b3, 2012); weights from the Goldstein (1992) scale as mapped
#: to CAMEO in that codebook's appendix and in the GDELT/ICEWS CAMEO-to-Goldstein table.
CAMEO: dict[str, tuple[str, float]] = {
    "statement": ("010", 0.0),      # Make statement, not specified below
    "condemnation": ("111", -2.0),  # Criticize or denounce
    "threat": ("138", -7.0),        # Threaten with military force
    "storming": ("145", -7.5),      # Protest violently, riot
    "raid": ("173", -5.0),          # Arrest, detain
    "negotiation": ("046", 7.0),    # Engage in negotiation
    "agreement": ("057", 8.0),      # Sign formal agreement
    "vote": ("166", -7.0),          # Expel or withdraw (expel foreign forces)
    "exit": ("0874", 10.0),         # Retreat or surrender militarily (withdraw forces)
    "suspension": ("087", 9.0),     # De-escalate military engagement
    "restraint": ("087", 9.0),      # De-escalate military engagement (on the militias)
    "designation": ("163", -8.0),   # Impose embargo, boycott, or sanctions
    "directive": ("010", 0.0),      # Make statement (orders to proxies are not observed)
    "attack_indirect": ("194", -10.0),  # Fight with artillery and tanks (rockets, mortars)
    "attack_aerial": ("195", -10.0),    # Employ aerial weapons (drones, missiles, air strikes)
    "attack_other": ("190", -10.0),     # Use conventional military force
    "leader_strike": ("186", -10.0),    # Assassinate
}


def attack_cameo(weapon: str) -> tuple[str, float]:
    """CAMEO code and Goldstein weight of a use of force, by weapon."""
    if weapon in ("rocket", "mortar"):
        return CAMEO["attack_indirect"]
    if weapon in ("drone", "ballistic_missile", "air_strike"):
        return CAMEO["attack_aerial"]
    return CAMEO["attack_other"]


def rung_of(action: str, actor_kind: str, country: str = "", wounded: int = 0,
            killed_us_coalition: int = 0, target: str = "") -> int:
    """Escalation-ladder rung (0-9) of one event; the ladder is DESIGN.md's.

    Attacks climb with their harm: harmless (2), damaging or wounding (3), lethal to
    U.S./coalition personnel (4). A state's own attack is 7, or 8 when it lands on Iran.
    """
    if action in ("statement", "condemnation", "designation", "vote", "directive"):
        return 1
    if action in ("negotiation", "agreement", "suspension", "restraint", "exit", "raid"):
        return 1 if action == "raid" else 0
    if action == "storming":
        return 2
    if action == "attack":
        if killed_us_coalition > 0:
            return 4
        return 3 if wounded > 0 else 2
    if action == "strike":
        return 8 if country == "iran" else 5
    if action == "leader_strike":
        return 8 if country == "iran" else 6
    if action == "state_attack":
        return 8 if country == "iran" else 7
    return 0


def classify(events: pd.DataFrame) -> pd.DataFrame:
    """Fill ``rung``, ``cameo`` and ``goldstein`` from action, weapon and casualties.

    Used on the record and on simulated events alike, so the ladder means the same on both.
    """
    out = events.copy()
    if out.empty:
        return out
    wounded = out["us_wounded"].fillna(0).astype(int).to_numpy()
    lethal = (out["us_killed"].fillna(0) + out["coalition_killed"].fillna(0)).astype(int).to_numpy()
    target = out["target"].fillna("") if "target" in out else pd.Series("", index=out.index)
    rungs, codes, weights = [], [], []
    for i, (action, kind, weapon, country, tgt) in enumerate(zip(
            out["action"], out["actor_kind"], out["weapon"].fillna(""),
            out["country"].fillna(""), target)):
        rungs.append(rung_of(action, kind, country, wounded[i], lethal[i], tgt))
        if action in ("attack", "strike", "state_attack"):
            code, weight = attack_cameo(weapon if action != "strike" else "air_strike")
        else:
            code, weight = CAMEO.get(action, CAMEO["statement"])
        codes.append(code)
        weights.append(weight)
    out["rung"] = np.asarray(rungs, dtype=np.int64)
    out["cameo"] = codes
    out["goldstein"] = np.asarray(weights, dtype=float)
    return out


# --- Construction -------------------------------------------------------------------------

_DTYPES: dict[str, str] = {
    "actor": "string", "actor_kind": "string", "action": "string", "weapon": "string",
    "site": "string", "country": "string", "intercepted": "boolean",
    **{c: "Int64" for c in CASUALTY_COLUMNS},
    "rung": "int64", "goldstein": "float64", "cameo": "string", "description": "string",
    "source": "string", "target": "string",
}


def empty_events(replicate: bool = False) -> pd.DataFrame:
    """An empty event table with the schema's columns and dtypes."""
    cols = list(EVENT_COLUMNS) + list(EXTRA_COLUMNS) + (["replicate"] if replicate else [])
    frame = pd.DataFrame({c: pd.Series(dtype=_DTYPES.get(c, "object")) for c in cols})
    frame["date"] = pd.Series(dtype="datetime64[ns]")
    if replicate:
        frame["replicate"] = pd.Series(dtype="int64")
    return frame[cols]


def conform(events: pd.DataFrame, replicate: bool | None = None) -> pd.DataFrame:
    """Order columns and set dtypes of an event table, adding missing optional columns."""
    if replicate is None:
        replicate = "replicate" in events.columns
    cols = list(EVENT_COLUMNS) + list(EXTRA_COLUMNS) + (["replicate"] if replicate else [])
    out = events.copy()
    for c in cols:
        if c not in out.columns:
            out[c] = pd.NA if c != "replicate" else 0
    out["date"] = pd.to_datetime(out["date"])
    for c, dt in _DTYPES.items():
        out[c] = out[c].astype(dt)
    if replicate:
        out["replicate"] = out["replicate"].astype("int64")
    return out[cols + [c for c in out.columns if c not in cols]]
