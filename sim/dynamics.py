"""The dynamics: one day of Iran, the militias, U.S. forces and the Iraqi government.

This is the single source of truth both engines call. The Mesa engine (``sim.model``) runs one
replicate whose agents each call their phase (a militia agent calls :func:`militia_phase` for
its own faction); the batch engine (``sim.batch``) calls the same phases for thousands of
replicates at once. State and parameters are arrays with replicates on the first axis, and
every random number comes from ``sim.rng`` keyed by (seed, replicate, day, slot), so a
replicate's history does not depend on which engine or batch ran it.

The order of a day (DESIGN.md): Iran, militias, U.S. forces, Iraqi government, bookkeeping.

The deterrence tension lives in :func:`attack_rate`: a strike raises the struck faction's fear
(deterrence, ``fear_weight``) and its grievance (provocation, ``grievance_weight``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sim import rng
from sim.arrays import ParamArrays
from sim.events import FACTIONS
from sim.params import WEAPON_KEYS
from sim.rules import Observation
from sim.rng import Slot

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


# --- Numbers from uniforms --------------------------------------------------------------------

def poisson_from_uniform(u: np.ndarray, lam: np.ndarray, cap: int | None = None) -> np.ndarray:
    """Poisson(lam) by inversion of the CDF: one uniform per draw, vectorised.

    Most draws in this model are zero (an attack is rare on any one day), so only the draws
    past P(0) enter the search loop. With ``cap`` the search stops there, giving
    min(Poisson(lam), cap) without walking a large lam's whole CDF.
    """
    u = np.asarray(u, dtype=float)
    lam = np.broadcast_to(np.asarray(lam, dtype=float), u.shape)
    p0 = np.exp(-lam)
    above = u > p0
    if not above.any():
        return np.zeros(u.shape, dtype=np.int64)
    k = np.zeros(u.shape, dtype=np.int64)
    idx = np.flatnonzero(above)
    uu, ll = u.reshape(-1)[idx], lam.reshape(-1)[idx]
    p = p0.reshape(-1)[idx]
    cdf = p.copy()
    kk = np.zeros(len(idx), dtype=np.int64)
    active = np.arange(len(idx))
    for _ in range(400):
        kk[active] += 1
        p[active] *= ll[active] / kk[active]
        cdf[active] += p[active]
        active = active[uu[active] > cdf[active]]
        if cap is not None:
            active = active[kk[active] < cap]
        if len(active) == 0:
            break
    k.reshape(-1)[idx] = kk
    return k


def categorical_from_uniform(u: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Index drawn with probability proportional to ``weights`` (rows), one uniform per row."""
    cum = np.cumsum(weights, axis=-1)
    idx = (cum < (u * cum[..., -1])[..., None]).sum(axis=-1)
    return np.minimum(idx, weights.shape[-1] - 1)


# --- Behaviour ---------------------------------------------------------------------------------

def attack_rate(base_rate, grievance, fear, tension, directive_multiplier, alignment,
                leadership, restraint, p_militia, restraint_effect):
    """Expected attacks per day of each faction.

    A log-linear intensity: grievance provokes, fear deters, regional tension inflames;
    Iran's directive multiplies it as far as the faction follows Iran (``alignment``); lost
    leaders weaken it; Baghdad's restraint cuts it, less for factions closer to Iran.
    """
    drive = (p_militia["grievance_weight"] * grievance - p_militia["fear_weight"] * fear
             + p_militia["tension_weight"] * tension)
    follow = directive_multiplier ** alignment
    restrained = 1.0 - restraint * restraint_effect * (1.0 - 0.5 * alignment)
    return (p_militia["attack_rate_scale"] * base_rate * np.exp(np.clip(drive, -20, 8))
            * follow * leadership * restrained)


def iran_directive(score, escalate_threshold, restrain_threshold):
    """0 restrain, 1 normal, 2 escalate."""
    return np.where(score > escalate_threshold, 2, np.where(score < restrain_threshold, 0, 1))


# --- State --------------------------------------------------------------------------------------

@dataclass
class State:
    """Everything that changes during a run, arrays over replicates (n) and factions (F)."""

    n: int
    keys: np.ndarray
    # Iran
    anger: np.ndarray = None
    directive: np.ndarray = None
    directive_multiplier: np.ndarray = None
    retaliation_day: np.ndarray = None
    # militias
    grievance: np.ndarray = None
    fear: np.ndarray = None
    leadership: np.ndarray = None
    fighters: np.ndarray = None
    arsenal: np.ndarray = None
    suspended: np.ndarray = None
    # U.S. forces
    harm: np.ndarray = None
    harm_by_faction: np.ndarray = None
    attacks_since: np.ndarray = None
    killed_since: np.ndarray = None
    wounded_since: np.ndarray = None
    days_since_strike: np.ndarray = None
    strikes_so_far: np.ndarray = None
    pending_day: np.ndarray = None
    pending_size: np.ndarray = None
    pending_leaders: np.ndarray = None
    pending_target: np.ndarray = None
    present_iraq: np.ndarray = None
    present_syria: np.ndarray = None
    # Iraqi government
    sovereignty: np.ndarray = None
    restraint: np.ndarray = None
    negotiating: np.ndarray = None
    voted: np.ndarray = None
    exit_day: np.ndarray = None
    syria_exit_day: np.ndarray = None
    # today (reset each day) and the escalation level
    today: dict = field(default_factory=dict)
    level: np.ndarray = None
    #: Optional (days, n, F) table of the attack-count uniforms, the same numbers
    #: ``rng.uniform`` gives day by day; worth it only for a few replicates (Mesa).
    count_uniforms: np.ndarray | None = None

    def precompute_count_uniforms(self, days: int) -> None:
        slots = Slot.ATTACK_COUNT + np.arange(F)
        self.count_uniforms = np.stack([rng.uniform_table(self.keys, t, slots)
                                        for t in range(days)])

    @classmethod
    def initial(cls, p: ParamArrays, keys: np.ndarray) -> "State":
        n = keys.shape[0]
        s = cls(n=n, keys=keys)
        z, zf = np.zeros(n), np.zeros((n, F))
        s.anger, s.directive = z.copy(), np.ones(n, dtype=np.int64)
        s.directive_multiplier = np.ones(n)
        s.retaliation_day = np.full(n, NEVER)
        s.grievance, s.fear, s.leadership = zf.copy(), zf.copy(), np.ones((n, F))
        s.fighters = p.faction["fighters"].copy()
        s.arsenal = np.stack([p.faction[f"arsenal_{w}"] for w in WEAPON_KEYS], axis=2)
        s.suspended = np.zeros((n, F), dtype=bool)
        s.harm, s.harm_by_faction = z.copy(), zf.copy()
        s.attacks_since, s.killed_since, s.wounded_since = (np.zeros(n, np.int64)
                                                            for _ in range(3))
        s.days_since_strike = np.full(n, 10 ** 6, dtype=np.int64)
        s.strikes_so_far = np.zeros(n, np.int64)
        s.pending_day = np.full(n, NEVER)
        s.pending_size, s.pending_leaders = z.copy(), np.zeros(n, dtype=bool)
        s.pending_target = np.zeros(n, np.int64)
        s.present_iraq, s.present_syria = np.ones(n, bool), np.ones(n, bool)
        s.sovereignty = z.copy()
        s.restraint = p.iraq["restraint"].copy()
        s.negotiating, s.voted = np.zeros(n, bool), np.zeros(n, bool)
        s.exit_day, s.syria_exit_day = np.full(n, NEVER), np.full(n, NEVER)
        s.level = z.copy()
        s.new_day()
        return s

    def new_day(self) -> None:
        n = self.n
        self.today = {k: np.zeros(n, np.int64) for k in (
            "attacks", "lethal_attacks", "us_killed", "coalition_killed", "us_wounded",
            "militia_killed", "iraqi_killed", "strikes", "leader_strikes", "state_attacks",
            "condemnations", "rung")}
        self.today["harm"] = np.zeros(n)
        self.today["strike_in_iraq"] = np.zeros(n, bool)


# --- Event log ------------------------------------------------------------------------------

class EventLog:
    """Events as columns of integer codes, appended per phase; None when not recording."""

    COLUMNS = ("replicate", "day", "actor", "action", "weapon", "site", "country",
               "intercepted", "us_killed", "us_wounded", "coalition_killed", "militia_killed",
               "iraqi_killed", "civilian_killed", "target", "rung", "documented")

    def __init__(self):
        self.parts: list[dict[str, np.ndarray]] = []

    def emit(self, idx: np.ndarray, day: int, **cols) -> None:
        m = len(idx)
        if m == 0:
            return
        part = {"replicate": np.asarray(idx, np.int64), "day": np.full(m, day, np.int64)}
        for c in self.COLUMNS[2:]:
            v = cols.get(c, -1 if c in ("weapon", "site", "country", "target",
                                        "intercepted") else 0)
            part[c] = np.broadcast_to(np.asarray(v), (m,)).astype(np.int64)
        self.parts.append(part)

    def columns(self) -> dict[str, np.ndarray]:
        if not self.parts:
            return {c: np.zeros(0, np.int64) for c in self.COLUMNS}
        return {c: np.concatenate([p[c] for p in self.parts]) for c in self.COLUMNS}


def _raise_rung(s: State, idx: np.ndarray, rung) -> None:
    np.maximum.at(s.today["rung"], idx, np.asarray(rung, np.int64))


# --- Iran ----------------------------------------------------------------------------------------

def iran_phase(s: State, p: ParamArrays, t: int, log: EventLog | None,
               documented: list[dict] | None = None) -> None:
    """Iran sets its directive, resupplies its proxies and answers the killing of its own.

    ``documented`` (history replay) replaces Iran's own attack decision with the record's.
    """
    ip = p.iran
    s.anger *= p.decay["anger"]
    tension = p.tension[t] * p.shock_scale
    score = ip["directive_bias"] + ip["tension_weight"] * tension + ip["anger_weight"] * s.anger
    s.directive = iran_directive(score, ip["escalate_threshold"], ip["restrain_threshold"])
    s.directive_multiplier = np.where(s.directive == 2, ip["escalate_multiplier"],
                                      np.where(s.directive == 0, ip["restrain_multiplier"], 1.0))
    # Resupply up to capacity (a stock above capacity, e.g. at the start, is not cut).
    np.maximum(np.minimum(s.arsenal + p.resupply, p.capacity), s.arsenal, out=s.arsenal)
    if documented is not None:
        for ev in documented:
            if ev["action"] == "state_attack":
                _state_attack(s, p, t, log, np.arange(s.n), ev)
            elif log is not None:  # Iran's statements: on the record, no effect
                log.emit(np.arange(s.n), t, actor=IRAN, action=A[ev["action"]],
                         target=ev["target_code"], rung=1, documented=1)
        return
    due = np.flatnonzero(s.retaliation_day == t)
    if len(due):
        _state_attack(s, p, t, log, due, None)
        s.retaliation_day[due] = NEVER


def _state_attack(s, p, t, log, idx, documented):
    """Iran's own ballistic-missile attack on al-Asad (as on 2020-01-08)."""
    site = p.sites.index("al_asad") if "al_asad" in p.sites else 0
    if documented is None:
        u = rng.uniform(s.keys[idx], t, np.broadcast_to(
            Slot.IRAN_ATTACK + np.arange(5), (len(idx), 5)))
        wpn = {k: v[idx, BALLISTIC] for k, v in p.weapon.items()}
        intercepted = u[:, 0] < wpn["intercept_probability"]
        hit = ~intercepted
        wounded = np.where(hit, poisson_from_uniform(u[:, 1], wpn["wounded_mean"]), 0)
        lethal = hit & (u[:, 2] < wpn["lethal_probability"])
        killed = np.where(lethal, 1 + poisson_from_uniform(u[:, 3], wpn["killed_extra_mean"]), 0)
        us_k = np.where(u[:, 4] < p.us["us_share_of_killed"][idx], killed, 0)
        co_k = killed - us_k
        intercepted_code = intercepted.astype(np.int64)
    else:
        wounded, us_k, co_k = (np.full(len(idx), documented.get(c, 0)) for c in (
            "us_wounded", "us_killed", "coalition_killed"))
        intercepted_code = documented.get("intercepted", -1)
        site = p.sites.index(documented["site"]) if documented.get("site") in p.sites else site
    s.today["state_attacks"][idx] += 1
    s.today["us_killed"][idx] += us_k
    s.today["coalition_killed"][idx] += co_k
    s.today["us_wounded"][idx] += wounded
    _raise_rung(s, idx, 7)
    if log is not None:
        log.emit(idx, t, actor=IRAN, action=A["state_attack"], weapon=BALLISTIC, site=site,
                 country=p.site_country[site], intercepted=intercepted_code, us_killed=us_k,
                 us_wounded=wounded, coalition_killed=co_k, target=US, rung=7,
                 documented=int(documented is not None))


# --- Militias ------------------------------------------------------------------------------------

def militia_phase(s: State, p: ParamArrays, t: int, log: EventLog | None,
                  factions: np.ndarray | None = None, forced: bool = False) -> None:
    """Each faction's day: memories fade, it may suspend, then decides how many attacks,
    with which weapon, on which U.S. site; outcomes are drawn per attack.

    ``factions`` restricts the phase to some factions (a Mesa militia agent passes its own).
    ``forced`` (history replay) keeps the state dynamics but leaves attacking to the record.
    """
    fs = np.arange(F) if factions is None else np.asarray(factions)
    cols = slice(None) if factions is None else fs  # a view when all factions act together
    pm = p.militia
    grievance, fear = s.grievance[:, cols], s.fear[:, cols]
    grievance *= p.decay["grievance"]
    fear *= p.decay["fear"]
    s.grievance[:, cols], s.fear[:, cols] = grievance, fear
    s.leadership[:, cols] += (1.0 - s.leadership[:, cols]) * p.recovery

    margin = fear - grievance
    suspended = s.suspended[:, cols]
    suspend_now = ~suspended & (margin > pm["suspend_margin"])
    resume = suspended & (margin < 0.5 * pm["suspend_margin"])
    suspended = (suspended | suspend_now) & ~resume
    s.suspended[:, cols] = suspended
    if log is not None and suspend_now.any() and not forced:
        r, j = np.nonzero(suspend_now)
        log.emit(r, t, actor=fs[j], action=A["suspension"], target=US, rung=0)
    if forced:
        return

    present = s.present_iraq | s.present_syria
    lam = attack_rate(
        p.faction["base_attack_rate"][:, cols], grievance, fear,
        (p.tension[t] * p.shock_scale)[:, None], s.directive_multiplier[:, None],
        p.faction["alignment"][:, cols], s.leadership[:, cols], s.restraint[:, None],
        pm, p.iraq["restraint_effect"][:, None])
    lam *= np.where(s.present_iraq, 1.0, pm["after_exit_factor"][:, 0])[:, None]
    lam[suspended | ~present[:, None]] = 0.0
    if s.count_uniforms is not None:  # precomputed for a lone replicate (the Mesa engine)
        u = s.count_uniforms[t][:, cols]
    else:
        u = rng.uniform(s.keys, t, np.broadcast_to(Slot.ATTACK_COUNT + fs, (s.n, len(fs))))
    n_att = poisson_from_uniform(u, lam, cap=int(pm["max_attacks_per_day"].max()))
    if not n_att.any():
        return
    r, j = np.nonzero(n_att)
    f = fs[j]
    usable = (s.arsenal[r, f, :] >= 1.0) & (p.prefs[r, f, :] > 0)
    stock = np.floor(np.where(usable, s.arsenal[r, f, :], 0.0)).sum(axis=1)
    n_att[r, j] = np.minimum(np.minimum(n_att[r, j], pm["max_attacks_per_day"][r, 0]),
                             stock).astype(np.int64)
    open_sites = site_open(s, p, t)
    for k in range(int(n_att.max())):
        r, j = np.nonzero(n_att > k)
        f = fs[j]
        base = Slot.ATTACK + (f * Slot.MAX_ATTACKS + k) * Slot.ATTACK_FIELDS
        uu = rng.uniform(s.keys[r], t, base[:, None] + np.arange(Slot.ATTACK_FIELDS))
        weights = np.where(s.arsenal[r, f, :] >= 1.0, p.prefs[r, f, :], 0.0)
        ok = weights.sum(axis=1) > 0
        site_w = np.where(open_sites[r], p.site["weight"][r], 0.0)
        ok &= site_w.sum(axis=1) > 0
        r, j, f, uu, weights, site_w = r[ok], j[ok], f[ok], uu[ok], weights[ok], site_w[ok]
        if len(r) == 0:
            continue
        weapon = categorical_from_uniform(uu[:, 0], weights)
        site = categorical_from_uniform(uu[:, 1], site_w)
        s.arsenal[r, f, weapon] -= 1.0
        outcome = attack_outcome(p, r, weapon, site, uu)
        record_attack(s, p, t, log, r, f, weapon, site, outcome, uu[:, 7])


def documented_attacks(s: State, p: ParamArrays, t: int, log, events: list[dict]) -> None:
    """History replay: the record's militia actions of the day, with their recorded outcomes,
    land in every replicate (attacks and stormings feed the U.S. harm ledger)."""
    r = np.arange(s.n)
    for ev in events:
        if ev["action"] not in ("attack", "storming"):
            if log is not None:
                log.emit(r, t, actor=ev["actor_code"], action=A[ev["action"]],
                         target=ev["target_code"], rung=0, documented=1)
            continue
        outcome = dict(intercepted=np.full(s.n, ev["intercepted"]),
                       wounded=np.full(s.n, ev["us_wounded"]),
                       us_killed=np.full(s.n, ev["us_killed"]),
                       coalition_killed=np.full(s.n, ev["coalition_killed"]))
        weapon = np.full(s.n, ev["weapon"])
        site = np.full(s.n, ev["site_code"])
        record_attack(s, p, t, log, r, np.full(s.n, ev["actor_code"]), weapon, site, outcome,
                      np.zeros(s.n), documented=True, action=ev["action"],
                      country=ev["country"])


def site_open(s: State, p: ParamArrays, t: int) -> np.ndarray:
    """(n, S) which U.S. sites are still held: not handed over, and the U.S. still in country."""
    held = t < p.site_until
    by_country = np.stack([s.present_iraq, s.present_syria, s.present_syria], axis=1)
    return held[None, :] & by_country[:, p.site_country]


def attack_outcome(p: ParamArrays, r, weapon, site, uu) -> dict[str, np.ndarray]:
    """Interception, wounded and killed for attacks (rows r) with ``weapon`` on ``site``."""
    wp = p.weapon
    p_int = wp["intercept_probability"][r, weapon] * p.site["air_defence"][r, site]
    intercepted = uu[:, 2] < p_int
    hit = ~intercepted
    wounded = np.where(hit, poisson_from_uniform(uu[:, 3], wp["wounded_mean"][r, weapon]), 0)
    lethal = hit & (uu[:, 4] < wp["lethal_probability"][r, weapon])
    killed = np.where(lethal, 1 + poisson_from_uniform(uu[:, 5],
                                                       wp["killed_extra_mean"][r, weapon]), 0)
    us_killed = np.where(uu[:, 6] < p.us["us_share_of_killed"][r], killed, 0)
    return dict(intercepted=intercepted, wounded=wounded, us_killed=us_killed,
                coalition_killed=killed - us_killed)


def record_attack(s: State, p: ParamArrays, t: int, log, r, f, weapon, site, outcome,
                  u_attribution, documented: bool = False, action: str = "attack",
                  country=None) -> None:
    """Book an attack's harm (U.S. ledger, today's counts) and its event."""
    killed = outcome["us_killed"] + outcome["coalition_killed"]
    up = p.us
    harm = (up["harm_per_attack"][r] + up["harm_per_wounded"][r] * outcome["wounded"]
            + up["harm_per_killed"][r] * killed)
    np.add.at(s.harm, r, harm)
    attributed = u_attribution < up["attribution_accuracy"][r]
    fa = f < F
    np.add.at(s.harm_by_faction, (r[attributed & fa], f[attributed & fa]),
              harm[attributed & fa])
    for key, val in (("attacks", 1), ("lethal_attacks", (killed > 0).astype(np.int64)),
                     ("us_killed", outcome["us_killed"]),
                     ("coalition_killed", outcome["coalition_killed"]),
                     ("us_wounded", outcome["wounded"])):
        np.add.at(s.today[key], r, val)
    np.add.at(s.today["harm"], r, harm)
    np.add.at(s.attacks_since, r, 1)
    np.add.at(s.killed_since, r, killed)
    np.add.at(s.wounded_since, r, outcome["wounded"])
    rung = np.where(killed > 0, 4, np.where(outcome["wounded"] > 0, 3, 2))
    _raise_rung(s, r, rung)
    if log is not None:
        log.emit(r, t, actor=f, action=A[action], weapon=weapon, site=site,
                 country=p.site_country[site] if country is None else country,
                 intercepted=outcome["intercepted"],
                 us_killed=outcome["us_killed"], us_wounded=outcome["wounded"],
                 coalition_killed=outcome["coalition_killed"], target=US, rung=rung,
                 documented=int(documented))


# --- U.S. forces ------------------------------------------------------------------------------

def observe(s: State) -> Observation:
    """What the deterrence rule sees today."""
    return Observation(
        day=0, attacks_today=s.today["attacks"],
        killed_today=s.today["us_killed"] + s.today["coalition_killed"],
        wounded_today=s.today["us_wounded"], attacks_since_strike=s.attacks_since,
        killed_since_strike=s.killed_since, wounded_since_strike=s.wounded_since,
        harm=s.harm, days_since_strike=s.days_since_strike, strikes_so_far=s.strikes_so_far,
        iraq_sovereignty=s.sovereignty)


def us_phase(s: State, p: ParamArrays, t: int, log: EventLog | None,
             documented: list[dict] | None = None) -> None:
    """Strike if a decided strike is due; otherwise let the rule decide on attack days.

    ``documented`` (history replay) replaces the rule: the record's strikes of the day land.
    """
    s.days_since_strike += 1
    if documented is not None:
        everyone = np.arange(s.n)
        for ev in documented:
            if ev["action"] in ("strike", "leader_strike"):
                execute_strike(s, p, t, log, everyone, ev["target"], ev["country"],
                               np.ones(s.n), np.full(s.n, ev["leaders"]), ev)
            elif log is not None:  # statements, designations: on the record, no effect
                log.emit(everyone, t, actor=US, action=A[ev["action"]],
                         target=ev["target_code"], rung=1, documented=1)
    else:
        due = np.flatnonzero(s.pending_day == t)
        if len(due):
            land_pending_strikes(s, p, t, log, due)
        ask = (s.today["attacks"] > 0) & (s.pending_day == NEVER) & (
            s.days_since_strike > 0) & (s.present_iraq | s.present_syria)
        if ask.any():
            obs = observe(s)
            obs.day = t
            u = rng.uniform(s.keys, t, Slot.US_RULE)
            resp = p.rule_on(t).respond(obs, u)
            go = ask & resp.strike
            idx = np.flatnonzero(go)
            if len(idx):
                s.pending_day[idx] = t + p.us["lag_days"][idx].astype(np.int64)
                s.pending_size[idx] = np.minimum(resp.size[idx], p.us["max_strike_size"][idx])
                s.pending_leaders[idx] = resp.leaders[idx]
                s.pending_target[idx] = responsible_faction(s, p, idx)
                now = idx[s.pending_day[idx] == t]
                if len(now):  # a zero lag strikes the same day
                    land_pending_strikes(s, p, t, log, now)
    s.harm *= p.decay["harm"]
    s.harm_by_faction *= p.decay["harm"][:, None]


def land_pending_strikes(s: State, p: ParamArrays, t: int, log, idx: np.ndarray) -> None:
    """Land the strikes decided earlier. Where: leader strikes in Iraq (where the leaders
    are), facility strikes in Syria with probability ``us.syria_share``; a country the U.S.
    has left is not struck from."""
    u = rng.uniform(s.keys[idx], t, Slot.US_STRIKE)
    leaders = s.pending_leaders[idx]
    syria = (u < p.us["syria_share"][idx]) & ~leaders
    syria = (syria & s.present_syria[idx]) | ~s.present_iraq[idx]
    execute_strike(s, p, t, log, idx, s.pending_target[idx], np.where(syria, SYRIA, IRAQ),
                   s.pending_size[idx], leaders, None)
    s.pending_day[idx] = NEVER


def responsible_faction(s: State, p: ParamArrays, idx: np.ndarray) -> np.ndarray:
    """The faction the U.S. holds responsible: the most attributed harm since the last strike,
    else the strongest faction (Kataib Hezbollah in the defaults)."""
    by_harm = s.harm_by_faction[idx].argmax(axis=1)
    strongest = p.faction["fighters"][idx].argmax(axis=1)
    return np.where(s.harm_by_faction[idx].max(axis=1) > 0, by_harm, strongest)


def execute_strike(s: State, p: ParamArrays, t: int, log, idx, target, country, size, leaders,
                   documented: dict | None) -> None:
    """A U.S. strike round on ``target``'s facilities (or leaders) in Iraq or Syria, and what
    it does: fighters and arsenal lost, fear and grievance raised, Iran angered, Baghdad's
    sovereignty grievance raised when it lands on Iraqi soil."""
    n = len(idx)
    target = np.broadcast_to(np.asarray(target, np.int64), (n,))
    country = np.broadcast_to(np.asarray(country, np.int64), (n,))
    size = np.broadcast_to(np.asarray(size, float), (n,))
    leaders = np.broadcast_to(np.asarray(leaders, bool), (n,))
    up, pm, ip, iq = p.us, p.militia, p.iran, p.iraq
    # Strikes in Syria reach less of a faction (its headquarters are in Iraq, 002).
    effect = size * np.where(country == SYRIA, up["syria_effect"][idx], 1.0)
    if documented is None:
        u = rng.uniform(s.keys[idx], t, Slot.US_STRIKE + 1 + np.broadcast_to(np.arange(5),
                                                                            (n, 5)))
        killed = poisson_from_uniform(u[:, 0], up["militia_killed_per_target"][idx] * effect)
        killed = killed + leaders
        collateral = (country == IRAQ) & (u[:, 1] < up["iraqi_collateral_probability"][idx])
        iraqi = np.where(collateral, poisson_from_uniform(
            u[:, 2], up["iraqi_killed_if_collateral"][idx]), 0)
        commander = leaders & (u[:, 3] < up["iranian_commander_probability"][idx])
        retaliate = commander & (u[:, 4] < ip["retaliation_probability"][idx])
    else:
        killed = np.full(n, documented.get("militia_killed", 0))
        iraqi = np.full(n, documented.get("iraqi_killed", 0))
        commander = np.full(n, documented.get("target_is_iran", False))
        u4 = rng.uniform(s.keys[idx], t, Slot.US_STRIKE + 5)
        retaliate = commander & (u4 < ip["retaliation_probability"][idx])
    f = target
    s.fighters[idx, f] = np.maximum(s.fighters[idx, f] - killed, 0.0)
    loss = np.clip(pm["arsenal_loss_per_strike"][idx, 0] * effect, 0.0, 1.0)
    s.arsenal[idx, f, :] *= (1.0 - loss)[:, None]
    fear_add = pm["fear_per_strike"][idx, 0] * effect
    s.fear[idx, :] += (pm["fear_spillover"][idx, 0] * fear_add)[:, None]
    s.fear[idx, f] += fear_add * (1.0 - pm["fear_spillover"][idx, 0])
    s.grievance[idx, f] += (pm["grievance_per_strike"][idx, 0]
                            + pm["grievance_per_killed"][idx, 0] * killed
                            + pm["grievance_per_leader"][idx, 0] * leaders)
    s.leadership[idx, f] *= np.where(leaders, 1.0 - pm["leadership_loss"][idx, 0], 1.0)
    s.anger[idx] += ip["anger_per_strike"][idx] * size + ip["anger_per_commander"][idx] * commander
    lag = ip["retaliation_lag_days"][idx].astype(np.int64)
    s.retaliation_day[idx] = np.where(retaliate, t + lag, s.retaliation_day[idx])
    in_iraq = country == IRAQ
    s.sovereignty[idx] += in_iraq * (iq["grievance_per_strike"][idx]
                                     + iq["grievance_per_leader_strike"][idx] * leaders
                                     + iq["grievance_per_iraqi_killed"][idx] * iraqi)
    s.today["strikes"][idx] += 1
    s.today["leader_strikes"][idx] += leaders
    s.today["militia_killed"][idx] += killed
    s.today["iraqi_killed"][idx] += iraqi
    s.today["strike_in_iraq"][idx] |= in_iraq
    s.strikes_so_far[idx] += 1
    s.days_since_strike[idx] = 0
    s.harm[idx] = 0.0
    s.harm_by_faction[idx] = 0.0
    s.attacks_since[idx] = s.killed_since[idx] = s.wounded_since[idx] = 0
    rung = np.where(leaders, 6, 5)
    _raise_rung(s, idx, rung)
    if log is not None:
        tgt = np.where(commander, IRAN, f)
        log.emit(idx, t, actor=US, action=np.where(leaders, A["leader_strike"], A["strike"]),
                 weapon=W, site=-1, country=country, militia_killed=killed, iraqi_killed=iraqi,
                 target=tgt, rung=rung, documented=int(documented is not None))


# --- Iraqi government --------------------------------------------------------------------------

def iraq_phase(s: State, p: ParamArrays, t: int, log: EventLog | None,
               documented: list[dict] | None = None) -> None:
    """Baghdad condemns strikes on its soil, negotiates, votes, and may end the U.S. presence.

    ``documented`` (history replay) replaces Baghdad's political acts with the record's.
    """
    iq = p.iraq
    override = p.restraint_override[t]
    effort = iq["restraint"] if np.isnan(override) else np.full(s.n, override)
    s.restraint = effort * np.clip(1.0 - iq["restraint_erosion"] * s.sovereignty, 0.0, 1.0)
    if documented is not None:
        for ev in documented:
            s.today["condemnations"] += ev["action"] == "condemnation"
            _raise_rung(s, np.arange(s.n), ev.get("rung", 1))
            if log is not None:
                log.emit(np.arange(s.n), t, actor=IRAQ_GOV, action=A[ev["action"]],
                         target=ev.get("target_code", US), rung=ev.get("rung", 1), documented=1)
    else:
        u = rng.uniform(s.keys, t, Slot.IRAQ + np.zeros(s.n, np.int64))
        condemn = s.today["strike_in_iraq"] & (u < iq["condemn_probability"])
        s.today["condemnations"] += condemn
        idx = np.flatnonzero(condemn)
        _raise_rung(s, idx, 1)
        if log is not None:
            log.emit(idx, t, actor=IRAQ_GOV, action=A["condemnation"], target=US, rung=1)
        talks = s.present_iraq & ~s.negotiating & (s.sovereignty >= iq["negotiate_threshold"])
        s.negotiating |= talks
        vote = s.present_iraq & ~s.voted & (s.sovereignty >= iq["vote_threshold"])
        s.voted |= vote
        decide = s.present_iraq & (s.exit_day == NEVER) & (s.sovereignty >= iq["exit_threshold"])
        s.exit_day[decide] = t + iq["exit_delay_days"][decide].astype(np.int64)
        if log is not None:
            log.emit(np.flatnonzero(talks), t, actor=IRAQ_GOV, action=A["negotiation"],
                     target=US, rung=0)
            log.emit(np.flatnonzero(vote), t, actor=IRAQ_GOV, action=A["vote"], target=US,
                     rung=1)
        _raise_rung(s, np.flatnonzero(vote), 1)
    leave = np.flatnonzero((s.exit_day == t) & s.present_iraq)
    if len(leave):
        s.present_iraq[leave] = False
        s.pending_day[leave] = np.where(s.present_syria[leave], s.pending_day[leave], NEVER)
        u = rng.uniform(s.keys[leave], t, Slot.IRAQ + 1)
        go = u < iq["syria_exit_probability"][leave]
        s.syria_exit_day[leave[go]] = t + iq["syria_exit_delay_days"][leave[go]].astype(np.int64)
        if log is not None:
            log.emit(leave, t, actor=US, action=A["exit"], country=IRAQ, rung=0)
    leave_syria = np.flatnonzero((s.syria_exit_day == t) & s.present_syria)
    if len(leave_syria):
        s.present_syria[leave_syria] = False
        s.pending_day[leave_syria] = np.where(s.present_iraq[leave_syria],
                                              s.pending_day[leave_syria], NEVER)
        if log is not None:
            log.emit(leave_syria, t, actor=US, action=A["exit"], country=SYRIA, rung=0)
    s.sovereignty *= p.decay["sovereignty"]


def force_exit(s: State, t: int, log: EventLog | None, country: int) -> None:
    """A scenario's forced U.S. exit (e.g. from Iraq in 2020)."""
    present = s.present_iraq if country == IRAQ else s.present_syria
    idx = np.flatnonzero(present)
    present[idx] = False
    if log is not None:
        log.emit(idx, t, actor=US, action=A["exit"], country=country, rung=0, documented=1)


# --- Bookkeeping ------------------------------------------------------------------------------

DAILY_COLUMNS = ("attacks", "lethal_attacks", "strikes", "leader_strikes", "state_attacks",
                 "us_killed", "coalition_killed", "us_wounded", "militia_killed",
                 "iraqi_killed", "condemnations", "rung", "level", "directive", "sovereignty",
                 "fear", "grievance", "arsenal", "present_iraq", "present_syria",
                 "suspended")

SUMMARY_COLUMNS = ("attacks", "lethal_attacks", "us_killed", "coalition_killed", "us_wounded",
                   "militia_killed", "iraqi_killed", "strike_rounds", "leader_strikes",
                   "condemnations", "highest_rung", "highest_rung_day", "days_at_rung5plus",
                   "us_left_iraq", "us_left_iraq_day", "iran_direct_attack")


class Recorder:
    """Daily series (optional) and per-replicate summary accumulators."""

    def __init__(self, n: int, days: int, daily: bool):
        self.daily = {c: np.zeros((days, n), np.float32) for c in DAILY_COLUMNS} if daily else None
        self.acc = {c: np.zeros(n, np.int64) for c in SUMMARY_COLUMNS}
        self.acc["highest_rung_day"][:] = NEVER
        self.acc["us_left_iraq_day"][:] = NEVER
        self.last_at_rung = np.full((n, 10), -10 ** 6, dtype=np.int64)
        self.rows = np.arange(n)

    def end_of_day(self, s: State, t: int) -> None:
        td, acc = s.today, self.acc
        self.last_at_rung[self.rows, td["rung"]] = t
        recent = (t - self.last_at_rung) < LEVEL_WINDOW_DAYS
        s.level = (recent * np.arange(10)).max(axis=1).astype(float)
        for key, src in (("attacks", "attacks"), ("lethal_attacks", "lethal_attacks"),
                         ("us_killed", "us_killed"), ("coalition_killed", "coalition_killed"),
                         ("us_wounded", "us_wounded"), ("militia_killed", "militia_killed"),
                         ("iraqi_killed", "iraqi_killed"), ("strike_rounds", "strikes"),
                         ("leader_strikes", "leader_strikes"),
                         ("condemnations", "condemnations")):
            acc[key] += td[src]
        higher = td["rung"] > acc["highest_rung"]
        acc["highest_rung"] = np.where(higher, td["rung"], acc["highest_rung"])
        acc["highest_rung_day"] = np.where(higher, t, acc["highest_rung_day"])
        acc["days_at_rung5plus"] += s.level >= 5.0
        left = ~s.present_iraq & (acc["us_left_iraq"] == 0)
        acc["us_left_iraq_day"] = np.where(left, t, acc["us_left_iraq_day"])
        acc["us_left_iraq"] |= ~s.present_iraq
        acc["iran_direct_attack"] |= td["state_attacks"] > 0
        if self.daily is not None:
            d = self.daily
            for c in ("attacks", "lethal_attacks", "strikes", "leader_strikes", "state_attacks",
                      "us_killed", "coalition_killed", "us_wounded", "militia_killed",
                      "iraqi_killed", "condemnations", "rung"):
                d[c][t] = td[c]
            d["level"][t] = s.level
            d["directive"][t] = s.directive
            d["sovereignty"][t] = s.sovereignty
            d["fear"][t] = s.fear.mean(axis=1)
            d["grievance"][t] = s.grievance.mean(axis=1)
            d["arsenal"][t] = s.arsenal.sum(axis=(1, 2))
            d["present_iraq"][t] = s.present_iraq
            d["present_syria"][t] = s.present_syria
            d["suspended"][t] = s.suspended.sum(axis=1)
        s.new_day()
