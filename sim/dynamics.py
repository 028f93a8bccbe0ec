"""The dynamics: one day of Iran, the militias, U.S. forces and the Iraqi government.

This is the single source of truth both engines call. Each actor's day is one compiled
function for one replicate (``iran_day``, ``militia_day``, ``us_day_before_rule`` /
``us_day_after_rule``, ``iraq_day``), written as plain scalar Python and compiled with numba
(``sim.kernels``); ``*_phase`` runs it for every replicate of a state. The Mesa engine
(``sim.model``) runs one replicate whose agents each call their phase (a militia agent calls
:func:`militia_phase` for its own faction); the batch engine (``sim.batch``) calls the same
phases for thousands of replicates at once. The deterrence rule (``sim.rules``) stays a plain
Python class, asked once a day for all replicates between the two halves of the U.S. day.

State and parameters are NumPy record arrays, one record per replicate (``s.fear[f]``,
``p.fac_alignment[f]``; field names are those of ``sim.params`` with a group prefix: ``iran_``,
``mil_`` militias in common, ``fac_`` per faction, ``wpn_`` per weapon, ``site_`` per site,
``us_``, ``iraq_``). Every random number comes from ``sim.kernels.uniform`` keyed by (seed,
replicate, day, slot), so a replicate's history does not depend on which engine or batch ran
it.

The order of a day (DESIGN.md): Iran, militias, U.S. forces, Iraqi government, bookkeeping.

The deterrence tension lives in :func:`attack_rate`: a strike raises the struck faction's fear
(deterrence, ``fear_weight``) and its grievance (provocation, ``grievance_weight``).
"""

from __future__ import annotations

import numpy as np

from sim import kernels as kn
from sim.arrays import ParamArrays
from sim.events import FACTIONS
from sim.kernels import emit, jit, jit_noalloc, uniform
from sim.params import WEAPON_KEYS
from sim.rng import Slot
from sim.rules import Observation

F = len(FACTIONS)
W = len(WEAPON_KEYS)
ROCKET, DRONE, BALLISTIC = range(W)
IRAQ, SYRIA, JORDAN = 0, 1, 2

#: Actor codes: factions 0..F-1, then these (the last two only in replayed records).
US, IRAQ_GOV, IRAN, UMBRELLA, UNATTRIBUTED = F, F + 1, F + 2, F + 3, F + 4
ACTOR_NAMES = list(FACTIONS) + ["us", "iraq", "iran", "islamic_resistance_in_iraq",
                                "unattributed"]
ACTIONS = ("attack", "strike", "leader_strike", "state_attack", "condemnation",
           "negotiation", "vote", "exit", "suspension", "storming", "statement", "raid",
           "agreement", "restraint", "designation", "directive")
A = {name: i for i, name in enumerate(ACTIONS)}
WEAPON_NAMES = list(WEAPON_KEYS) + ["air_strike", "", "mortar", "ied", "crowd", "small_arms",
                                    "unknown"]
COUNTRY_NAMES = ["iraq", "syria", "jordan", "iran", ""]

#: The escalation level of a day is the highest rung reached in the last this-many days: a
#: measurement convention (how long a rung "counts"), not a behavioural parameter.
LEVEL_WINDOW_DAYS = 30
NEVER = -1
RUNGS = 10
#: Most event rows one replicate's day can write (suspensions, attacks, strikes, Baghdad).
ROOM = F * (Slot.MAX_ATTACKS + 1) + 16

# Action codes as compile-time constants for the compiled days.
ATTACK, STRIKE, LEADER_STRIKE, STATE_ATTACK, CONDEMNATION, NEGOTIATION, VOTE, EXIT, \
    SUSPENSION, STORMING = range(10)
AIR_STRIKE = W
ATTACK_COUNT, ATTACK_SLOT, MAX_ATTACKS, ATTACK_FIELDS = (Slot.ATTACK_COUNT, Slot.ATTACK,
                                                         Slot.MAX_ATTACKS, Slot.ATTACK_FIELDS)
US_RULE, US_STRIKE, IRAN_ATTACK, IRAQ_SLOT = (Slot.US_RULE, Slot.US_STRIKE, Slot.IRAN_ATTACK,
                                              Slot.IRAQ)
STAND_DOWN_SLOT, STORMING_SLOT = Slot.STAND_DOWN, Slot.STORMING
RAID, DIRECTIVE = A["raid"], A["directive"]
CROWD = WEAPON_NAMES.index("crowd")
#: With no attribution, U.S. forces blame the faction the record names most (a test checks
#: it against calibration/data/events.csv): Kataib Hezbollah.
FALLBACK_FACTION = FACTIONS.index("kataib_hezbollah")
#: Columns of the daily inputs (sim.arrays.INPUTS).
IN_TENSION, IN_TROOPS_IRAQ, IN_TROOPS_SYRIA, IN_MISSION_ENDED, IN_PROTECTION = 0, 1, 2, 3, 4

DAILY_COLUMNS = ("attacks", "lethal_attacks", "strikes", "leader_strikes", "state_attacks",
                 "us_killed", "coalition_killed", "us_wounded", "militia_killed",
                 "iraqi_killed", "condemnations", "rung", "level", "directive", "sovereignty",
                 "fear", "grievance", "arsenal", "present_iraq", "present_syria",
                 "suspended", "risk", "excitement")

SUMMARY_COLUMNS = ("attacks", "lethal_attacks", "us_killed", "coalition_killed", "us_wounded",
                   "militia_killed", "iraqi_killed", "strike_rounds", "leader_strikes",
                   "condemnations", "highest_rung", "highest_rung_day", "days_at_rung5plus",
                   "us_left_iraq", "us_left_iraq_day", "iran_direct_attack", "raids",
                   "stormings", "stand_downs")

#: Today's counters (reset each day), as ``td_<name>`` fields of the state.
TODAY_COUNTS = ("attacks", "lethal_attacks", "us_killed", "coalition_killed", "us_wounded",
                "militia_killed", "iraqi_killed", "strikes", "leader_strikes", "state_attacks",
                "condemnations", "rung")


# --- Numbers from uniforms (NumPy-facing; the compiled days call sim.kernels directly) ---------

def poisson_from_uniform(u: np.ndarray, lam: np.ndarray, cap: int | None = None) -> np.ndarray:
    """Poisson(lam) by inversion of the CDF: one uniform per draw (``sim.kernels.poisson``).

    With ``cap`` the search stops there, giving min(Poisson(lam), cap).
    """
    u = np.asarray(u, dtype=float)
    lam = np.broadcast_to(np.asarray(lam, dtype=float), u.shape)
    out = kn.poisson_array(np.ascontiguousarray(u).reshape(-1),
                           np.ascontiguousarray(lam).reshape(-1), -1 if cap is None else cap)
    return out.reshape(u.shape)


def categorical_from_uniform(u: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Index drawn with probability proportional to ``weights`` (rows), one uniform per row."""
    u = np.asarray(u, dtype=float).reshape(-1)
    w = np.ascontiguousarray(np.broadcast_to(np.asarray(weights, dtype=float),
                                             (len(u), np.shape(weights)[-1])))
    return kn.categorical_rows(u, w)


# --- Behaviour ---------------------------------------------------------------------------------

@jit_noalloc
def directive_follow(directive_multiplier, alignment):
    """How much of Iran's directive a faction follows: multiplier ** alignment."""
    return 1.0 if directive_multiplier == 1.0 else directive_multiplier ** alignment


@kn.jit_inline
def attack_rate(base_rate, grievance, fear, tension, follow, alignment, leadership, restraint,
                restraint_effect, attack_rate_scale, grievance_weight, fear_weight,
                tension_weight, upper=False):
    """Expected attacks per day of a faction.

    A log-linear intensity: grievance provokes, fear deters, regional tension inflames;
    Iran's directive multiplies it as far as the faction follows Iran (``follow``, from
    :func:`directive_follow`); lost leaders weaken it; Baghdad's restraint cuts it, less for
    factions closer to Iran (``alignment``). ``upper``: an upper bound of it without the
    exponential (``sim.kernels.exp_upper``), for :func:`faction_rate`'s shortcut.
    """
    drive = min(max(grievance_weight * grievance - fear_weight * fear
                    + tension_weight * tension, -20.0), 8.0)
    return (attack_rate_scale * base_rate * (kn.exp_upper(drive) if upper else np.exp(drive))
            * follow * leadership * restrained(restraint, restraint_effect, alignment))


@kn.jit_inline
def restrained(restraint, restraint_effect, alignment):
    """The share of a faction's attacks Baghdad's restraint leaves: it cuts less for
    factions closer to Iran (``alignment``)."""
    return 1.0 - restraint * restraint_effect * (1.0 - 0.5 * alignment)


@kn.jit_inline
def iran_directive(score, escalate_threshold, restrain_threshold):
    """0 restrain, 1 normal, 2 escalate."""
    if score > escalate_threshold:
        return 2
    if score < restrain_threshold:
        return 0
    return 1


# --- State --------------------------------------------------------------------------------------

def _state_dtype() -> np.dtype:
    f8, i8, b1 = np.float64, np.int64, np.bool_
    fields = [
        ("key", np.uint64),
        # Iran
        ("anger", f8), ("risk", f8), ("directive", i8), ("directive_multiplier", f8),
        ("exchange_risk", f8),   # the risk of a direct exchange after Iran's own attack
        ("tension", f8),     # today's regional tension (Iran's day; the risk of deaths)
        ("retaliation_day", i8), ("order_day", i8),
        # militias, per faction
        ("grievance", f8, (F,)), ("fear", f8, (F,)), ("leadership", f8, (F,)),
        ("fighters", f8, (F,)), ("arsenal", f8, (F, W)), ("suspended", np.uint8, (F,)),
        ("obeying", np.uint8, (F,)), ("excitement", f8), ("td_excitement", f8),
        ("struck_iraq_day", i8, (F,)),
        ("stormed_day", i8, (F,)),
        # exposure_factor's last power and what it was worked out from (troops / reference,
        # elasticity): the troops present change a few times a run, the power is costly
        ("exposure_base", f8), ("exposure_elasticity", f8), ("exposure", f8),
        # U.S. forces
        ("harm", f8), ("harm_long", f8), ("harm_by_faction", f8, (F,)), ("attacks_since", i8),
        ("killed_since", i8), ("wounded_since", i8), ("days_since_strike", i8),
        ("strikes_so_far", i8), ("last_leader_day", i8), ("pending_day", i8), ("pending_size", f8),
        ("pending_leaders", b1), ("pending_target", i8), ("present_iraq", b1),
        ("present_syria", b1),
        # Iraqi government
        ("sovereignty", f8), ("restraint", f8), ("negotiating", b1), ("voted", b1),
        ("pressure", f8), ("standing", f8),
        ("exit_day", i8), ("syria_exit_day", i8),
        # today (reset each day) and the escalation level
        *[(f"td_{c}", i8) for c in TODAY_COUNTS], ("td_harm", f8), ("td_strike_in_iraq", b1),
        ("level", f8), ("last_at_rung", i8, (RUNGS,)),
        # the run's summary accumulators
        *[(f"acc_{c}", i8) for c in SUMMARY_COLUMNS],
    ]
    return np.dtype(fields, align=True)


STATE_DTYPE = _state_dtype()


class State:
    """Everything that changes during a run: one record per replicate (``rec``).

    ``s.fear`` and the like are views of the records' fields (replicates first), so NumPy
    code (the rules' observation, the Mesa agents' attributes) reads the compiled days' state.
    """

    def __init__(self, rec: np.ndarray, keys: np.ndarray):
        self.rec = rec
        self.keys = keys
        self.n = len(rec)

    def __getattr__(self, name: str):
        rec = self.__dict__.get("rec")
        if rec is not None and name in STATE_DTYPE.names:
            return rec[name]
        raise AttributeError(name)

    @property
    def today(self) -> dict[str, np.ndarray]:
        out = {c: self.rec[f"td_{c}"] for c in TODAY_COUNTS}
        out["harm"] = self.rec["td_harm"]
        out["strike_in_iraq"] = self.rec["td_strike_in_iraq"]
        return out

    @classmethod
    def initial(cls, p: ParamArrays, keys: np.ndarray) -> "State":
        n = keys.shape[0]
        rec = np.zeros(n, STATE_DTYPE)
        rec["key"] = keys[:, 0]
        rec["directive"] = 1
        rec["directive_multiplier"] = 1.0
        rec["retaliation_day"] = NEVER
        rec["order_day"] = NEVER
        rec["last_leader_day"] = -10 ** 6
        rec["struck_iraq_day"] = NEVER
        rec["stormed_day"] = NEVER
        rec["standing"] = 1.0
        rec["leadership"] = 1.0
        rec["fighters"] = p.faction["fighters"]
        rec["arsenal"] = np.stack([p.faction[f"arsenal_{w}"] for w in WEAPON_KEYS], axis=2)
        rec["days_since_strike"] = 10 ** 6
        rec["pending_day"] = NEVER
        rec["present_iraq"] = rec["present_syria"] = True
        rec["restraint"] = p.iraq["restraint"]
        rec["exit_day"] = rec["syria_exit_day"] = NEVER
        rec["last_at_rung"] = -10 ** 6
        rec["acc_highest_rung_day"] = NEVER
        rec["acc_us_left_iraq_day"] = NEVER
        rec["exposure_base"] = rec["exposure_elasticity"] = np.nan   # nothing worked out yet
        return cls(rec, keys)


# --- Parameters as records ---------------------------------------------------------------------

#: Sites are padded to a multiple of this (weight 0, never open), so every scenario shares one
#: record layout and one compiled (cached) version of the days.
SITE_BLOCK = 16


_RECORD_DTYPES: dict[np.dtype, np.dtype] = {}

#: Parameters every replicate's day reads (the others only on attacks, strikes and exits).
_DAILY_FIELDS = (
    "decay_anger", "shock_scale", "iran_directive_bias", "iran_tension_weight",
    "iran_anger_weight", "iran_escalate_threshold", "iran_restrain_threshold",
    "iran_can_stand_down", "iran_risk_weight", "decay_risk", "decay_contagion",
    "mil_negotiation_calm", "mil_mission_end_calm", "us_exposure_elasticity",
    "us_troops_iraq", "us_troops_syria",
    "fac_compliance", "fac_base_share", "decay_resolve", "decay_pressure", "decay_standing",
    "iran_escalate_multiplier", "iran_restrain_multiplier", "decay_grievance", "decay_fear",
    "recovery", "mil_suspend_margin", "mil_attack_rate_scale", "mil_grievance_weight",
    "mil_fear_weight", "mil_tension_weight", "mil_after_exit_factor",
    "mil_max_attacks_per_day", "iraq_restraint_effect", "decay_harm", "iraq_restraint",
    "iraq_restraint_erosion", "iraq_negotiate_threshold", "iraq_vote_threshold",
    "iraq_exit_threshold", "decay_sovereignty", "fac_base_attack_rate", "fac_alignment",
    "fac_follow_escalate", "fac_follow_restrain", "resupply", "capacity")


def param_record(p: ParamArrays) -> np.ndarray:
    """The parameters of ``p`` as one record per replicate, or a single record when all
    replicates share their parameters (the compiled days read ``P[r % len(P)]``, as
    :func:`row_of`); cached on ``p``."""
    if getattr(p, "_record", None) is not None:
        return p._record
    n, S = p.n, len(p.sites)
    SP = SITE_BLOCK * max(1, -(-S // SITE_BLOCK))
    cols: list[tuple[str, np.ndarray, tuple]] = []
    for prefix, group in (("iran_", p.iran), ("us_", p.us), ("iraq_", p.iraq)):
        cols += [(prefix + k, v, ()) for k, v in group.items()]
    cols += [("mil_" + k, v[:, 0], ()) for k, v in p.militia.items()]
    cols += [("fac_" + k, v, (F,)) for k, v in p.faction.items()]
    cols += [("wpn_" + k, v, (W,)) for k, v in p.weapon.items()]
    pad = lambda v: np.pad(v, ((0, 0), (0, SP - S)))  # noqa: E731
    cols += [("site_" + k, pad(v), (SP,)) for k, v in p.site.items()]
    cols += [("prefs", p.prefs, (F, W)), ("resupply", p.resupply, (F, W)),
             ("capacity", p.capacity, (F, W)), ("recovery", p.recovery[:, 0], ()),
             ("shock_scale", p.shock_scale, ())]
    cols += [("decay_" + k, v.reshape(n), ()) for k, v in p.decay.items()]
    base = p.faction["base_attack_rate"]
    cols += [("fac_base_share", base / np.maximum(base.sum(axis=1, keepdims=True), 1e-300), (F,))]
    cols += [(f"fac_follow_{d}", _follow_table(p.iran[f"{d}_multiplier"],
                                               p.faction["alignment"]), (F,))
             for d in ("escalate", "restrain")]
    ints = [("site_country", np.broadcast_to(np.pad(p.site_country, (0, SP - S)), (n, SP)),
             (SP,)),
            ("site_until", np.broadcast_to(np.pad(p.site_until, (0, SP - S)), (n, SP)), (SP,)),
            ("state_attack_site", np.full(n, p.sites.index("al_asad")
                                          if "al_asad" in p.sites else 0), ()),
            ("storming_site", np.full(n, p.sites.index("baghdad_embassy")
                                      if "baghdad_embassy" in p.sites else 0), ())]
    # The fields read every day first: fewer cache lines per replicate and day.
    hot = {name: i for i, name in enumerate(_DAILY_FIELDS)}
    cols.sort(key=lambda c: hot.get(c[0], len(hot)))
    dtype = np.dtype([(name, np.float64, shape) for name, _, shape in cols]
                     + [(name, np.int64, shape) for name, _, shape in ints], align=True)
    # One dtype object per layout: numba recognises a record type it has seen quickly only
    # when it is the same object (an equal new one costs ~6 us on every compiled call).
    dtype = _RECORD_DTYPES.setdefault(dtype, dtype)
    # Every replicate alike (each column's rows equal to the byte): one record, read by all
    # (P[r % 1]), filled from the first rows without building the n records first.
    alike = n > 1 and all(_rows_alike(v) for _, v, _ in cols + ints)
    rec = np.zeros(1 if alike else n, dtype)
    for name, v, _ in cols + ints:
        rec[name] = v[:1] if alike else v
    p._record = rec
    return rec


def _rows_alike(v: np.ndarray) -> bool:
    """Whether every row of ``v`` (replicates first) equals the first, byte for byte (as
    the records would: -0.0 differs from 0.0, a NaN equals the same NaN)."""
    b = np.ascontiguousarray(v)
    b = b.view(np.uint8).reshape(len(b), -1)
    return bool((b == b[0]).all())


@jit
def _follow_table(multiplier, alignment):
    out = np.empty(alignment.shape)
    for r in range(alignment.shape[0]):
        for f in range(alignment.shape[1]):
            out[r, f] = directive_follow(multiplier[r], alignment[r, f])
    return out


# --- Event log ------------------------------------------------------------------------------

class EventLog:
    """Events as rows of integer codes in one growing table; None when not recording.

    The compiled days write rows straight into ``rows`` (``sim.kernels.emit``; int32, half
    the memory traffic of int64); a phase that might run out of room stops at a replicate,
    the table grows and the phase resumes. ``capacity``: rows to start with (untouched rows
    cost no memory: the table starts as zero pages).
    """

    COLUMNS = ("replicate", "day", "actor", "action", "weapon", "site", "country",
               "intercepted", "us_killed", "us_wounded", "coalition_killed", "militia_killed",
               "iraqi_killed", "civilian_killed", "target", "rung", "documented")

    def __init__(self, capacity: int = 4096):
        self.rows = np.zeros((capacity, len(self.COLUMNS)), np.int32)
        self.count = np.zeros(1, np.int64)

    def reserve(self, more: int) -> None:
        need = int(self.count[0]) + more
        if need > len(self.rows):
            grown = np.zeros((max(need, 2 * len(self.rows)), len(self.COLUMNS)), np.int32)
            grown[: self.count[0]] = self.rows[: self.count[0]]
            self.rows = grown

    def emit(self, idx: np.ndarray, day: int, **cols) -> None:
        """Rows for replicates ``idx`` from Python (documented events, forced exits)."""
        m = len(idx)
        if m == 0:
            return
        self.reserve(m)
        lo = int(self.count[0])
        block = self.rows[lo: lo + m]
        block[:, 0] = idx
        block[:, 1] = day
        for i, c in enumerate(self.COLUMNS[2:], start=2):
            block[:, i] = cols.get(c, -1 if c in ("weapon", "site", "country", "target",
                                                  "intercepted") else 0)
        self.count[0] += m

    def columns(self) -> dict[str, np.ndarray]:
        """The events by column, in (replicate, day) order (within a day: as they happened)."""
        # Rows come day by day (each replicate's in order): a stable sort by replicate.
        by_column = kn.columns_by_replicate(self.rows, int(self.count[0]))
        return {c: by_column[i] for i, c in enumerate(self.COLUMNS)}


_NO_ROWS = np.zeros((0, len(EventLog.COLUMNS)), np.int32)
_NO_COUNT = np.zeros(1, np.int64)


def _each_replicate(kernel, s: "State", log: EventLog | None, *args) -> None:
    """Run ``kernel`` (a compiled loop over replicates from a start) for every replicate; it
    stops at a replicate when the event table may not have room, the table grows, it resumes."""
    if log is None:
        kernel(s.rec, *args, _NO_ROWS, _NO_COUNT, 0)
        return
    start = kernel(s.rec, *args, log.rows, log.count, 0)
    while start < s.n:
        log.reserve(ROOM * min(s.n - start, 4096))
        start = kernel(s.rec, *args, log.rows, log.count, start)


@kn.jit_inline
def full(ev, count):
    """Whether one more replicate's day might not fit the event table."""
    return ev.shape[0] > 0 and count[0] + ROOM > ev.shape[0]


@kn.jit_inline
def row_of(r, m):
    """``r % m``: replicate ``r``'s row of a table of ``m`` rows (parameter records, daily
    inputs), without the division in the usual cases: one row shared by all replicates, or
    one row each."""
    if m == 1:
        return 0
    if r < m:
        return r
    return r % m


@kn.jit_inline
def raise_rung(s, rung):
    """Today's rung is the highest reached today."""
    if rung > s.td_rung:
        s.td_rung = rung


# --- Iran ----------------------------------------------------------------------------------------

@kn.jit_inline
def iran_day(s, p, r, t, inp, decides, ev, count):
    """Iran sets its directive, resupplies its proxies and answers the killing of its own.

    The directive weighs what pushing the proxies gains (regional tension, anger at U.S.
    strikes) against what it risks (``risk``: a direct U.S. answer against Iran, raised by
    U.S. deaths the proxies cause, more during a regional war (``iran.war_risk_weight``), by
    large U.S. strike rounds and by Iran's own attacks).
    Turning to 'restrain' is an order to stand down (``order_day``), which each faction
    obeys or not (:func:`militia_day`). ``inp``: the day's exogenous inputs (rows by
    replicate). ``decides`` False (history replay): the record's acts replace Iran's own
    attack decision.
    """
    s.anger *= p.decay_anger
    s.risk *= p.decay_risk
    s.exchange_risk *= p.decay_risk
    tension = inp[row_of(r, inp.shape[0]), IN_TENSION] * p.shock_scale
    s.tension = tension
    score = (p.iran_directive_bias + p.iran_tension_weight * tension
             + p.iran_anger_weight * s.anger - p.iran_risk_weight * s.risk)
    was = s.directive
    s.directive = iran_directive(score, p.iran_escalate_threshold, p.iran_restrain_threshold)
    if s.directive == 0 and p.iran_can_stand_down < 0.5:
        s.directive = 1       # the what-if in which Iran never orders a stand-down
    if s.directive != was and s.directive != 1:
        if s.directive == 0:
            s.order_day = t
        if decides:   # on the record only when Iran decides (not under history replay)
            emit(ev, count, r, t, IRAN, DIRECTIVE, -1, -1, -1, -1, 0, 0, 0, 0, 0, UMBRELLA,
                 0 if s.directive == 0 else 1, 0)
    if s.directive == 2:
        s.directive_multiplier = p.iran_escalate_multiplier
    elif s.directive == 0:
        s.directive_multiplier = p.iran_restrain_multiplier
    else:
        s.directive_multiplier = 1.0
    # Resupply up to capacity (a stock above capacity, e.g. at the start, is not cut).
    for f in range(F):
        for w in range(W):
            stock = s.arsenal[f, w]
            s.arsenal[f, w] = max(min(stock + p.resupply[f, w], p.capacity[f, w]), stock)
    if decides and s.retaliation_day == t:
        iran_state_attack(s, p, r, t, lethal_share(p, inp[row_of(r, inp.shape[0])]), ev,
                          count)
        s.retaliation_day = NEVER


@jit_noalloc
def iran_state_attack(s, p, r, t, lethal, ev, count):
    """Iran's own ballistic-missile attack on al-Asad (as on 2020-01-08), its outcome drawn;
    ``lethal``: the share of its lethal chance the day's force protection leaves
    (:func:`lethal_share`)."""
    k = s.key
    intercepted = uniform(k, t, IRAN_ATTACK) < p.wpn_intercept_probability[BALLISTIC]
    wounded = 0
    killed = 0
    if not intercepted:
        wounded = kn.poisson(uniform(k, t, IRAN_ATTACK + 1), p.wpn_wounded_mean[BALLISTIC], -1)
        if uniform(k, t, IRAN_ATTACK + 2) < p.wpn_lethal_probability[BALLISTIC] * lethal:
            killed = 1 + kn.poisson(uniform(k, t, IRAN_ATTACK + 3),
                                    p.wpn_killed_extra_mean[BALLISTIC], -1)
    us_k = killed if uniform(k, t, IRAN_ATTACK + 4) < p.us_us_share_of_killed else 0
    book_state_attack(s, p, r, t, p.state_attack_site, int(intercepted), wounded, us_k,
                      killed - us_k, 0, ev, count)


@jit_noalloc
def book_state_attack(s, p, r, t, site, intercepted, wounded, us_k, co_k, documented, ev,
                      count):
    """Book Iran's own attack, decided by the model or replayed from the record: its harm,
    the rung, and the risk Iran now runs of a direct exchange (``iran.risk_per_own_attack``;
    a replayed attack raises it as Iran's own does). That risk holds back Iran's own next
    answer (:func:`execute_strike`), not its proxies: after 2020-01-08 Iran stepped back from
    direct exchange while the militias' campaign went on."""
    s.exchange_risk += p.iran_risk_per_own_attack
    s.td_state_attacks += 1
    s.td_us_killed += us_k
    s.td_coalition_killed += co_k
    s.td_us_wounded += wounded
    raise_rung(s, 7)
    emit(ev, count, r, t, IRAN, STATE_ATTACK, BALLISTIC, site, p.site_country[site],
         intercepted, us_k, wounded, co_k, 0, 0, US, 7, documented)


@jit_noalloc
def _iran_all(S, P, t, inp, decides, ev, count, start):
    for r in range(start, S.shape[0]):
        if full(ev, count):
            return r
        iran_day(S[r], P[row_of(r, len(P))], r, t, inp, decides, ev, count)
    return S.shape[0]


def iran_phase(s: State, p: ParamArrays, t: int, log: EventLog | None,
               documented: list[dict] | None = None) -> None:
    """Iran's day for every replicate (:func:`iran_day`).

    ``documented`` (history replay) replaces Iran's own attack decision with the record's.
    """
    P = param_record(p)
    _each_replicate(_iran_all, s, log, P, t, p.inputs[t], documented is None)
    for ev in documented or ():
        everyone = np.arange(s.n)
        if ev["action"] == "state_attack":
            site = p.sites.index(ev["site"]) if ev.get("site") in p.sites else \
                int(P["state_attack_site"][0])
            _each_replicate(_documented_state_attack_all, s, log, P, t, site,
                            int(ev.get("intercepted", -1)), int(ev.get("us_wounded", 0)),
                            int(ev.get("us_killed", 0)), int(ev.get("coalition_killed", 0)))
        elif log is not None:  # Iran's statements: on the record, no effect
            log.emit(everyone, t, actor=IRAN, action=A[ev["action"]],
                     target=ev["target_code"], rung=1, documented=1)


@jit_noalloc
def _documented_state_attack_all(S, P, t, site, intercepted, wounded, us_k, co_k, ev, count,
                                 start):
    for r in range(start, S.shape[0]):
        if full(ev, count):
            return r
        book_state_attack(S[r], P[row_of(r, len(P))], r, t, site, intercepted, wounded, us_k,
                          co_k, 1, ev, count)
    return S.shape[0]


# --- Militias ------------------------------------------------------------------------------------

@kn.jit_inline
def militia_day(s, p, r, t, factions, inp, forced, n_att, scratch, ev, count):
    """Each faction's day: memories fade, it may suspend (out of fear, or on Iran's order if
    it obeys), storm a U.S. site after a strike on it in Iraq, then decides how many attacks,
    with which weapon, on which U.S. site; outcomes are drawn per attack.

    ``factions``: the factions acting (a Mesa militia agent passes its own).
    ``inp``: the day's exogenous inputs (rows by replicate: tension, troops).
    ``forced`` (history replay) keeps the state dynamics but leaves attacking to the record.
    ``n_att``, ``scratch``: room for the day's attack counts (F) and the weights of sites
    and weapons (:func:`scratch_for`).
    """
    row = inp[row_of(r, inp.shape[0])]
    tension = row[IN_TENSION] * p.shock_scale
    # The day's factors common to every faction (once per replicate and day): fewer troops,
    # fewer attacks; and once the end of the combat mission is announced, the factions'
    # stated aim is on its way (``militias.mission_end_calm``; 0 = no effect).
    common = (exposure_factor(s, p, row)
              * (1.0 - p.mil_mission_end_calm * row[IN_MISSION_ENDED]))
    most = 0
    for f in factions:
        n_att[f] = 0
        s.grievance[f] *= p.decay_grievance
        s.fear[f] *= p.decay_fear
        s.leadership[f] += (1.0 - s.leadership[f]) * p.recovery
        margin = s.fear[f] - s.grievance[f]
        was = s.suspended[f]
        suspend_now = (not was) and margin > p.mil_suspend_margin
        resume = was and margin < 0.5 * p.mil_suspend_margin
        s.suspended[f] = (was or suspend_now) and not resume
        # Iran's order to stand down: obeyed or not, faction by faction, once per order.
        if s.directive != 0:
            s.obeying[f] = 0
        elif s.order_day == t:
            obeys = uniform(s.key, t, STAND_DOWN_SLOT + f) < p.fac_compliance[f]
            s.obeying[f] = obeys
            if obeys and not forced:
                s.acc_stand_downs += 1
                if not s.suspended[f]:
                    emit(ev, count, r, t, f, SUSPENSION, -1, -1, -1, -1, 0, 0, 0, 0, 0, US, 0, 0)
        if suspend_now and not forced:
            emit(ev, count, r, t, f, SUSPENSION, -1, -1, -1, -1, 0, 0, 0, 0, 0, US, 0, 0)
        if forced or s.suspended[f] or s.obeying[f] or not (s.present_iraq or s.present_syria):
            continue        # no attacks today (a rate of zero draws zero)
        maybe_storm(s, p, r, t, f, ev, count)
        # directive_follow(s.directive_multiplier, alignment), worked out once per run
        follow = (p.fac_follow_escalate[f] if s.directive == 2 else
                  p.fac_follow_restrain[f] if s.directive == 0 else 1.0)
        u = uniform(s.key, t, ATTACK_COUNT + f)
        # Most days a faction does not attack; when the uniform says so even under an upper
        # bound of the rate, the exact rate (two exponentials) is not needed: the same draw.
        if u < 1.0 - faction_rate(s, p, f, tension, common, follow, True):
            continue
        k = kn.poisson(u, faction_rate(s, p, f, tension, common, follow, False),
                       int(p.mil_max_attacks_per_day))
        if k == 0:
            continue
        stock = 0.0
        for w in range(W):
            if s.arsenal[f, w] >= 1.0 and p.prefs[f, w] > 0:
                stock += np.floor(s.arsenal[f, w])
        n_att[f] = int(min(min(float(k), p.mil_max_attacks_per_day), stock))
        most = max(most, n_att[f])
    if most == 0:
        return
    lethal = lethal_share(p, row)
    open_sites = site_open(s, p, t, scratch[:p.site_weight.shape[0]])
    weights = scratch[p.site_weight.shape[0]:p.site_weight.shape[0] + W]
    for k in range(most):          # every faction's k-th attack, then the (k+1)-th
        for f in factions:
            if n_att[f] > k:
                militia_attack(s, p, r, t, f, k, open_sites, weights, lethal, ev, count)


@kn.jit_inline
def faction_rate(s, p, f, tension, common, follow, upper):
    """Faction ``f``'s expected attacks today: its own rate (:func:`attack_rate`) and what
    recent attacks excite (:func:`contagion_rate`), scaled by the day's ``common`` factor
    (the U.S. troops exposed and the announced end of the combat mission), by the U.S. exit
    from Iraq and by Baghdad's negotiation of that exit. ``upper``: an upper
    bound without exponentials (every factor but Baghdad's restraint is non-negative, and a
    negative restraint share makes both the rate and the bound negative: no attack)."""
    lam = attack_rate(
        p.fac_base_attack_rate[f], s.grievance[f], s.fear[f], tension,
        follow, p.fac_alignment[f], s.leadership[f], s.restraint,
        p.iraq_restraint_effect, p.mil_attack_rate_scale, p.mil_grievance_weight,
        p.mil_fear_weight, p.mil_tension_weight, upper)
    lam += contagion_rate(s.excitement * p.fac_base_share[f], s.fear[f], follow,
                          p.fac_alignment[f], s.leadership[f], s.restraint,
                          p.iraq_restraint_effect, p.mil_fear_weight, upper)
    lam *= common * (1.0 if s.present_iraq else p.mil_after_exit_factor)
    if s.negotiating and s.present_iraq:
        lam *= p.mil_negotiation_calm
    return lam


@kn.jit_inline
def contagion_rate(excitement, fear, follow, alignment, leadership, restraint,
                   restraint_effect, fear_weight, upper=False):
    """Attacks per day a faction adds from the excitation of recent attacks (its share of
    ``excitement``): emulation and competition for Iran's favour. Fear, a restraining
    directive, lost leaders and Baghdad's restraint damp it; nothing amplifies it, so one
    attack sets off at most ``contagion_branching`` others on average (a stable Hawkes
    process; Lewis et al. 2012). ``upper``: an upper bound, as :func:`attack_rate`'s."""
    damp = -fear_weight * max(fear, 0.0)
    return (excitement * (kn.exp_upper(damp) if upper else np.exp(damp)) * min(follow, 1.0)
            * leadership * restrained(restraint, restraint_effect, alignment))


@kn.jit_inline
def lethal_share(p, row):
    """The share of an attack's chance to kill that the day's force protection leaves:
    1 - ``us.force_protection`` x the scenario's ``force_protection`` input (0-1; documented
    posture, e.g. the air defences reinforced on 2023-10-21). The same uniform decides, so a
    run without it is the run it was."""
    return 1.0 - p.us_force_protection * row[IN_PROTECTION]


@kn.jit_inline
def exposure_factor(s, p, row):
    """(U.S. troops present / the reference posture) ** ``us.exposure_elasticity``: fewer
    troops, fewer targets and fewer attacks. The reference is ``us.troops_iraq`` +
    ``us.troops_syria``; the day's troops come from the scenario's documented posture."""
    if p.us_exposure_elasticity == 0.0:
        return 1.0
    ref = p.us_troops_iraq + p.us_troops_syria
    if ref <= 0:
        return 1.0
    present = (row[IN_TROOPS_IRAQ] * s.present_iraq + row[IN_TROOPS_SYRIA] * s.present_syria)
    base, elasticity = present / ref, p.us_exposure_elasticity
    if base != s.exposure_base or elasticity != s.exposure_elasticity:   # else: as last time
        s.exposure_base, s.exposure_elasticity = base, elasticity
        s.exposure = base ** elasticity
    return s.exposure


@kn.jit_inline
def maybe_storm(s, p, r, t, f, ev, count):
    """A faction struck in Iraq within ``storming_window_days``, aggrieved beyond
    ``storming_grievance``, may storm a U.S. site (its supporters, as at the embassy on
    2019-12-31), once per strike; the storming books harm in the U.S. ledger."""
    if (s.present_iraq and s.struck_iraq_day[f] != NEVER
            and t - s.struck_iraq_day[f] <= p.mil_storming_window_days
            and s.stormed_day[f] < s.struck_iraq_day[f]
            and s.grievance[f] > p.mil_storming_grievance
            and uniform(s.key, t, STORMING_SLOT + f) < p.mil_storming_probability):
        s.stormed_day[f] = t
        s.acc_stormings += 1
        record_attack(s, p, r, t, f, CROWD, p.storming_site, IRAQ, -1, 0, 0, 0, 0.0, 0,
                      STORMING, ev, count)


@jit_noalloc
def site_open(s, p, t, out):
    """Site weights where the U.S. still holds the site (not handed over, still in country)."""
    for i in range(out.shape[0]):
        c = p.site_country[i]
        present = s.present_iraq if c == IRAQ else s.present_syria
        out[i] = p.site_weight[i] if t < p.site_until[i] and present else 0.0
    return out


@jit
def scratch_for(P):
    """Room for :func:`militia_day`'s site and weapon weights."""
    return np.empty(P[0].site_weight.shape[0] + W)


@jit_noalloc
def militia_attack(s, p, r, t, f, k, site_w, weights, lethal, ev, count):
    """Faction ``f``'s ``k``-th attack today: weapon, site, and what it does; ``lethal``: the
    share of its chance to kill the day's force protection leaves (:func:`lethal_share`)."""
    base = ATTACK_SLOT + (f * MAX_ATTACKS + k) * ATTACK_FIELDS
    total = 0.0
    for w in range(W):
        weights[w] = p.prefs[f, w] if s.arsenal[f, w] >= 1.0 else 0.0
        total += weights[w]
    if total <= 0 or site_w.sum() <= 0:
        return
    key = s.key
    weapon = kn.categorical(uniform(key, t, base), weights)
    site = kn.categorical(uniform(key, t, base + 1), site_w)
    s.arsenal[f, weapon] -= 1.0
    # The outcome: interception, wounded, killed, and how many of the dead were U.S.
    p_int = p.wpn_intercept_probability[weapon] * p.site_air_defence[site]
    intercepted = uniform(key, t, base + 2) < p_int
    wounded = 0
    killed = 0
    if not intercepted:
        wounded = kn.poisson(uniform(key, t, base + 3), p.wpn_wounded_mean[weapon], -1)
        if uniform(key, t, base + 4) < p.wpn_lethal_probability[weapon] * lethal:
            killed = 1 + kn.poisson(uniform(key, t, base + 5), p.wpn_killed_extra_mean[weapon],
                                    -1)
    us_killed = killed if uniform(key, t, base + 6) < p.us_us_share_of_killed else 0
    record_attack(s, p, r, t, f, weapon, site, p.site_country[site], int(intercepted), wounded,
                  us_killed, killed - us_killed, uniform(key, t, base + 7), 0, ATTACK, ev,
                  count)


@jit_noalloc
def record_attack(s, p, r, t, f, weapon, site, country, intercepted, wounded, us_killed,
                  coalition_killed, u_attribution, documented, action, ev, count):
    """Book an attack's harm (U.S. ledger, today's counts), what it does to Iran's risk, to
    the excitation of other factions and to the pressure on Baghdad, and its event.

    Attribution: U.S. forces attribute the harm to the faction with chance
    ``us.attribution_accuracy`` (less while the factions claim collectively under Iran's
    'escalate' directive); of the rest, the share ``us.misattribution`` is blamed on the
    faction the record names most (:data:`FALLBACK_FACTION`), whoever attacked.
    """
    killed = us_killed + coalition_killed
    harm = p.us_harm_per_attack + p.us_harm_per_wounded * wounded + p.us_harm_per_killed * killed
    if action == STORMING:
        harm += p.us_harm_per_storming
    s.harm += harm
    s.harm_long += harm
    if f < F:
        accuracy = p.us_attribution_accuracy * (p.us_umbrella_attribution_factor
                                                if s.directive == 2 else 1.0)
        if u_attribution < accuracy:
            s.harm_by_faction[f] += harm
        elif u_attribution < accuracy + (1.0 - accuracy) * p.us_misattribution:
            s.harm_by_faction[FALLBACK_FACTION] += harm
    if f < US or f >= UMBRELLA:     # a militia's attack (a faction, the umbrella, unknown)
        # Excitation (folded in at the end of the day, so the order factions act in a day
        # does not matter) and Iran's risk from the deaths its proxies cause.
        s.td_excitement += (p.mil_contagion_branching * (1.0 - p.decay_contagion)
                            * (p.mil_contagion_lethal_factor if killed > 0 else 1.0))
        s.risk += p.iran_risk_per_us_death * killed * (1.0 + p.iran_war_risk_weight * s.tension)
    if country == IRAQ:
        s.pressure += 1.0
    s.td_attacks += 1
    s.td_lethal_attacks += killed > 0
    s.td_us_killed += us_killed
    s.td_coalition_killed += coalition_killed
    s.td_us_wounded += wounded
    s.td_harm += harm
    s.attacks_since += 1
    s.killed_since += killed
    s.wounded_since += wounded
    rung = 4 if killed > 0 else (3 if wounded > 0 else 2)
    raise_rung(s, rung)
    emit(ev, count, r, t, f, action, weapon, site, country, intercepted, us_killed, wounded,
         coalition_killed, 0, 0, US, rung, documented)


@jit_noalloc
def _militia_all(S, P, t, factions, inp, forced, n_att, scratch, ev, count, start):
    for r in range(start, S.shape[0]):
        if full(ev, count):
            return r
        militia_day(S[r], P[row_of(r, len(P))], r, t, factions, inp, forced, n_att, scratch,
                    ev, count)
    return S.shape[0]


_ALL_FACTIONS = np.arange(F, dtype=np.int64)


def militia_phase(s: State, p: ParamArrays, t: int, log: EventLog | None,
                  factions: np.ndarray | None = None, forced: bool = False) -> None:
    """The militias' day for every replicate (:func:`militia_day`).

    ``factions`` restricts the phase to some factions (a Mesa militia agent passes its own).
    """
    fs = _ALL_FACTIONS if factions is None else np.asarray(factions, dtype=np.int64)
    P = param_record(p)
    room = getattr(p, "_militia_room", None)   # the day's counts and weights, rewritten each
    if room is None:                           # day: made once per run (a Mesa run asks
        room = p._militia_room = (np.zeros(F, np.int64), scratch_for(P))   # 13,000 times)
    _each_replicate(_militia_all, s, log, P, t, fs, p.inputs[t], forced, *room)


def documented_attacks(s: State, p: ParamArrays, t: int, log, events: list[dict]) -> None:
    """History replay: the record's militia actions of the day, with their recorded outcomes,
    land in every replicate (attacks and stormings feed the U.S. harm ledger)."""
    r = np.arange(s.n)
    P = param_record(p)
    for ev in events:
        if ev["action"] not in ("attack", "storming"):
            if log is not None:
                log.emit(r, t, actor=ev["actor_code"], action=A[ev["action"]],
                         target=ev["target_code"], rung=0, documented=1)
            continue
        _each_replicate(_documented_attack_all, s, log, P, t, int(ev["actor_code"]),
                        int(ev["weapon"]), int(ev["site_code"]), int(ev["country"]),
                        int(ev["intercepted"]), int(ev["us_wounded"]), int(ev["us_killed"]),
                        int(ev["coalition_killed"]), A[ev["action"]])


@jit_noalloc
def _documented_attack_all(S, P, t, actor, weapon, site, country, intercepted, wounded,
                           us_killed, coalition_killed, action, ev, count, start):
    for r in range(start, S.shape[0]):
        if full(ev, count):
            return r
        record_attack(S[r], P[row_of(r, len(P))], r, t, actor, weapon, site, country,
                      intercepted, wounded, us_killed, coalition_killed, 0.0, 1, action, ev,
                      count)
    return S.shape[0]


# --- U.S. forces ------------------------------------------------------------------------------

def seen_tables(n: int) -> tuple[Observation, np.ndarray, np.ndarray, np.ndarray]:
    """An observation of ``n`` replicates over tables :func:`record_seen` fills (its integer
    and float fields, :data:`SEEN_INT` and :data:`SEEN_FLOAT`), and the rule's uniforms."""
    seen_i = np.zeros((len(SEEN_INT), n), np.int64)
    seen_f = np.zeros((len(SEEN_FLOAT), n))
    obs = Observation(day=0, **dict(zip(SEEN_INT, seen_i)), **dict(zip(SEEN_FLOAT, seen_f)))
    return obs, seen_i, seen_f, np.zeros(n)


def observe(s: State, t: int = 0) -> tuple[Observation, np.ndarray]:
    """What the deterrence rule sees today, and its uniform numbers: :func:`record_seen` for
    every replicate, the one definition both engines use."""
    obs, seen_i, seen_f, u = seen_tables(s.n)
    obs.day = t
    _seen_all(s.rec, t, seen_i, seen_f, u)
    return obs, u


@kn.jit_inline
def us_day_before_rule(s, p, r, t, ev, count):
    """The U.S. day up to the rule: land a strike decided earlier if it is due; return whether
    the rule is asked today (an attack was seen, no strike on its way, still in the region)."""
    s.days_since_strike += 1
    if s.pending_day == t:
        land_pending_strike(s, p, r, t, ev, count)
    return (s.td_attacks > 0 and s.pending_day == NEVER and s.days_since_strike > 0
            and (s.present_iraq or s.present_syria))


@kn.jit_inline
def us_day_after_rule(s, p, r, t, strike, size, leaders, ev, count):
    """The U.S. day after the rule: a decided strike lands after the lag (today if none);
    the harm ledger fades."""
    if strike:
        s.pending_day = t + int(p.us_lag_days)
        s.pending_size = min(size, p.us_max_strike_size)
        s.pending_leaders = leaders
        s.pending_target = responsible_faction(s, p)
        if s.pending_day == t:  # a zero lag strikes the same day
            land_pending_strike(s, p, r, t, ev, count)
    fade_harm(s, p)


@kn.jit_inline
def fade_harm(s, p):
    """The U.S. harm ledger fades at the end of its day: the harm since the last strike and
    its attribution by faction (``us.harm_half_life_days``), and the campaign's long memory
    (``us.resolve_half_life_days``)."""
    s.harm *= p.decay_harm
    s.harm_long *= p.decay_resolve
    for f in range(F):
        s.harm_by_faction[f] *= p.decay_harm


@jit_noalloc
def land_pending_strike(s, p, r, t, ev, count):
    """Land the strike decided earlier. Where: leader strikes in Iraq (where the leaders
    are), facility strikes in Syria with probability ``us.syria_share``; a country the U.S.
    has left is not struck from."""
    leaders = s.pending_leaders
    syria = uniform(s.key, t, US_STRIKE) < p.us_syria_share and not leaders
    syria = (syria and s.present_syria) or not s.present_iraq
    strike_outcome(s, p, r, t, s.pending_target, SYRIA if syria else IRAQ, s.pending_size,
                   leaders, ev, count)
    s.pending_day = NEVER


@jit_noalloc
def responsible_faction(s, p):
    """The faction the U.S. holds responsible: the most attributed harm since the last strike,
    else the faction the record names most (:data:`FALLBACK_FACTION`)."""
    best = _first_max(s.harm_by_faction)
    return best if s.harm_by_faction[best] > 0 else FALLBACK_FACTION


@jit_noalloc
def _first_max(x):
    """np.argmax: where the largest value first occurs."""
    best = 0
    for i in range(1, x.shape[0]):
        if x[i] > x[best]:
            best = i
    return best


@jit_noalloc
def _total(x):
    """The sum of a faction row or table, element by element in order (row by row: a
    reshape of a record's table costs more than the sum)."""
    total = 0.0
    if x.ndim > 1:
        for i in range(x.shape[0]):
            for j in range(x.shape[1]):
                total += x[i, j]
    else:
        for i in range(x.shape[0]):
            total += x[i]
    return total


@jit_noalloc
def strike_outcome(s, p, r, t, target, country, size, leaders, ev, count):
    """Draw what a strike round kills, then book it (:func:`execute_strike`)."""
    effect = size * (p.us_syria_effect if country == SYRIA else 1.0)
    k = s.key
    killed = kn.poisson(uniform(k, t, US_STRIKE + 1), p.us_militia_killed_per_target * effect,
                        -1) + int(leaders)
    iraqi = 0
    if country == IRAQ and uniform(k, t, US_STRIKE + 2) < p.us_iraqi_collateral_probability:
        iraqi = kn.poisson(uniform(k, t, US_STRIKE + 3), p.us_iraqi_killed_if_collateral, -1)
    commander = leaders and uniform(k, t, US_STRIKE + 4) < p.us_iranian_commander_probability
    execute_strike(s, p, r, t, target, country, size, leaders, killed, iraqi, commander, 0, ev,
                   count)


@jit_noalloc
def execute_strike(s, p, r, t, f, country, size, leaders, killed, iraqi, commander,
                   documented, ev, count):
    """A U.S. strike round on faction ``f``'s facilities (or leaders) in Iraq or Syria, and
    what it does: fighters and arsenal lost, fear and grievance raised, Iran angered,
    Baghdad's sovereignty grievance raised when it lands on Iraqi soil."""
    # Strikes in Syria reach less of a faction (its headquarters are in Iraq, 002).
    effect = size * (p.us_syria_effect if country == SYRIA else 1.0)
    # Iran answers the killing of its commander itself, less likely soon after its own attack
    retaliate = commander and (uniform(s.key, t, US_STRIKE + 5)
                               < p.iran_retaliation_probability * np.exp(-s.exchange_risk))
    s.fighters[f] = max(s.fighters[f] - killed, 0.0)
    loss = min(max(p.mil_arsenal_loss_per_strike * effect, 0.0), 1.0)
    for w in range(W):
        s.arsenal[f, w] *= 1.0 - loss
    fear_add = p.mil_fear_per_strike * effect
    for g in range(F):
        s.fear[g] += p.mil_fear_spillover * fear_add
    s.fear[f] += fear_add * (1.0 - p.mil_fear_spillover)
    s.grievance[f] += (p.mil_grievance_per_strike + p.mil_grievance_per_killed * killed
                       + p.mil_grievance_per_leader * leaders)
    if leaders:
        s.leadership[f] *= 1.0 - p.mil_leadership_loss
        s.last_leader_day = t
    s.anger += p.iran_anger_per_strike * size + p.iran_anger_per_commander * commander
    s.risk += p.iran_risk_per_strike_target * size
    if country == IRAQ:
        s.struck_iraq_day[f] = t
    if retaliate:
        s.retaliation_day = t + int(p.iran_retaliation_lag_days)
    in_iraq = country == IRAQ
    s.sovereignty += in_iraq * (p.iraq_grievance_per_strike
                                + p.iraq_grievance_per_leader_strike * leaders
                                + p.iraq_grievance_per_iraqi_killed * iraqi)
    s.td_strikes += 1
    s.td_leader_strikes += leaders
    s.td_militia_killed += killed
    s.td_iraqi_killed += iraqi
    s.td_strike_in_iraq |= in_iraq
    s.strikes_so_far += 1
    s.days_since_strike = 0
    s.harm = 0.0
    s.harm_by_faction[:] = 0.0
    s.attacks_since = 0
    s.killed_since = 0
    s.wounded_since = 0
    rung = 6 if leaders else 5
    raise_rung(s, rung)
    emit(ev, count, r, t, US, LEADER_STRIKE if leaders else STRIKE, AIR_STRIKE, -1, country,
         -1, 0, 0, 0, killed, iraqi, IRAN if commander else f, rung, documented)


@jit_noalloc
def _us_before_all(S, P, t, ask, ev, count, start):
    """The U.S. day up to the rule; replicates that do not ask it finish their day here."""
    for r in range(start, S.shape[0]):
        if full(ev, count):
            return r
        s, p = S[r], P[row_of(r, len(P))]
        ask[r] = us_day_before_rule(s, p, r, t, ev, count)
        if not ask[r]:
            us_day_after_rule(s, p, r, t, False, 0.0, False, ev, count)
    return S.shape[0]


@jit_noalloc
def _us_after_all(S, P, t, ask, strike, size, leaders, ev, count, start):
    """The U.S. day after the rule, for the replicates that asked it."""
    for r in range(start, S.shape[0]):
        if full(ev, count):
            return r
        if ask[r]:
            us_day_after_rule(S[r], P[row_of(r, len(P))], r, t, strike[r], size[r],
                              leaders[r], ev, count)
    return S.shape[0]


@jit_noalloc
def _us_decay_all(S, P):
    for r in range(S.shape[0]):
        fade_harm(S[r], P[row_of(r, len(P))])


@jit_noalloc
def _documented_strike_all(S, P, t, target, country, leaders, killed, iraqi, commander, ev,
                           count, start):
    for r in range(start, S.shape[0]):
        if full(ev, count):
            return r
        execute_strike(S[r], P[row_of(r, len(P))], r, t, target, country, 1.0, leaders,
                       killed, iraqi, commander, 1, ev, count)
    return S.shape[0]


def us_phase(s: State, p: ParamArrays, t: int, log: EventLog | None,
             documented: list[dict] | None = None) -> None:
    """U.S. forces' day for every replicate: land due strikes, ask the deterrence rule (a
    Python class, once for all replicates) on attack days, schedule its strikes.

    ``documented`` (history replay) replaces the rule: the record's strikes of the day land.
    """
    P = param_record(p)
    if documented is not None:
        s.rec["days_since_strike"] += 1
        for ev in documented:
            if ev["action"] in ("strike", "leader_strike"):
                _each_replicate(_documented_strike_all, s, log, P, t, int(ev["target"]),
                                int(ev["country"]), bool(ev["leaders"]),
                                int(ev.get("militia_killed", 0)), int(ev.get("iraqi_killed", 0)),
                                bool(ev.get("target_is_iran", False)))
            elif log is not None:  # statements, designations: on the record, no effect
                log.emit(np.arange(s.n), t, actor=US, action=A[ev["action"]],
                         target=ev["target_code"], rung=1, documented=1)
        _us_decay_all(s.rec, P)
        return
    ask = np.empty(s.n, dtype=bool)
    _each_replicate(_us_before_all, s, log, P, t, ask)
    if ask.any():
        resp = p.rule_on(t).respond(*observe(s, t))
        strike = ask & resp.strike
        size = np.asarray(resp.size, dtype=float)
        leaders = np.asarray(resp.leaders, dtype=bool)
        _each_replicate(_us_after_all, s, log, P, t, ask, strike, size, leaders)


# --- Iraqi government --------------------------------------------------------------------------

@kn.jit_inline
def iraq_day(s, p, r, t, override, decides, ev, count):
    """Baghdad restrains, raids, condemns strikes on its soil, negotiates, votes, and may end
    the U.S. presence.

    Restraint (political pressure on the factions) works in proportion to Baghdad's
    ``standing`` with the militias' political allies and erodes with its sovereignty
    grievance. Attacks on Iraqi soil build ``pressure`` to act: a raid on the faction held
    responsible (as on 2020-06-25) seizes arsenal and frightens it, but aggrieves it and
    costs Baghdad standing. ``decides`` False (history replay): the record's political acts
    replace Baghdad's own.
    """
    s.standing += (1.0 - s.standing) * (1.0 - p.decay_standing)
    effort = p.iraq_restraint if np.isnan(override) else override
    s.restraint = (effort * s.standing
                   * min(max(1.0 - p.iraq_restraint_erosion * s.sovereignty, 0.0), 1.0))
    if decides and s.pressure > 0:
        if uniform(s.key, t, IRAQ_SLOT + 2) < min(p.iraq_raid_rate * effort * s.standing
                                                  * s.pressure, 1.0):
            f = responsible_faction(s, p)
            raid(s, p, f)
            emit(ev, count, r, t, IRAQ_GOV, RAID, -1, -1, IRAQ, -1, 0, 0, 0, 0, 0, f, 1, 0)
    s.pressure *= p.decay_pressure
    s.excitement = s.excitement * p.decay_contagion + s.td_excitement
    s.td_excitement = 0.0
    if decides:
        if s.td_strike_in_iraq and uniform(s.key, t, IRAQ_SLOT) < p.iraq_condemn_probability:
            s.td_condemnations += 1
            raise_rung(s, 1)
            emit(ev, count, r, t, IRAQ_GOV, CONDEMNATION, -1, -1, -1, -1, 0, 0, 0, 0, 0, US, 1, 0)
        if (s.present_iraq and not s.negotiating
                and s.sovereignty >= p.iraq_negotiate_threshold):
            s.negotiating = True
            emit(ev, count, r, t, IRAQ_GOV, NEGOTIATION, -1, -1, -1, -1, 0, 0, 0, 0, 0, US, 0, 0)
        if s.present_iraq and not s.voted and s.sovereignty >= p.iraq_vote_threshold:
            s.voted = True
            emit(ev, count, r, t, IRAQ_GOV, VOTE, -1, -1, -1, -1, 0, 0, 0, 0, 0, US, 1, 0)
            raise_rung(s, 1)
        if (s.present_iraq and s.exit_day == NEVER
                and s.sovereignty >= p.iraq_exit_threshold):
            s.exit_day = t + int(p.iraq_exit_delay_days)
    if s.exit_day == t and s.present_iraq:
        s.present_iraq = False
        if not s.present_syria:
            s.pending_day = NEVER
        if uniform(s.key, t, IRAQ_SLOT + 1) < p.iraq_syria_exit_probability:
            s.syria_exit_day = t + int(p.iraq_syria_exit_delay_days)
        emit(ev, count, r, t, US, EXIT, -1, -1, IRAQ, -1, 0, 0, 0, 0, 0, -1, 0, 0)
    if s.syria_exit_day == t and s.present_syria:
        s.present_syria = False
        if not s.present_iraq:
            s.pending_day = NEVER
        emit(ev, count, r, t, US, EXIT, -1, -1, SYRIA, -1, 0, 0, 0, 0, 0, -1, 0, 0)
    s.sovereignty *= p.decay_sovereignty


@kn.jit_inline
def raid(s, p, f):
    """What a raid on faction ``f`` (as on 2020-06-25) does: arsenal seized, the faction
    frightened and aggrieved, Baghdad's standing with the militias' allies spent, the
    pressure to act relieved."""
    for w in range(W):
        s.arsenal[f, w] *= 1.0 - p.iraq_raid_capacity_loss
    s.fear[f] += p.iraq_raid_fear
    s.grievance[f] += p.iraq_raid_grievance
    s.standing = max(s.standing - p.iraq_raid_standing_cost, 0.0)
    s.pressure = 0.0
    s.acc_raids += 1


@jit_noalloc
def _documented_raid_all(S, P, f):
    for r in range(S.shape[0]):
        raid(S[r], P[row_of(r, len(P))], f)


@jit_noalloc
def _iraq_all(S, P, t, override, decides, ev, count, start):
    for r in range(start, S.shape[0]):
        if full(ev, count):
            return r
        iraq_day(S[r], P[row_of(r, len(P))], r, t, override, decides, ev, count)
    return S.shape[0]


def iraq_phase(s: State, p: ParamArrays, t: int, log: EventLog | None,
               documented: list[dict] | None = None) -> None:
    """Baghdad's day for every replicate (:func:`iraq_day`).

    ``documented`` (history replay) replaces Baghdad's political acts with the record's, and
    their effects on the state follow as when Baghdad decides them: a documented raid on a
    faction (on Kataib Hezbollah when the record names none, as a strike's fallback) and the
    exit talks a documented negotiation opens.
    """
    if documented is not None:
        everyone = np.arange(s.n)
        for ev in documented:
            if ev["action"] == "raid":
                _documented_raid_all(s.rec, param_record(p), int(ev["target"]))
            elif ev["action"] == "negotiation":
                s.rec["negotiating"] |= s.rec["present_iraq"]
            s.rec["td_condemnations"] += ev["action"] == "condemnation"
            np.maximum(s.rec["td_rung"], ev.get("rung", 1), out=s.rec["td_rung"])
            if log is not None:
                log.emit(everyone, t, actor=IRAQ_GOV, action=A[ev["action"]],
                         target=ev.get("target_code", US), rung=ev.get("rung", 1), documented=1)
    _each_replicate(_iraq_all, s, log, param_record(p), t, p.restraint_override[t],
                    documented is None)


def force_exit(s: State, t: int, log: EventLog | None, country: int) -> None:
    """A scenario's forced U.S. exit (e.g. from Iraq in 2020)."""
    present = s.rec["present_iraq"] if country == IRAQ else s.rec["present_syria"]
    idx = np.flatnonzero(present)
    present[idx] = False
    if log is not None:
        log.emit(idx, t, actor=US, action=A["exit"], country=country, rung=0, documented=1)


# --- Bookkeeping ------------------------------------------------------------------------------

@jit_noalloc
def _put(d, i, value, add):
    if add:
        d[i] += value
    else:
        d[i] = value


@kn.jit_inline
def end_of_day(s, t, daily, r, add):
    """The day's escalation level, the run's summary and (if ``daily`` has days) the day's
    row in column ``r`` (added to it with ``add``); then today's counters start afresh."""
    s.last_at_rung[s.td_rung] = t
    level = 0
    for k in range(RUNGS):
        if t - s.last_at_rung[k] < LEVEL_WINDOW_DAYS:
            level = k
    s.level = level
    s.acc_attacks += s.td_attacks
    s.acc_lethal_attacks += s.td_lethal_attacks
    s.acc_us_killed += s.td_us_killed
    s.acc_coalition_killed += s.td_coalition_killed
    s.acc_us_wounded += s.td_us_wounded
    s.acc_militia_killed += s.td_militia_killed
    s.acc_iraqi_killed += s.td_iraqi_killed
    s.acc_strike_rounds += s.td_strikes
    s.acc_leader_strikes += s.td_leader_strikes
    s.acc_condemnations += s.td_condemnations
    if s.td_rung > s.acc_highest_rung:
        s.acc_highest_rung = s.td_rung
        s.acc_highest_rung_day = t
    s.acc_days_at_rung5plus += level >= 5
    if not s.present_iraq and s.acc_us_left_iraq == 0:
        s.acc_us_left_iraq_day = t
        s.acc_us_left_iraq = 1
    if s.td_state_attacks > 0:
        s.acc_iran_direct_attack = 1
    if daily.shape[1] > 0:   # the day's row (or, with ``add``, its sum over replicates)
        d = daily[:, t, r]
        _put(d, 0, s.td_attacks, add)
        _put(d, 1, s.td_lethal_attacks, add)
        _put(d, 2, s.td_strikes, add)
        _put(d, 3, s.td_leader_strikes, add)
        _put(d, 4, s.td_state_attacks, add)
        _put(d, 5, s.td_us_killed, add)
        _put(d, 6, s.td_coalition_killed, add)
        _put(d, 7, s.td_us_wounded, add)
        _put(d, 8, s.td_militia_killed, add)
        _put(d, 9, s.td_iraqi_killed, add)
        _put(d, 10, s.td_condemnations, add)
        _put(d, 11, s.td_rung, add)
        _put(d, 12, level, add)
        _put(d, 13, s.directive, add)
        _put(d, 14, s.sovereignty, add)
        _put(d, 15, _total(s.fear) / F, add)
        _put(d, 16, _total(s.grievance) / F, add)
        _put(d, 17, _total(s.arsenal), add)
        _put(d, 18, s.present_iraq, add)
        _put(d, 19, s.present_syria, add)
        _put(d, 20, _total(s.suspended) + _total(s.obeying), add)
        _put(d, 21, s.risk, add)
        _put(d, 22, s.excitement, add)
    s.td_attacks = 0
    s.td_lethal_attacks = 0
    s.td_us_killed = 0
    s.td_coalition_killed = 0
    s.td_us_wounded = 0
    s.td_militia_killed = 0
    s.td_iraqi_killed = 0
    s.td_strikes = 0
    s.td_leader_strikes = 0
    s.td_state_attacks = 0
    s.td_condemnations = 0
    s.td_rung = 0
    s.td_harm = 0.0
    s.td_strike_in_iraq = False


@jit_noalloc
def _end_of_day_all(S, t, daily, add):
    for r in range(S.shape[0]):
        end_of_day(S[r], t, daily, 0 if add else r, add)


#: What the deterrence rule sees, as rows of the batch engine's observation tables (filled
#: by :func:`record_seen` in the compiled days: contiguous, one entry per replicate).
SEEN_INT = ("attacks_today", "killed_today", "wounded_today", "attacks_since_strike",
            "killed_since_strike", "wounded_since_strike", "days_since_strike",
            "strikes_so_far", "days_since_leader_strike")
SEEN_FLOAT = ("harm", "iraq_sovereignty", "harm_long")


@kn.jit_inline
def record_seen(s, r, t, seen_i, seen_f, u_rule):
    """Copy what U.S. forces see today (:func:`observe`'s fields, in the order of
    :data:`SEEN_INT` and :data:`SEEN_FLOAT`) and the rule's uniform into column ``r``."""
    seen_i[0, r] = s.td_attacks
    seen_i[1, r] = s.td_us_killed + s.td_coalition_killed
    seen_i[2, r] = s.td_us_wounded
    seen_i[3, r] = s.attacks_since
    seen_i[4, r] = s.killed_since
    seen_i[5, r] = s.wounded_since
    seen_i[6, r] = s.days_since_strike
    seen_i[7, r] = s.strikes_so_far
    seen_i[8, r] = t - s.last_leader_day
    seen_f[0, r] = s.harm
    seen_f[1, r] = s.sovereignty
    seen_f[2, r] = s.harm_long
    u_rule[r] = uniform(s.key, t, US_RULE)


@jit_noalloc
def _seen_all(S, t, seen_i, seen_f, u_rule):
    for r in range(S.shape[0]):
        record_seen(S[r], r, t, seen_i, seen_f, u_rule)


@jit
def run_days(S, P, t, stop, resume, strike, size, leaders, inputs, override, factions,
             daily, add, ask, ev, count, seen_i, seen_f, u_rule):
    """The batch engine's days ``t`` .. ``stop - 1`` for every replicate, each actor's day in
    DESIGN.md's order, without leaving compiled code until the deterrence rule must be asked.

    Returns (day, event table, asked): ``asked`` when some replicate's U.S. forces ask the rule
    on ``day`` (``ask`` marks them; ``seen_i``, ``seen_f`` and ``u_rule`` then hold what the
    rule sees, :func:`record_seen`); call again with ``resume`` and the rule's answers
    (``strike``, ``size``, ``leaders``) to finish that day and go on. The event table is
    returned because it may have grown.
    """
    n = S.shape[0]
    n_att = np.zeros(F, np.int64)
    scratch = scratch_for(P)
    while t < stop:
        if resume:
            resume = False
        else:
            r = 0
            while r < n:
                r = _before_rule(S, P, t, r, inputs[t], factions, n_att, scratch, ask, ev,
                                 count, seen_i, seen_f, u_rule)
                if r < n:
                    ev = kn.make_room(ev, count, ROOM * (n - r))
            if ask.any():
                return t, ev, True
            strike[:] = False
        r = 0
        while r < n:
            r = _after_rule(S, P, t, r, strike, size, leaders, ask, override[t], daily, add,
                            ev, count)
            if r < n:
                ev = kn.make_room(ev, count, ROOM * (n - r))
        t += 1
    return t, ev, False


@jit_noalloc
def _before_rule(S, P, t, start, inp, factions, n_att, scratch, ask, ev, count, seen_i,
                 seen_f, u_rule):
    for r in range(start, S.shape[0]):
        if full(ev, count):
            return r
        s, p = S[r], P[row_of(r, len(P))]
        iran_day(s, p, r, t, inp, True, ev, count)
        militia_day(s, p, r, t, factions, inp, False, n_att, scratch, ev, count)
        ask[r] = us_day_before_rule(s, p, r, t, ev, count)
        record_seen(s, r, t, seen_i, seen_f, u_rule)
    return S.shape[0]


@jit_noalloc
def _after_rule(S, P, t, start, strike, size, leaders, ask, override, daily, add, ev, count):
    for r in range(start, S.shape[0]):
        if full(ev, count):
            return r
        s, p = S[r], P[row_of(r, len(P))]
        us_day_after_rule(s, p, r, t, strike[r] and ask[r], size[r], leaders[r], ev, count)
        iraq_day(s, p, r, t, override, True, ev, count)
        end_of_day(s, t, daily, 0 if add else r, add)
    return S.shape[0]


class Recorder:
    """Daily series and the per-replicate summary.

    ``daily``: True, ``daily[column]`` is days x n (float32); False, none; ``"sum"``, each
    column's sum over the replicates, days x 1 (float64: an ensemble's daily means without
    its days x replicates table).
    """

    def __init__(self, s: State, days: int, daily: bool | str):
        self.state = s
        self.add = daily == "sum"
        if self.add:
            self.table = np.zeros((len(DAILY_COLUMNS), days, 1), np.float64)
        else:
            self.table = np.zeros((len(DAILY_COLUMNS), days if daily else 0, s.n), np.float32)
        self.daily = ({c: self.table[i] for i, c in enumerate(DAILY_COLUMNS)} if daily
                      else None)

    @property
    def acc(self) -> dict[str, np.ndarray]:
        """The summary accumulators (views of the state)."""
        return {c: self.state.rec[f"acc_{c}"] for c in SUMMARY_COLUMNS}

    def summary(self) -> dict[str, np.ndarray]:
        return {c: v.copy() for c, v in self.acc.items()}

    def end_of_day(self, s: State, t: int) -> None:
        _end_of_day_all(s.rec, t, self.table, self.add)
