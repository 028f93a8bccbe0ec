"""``escalation record``: the documented 2019-2024 record (or ``--record FILE``, any file in
its columns) as summary tables, coverage tables and two figures (timeline, coverage).

What lives here: the command's arguments, the summary and coverage tables (which are plain
functions on the event table, so a notebook can compute them on simulated events too) and
their printing.
What does not: loading and validating the data (``calibration.record``) and drawing the
figure (``sim.plots.record``).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from calibration.record import DATA_DIR, load_episodes, load_record, load_tallies
from sim import events as ev

#: Actions that are uses of force against U.S./coalition forces: what a strike answers.
ATTACK_ACTIONS: tuple[str, ...] = ("attack", "storming", "state_attack")
STRIKE_ACTIONS: tuple[str, ...] = ("strike", "leader_strike")
DEATH_COLUMNS: tuple[str, ...] = ("us_killed", "coalition_killed", "militia_killed",
                                  "iraqi_killed", "civilian_killed")
#: How far back a strike round looks for the attacks it answered. Two weeks covers the
#: documented lags (K1 2019-12-27 -> strikes 2019-12-29; Tower 22 2024-01-28 -> 2024-02-02).
LOOKBACK_DAYS = 14


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--record", metavar="FILE", type=Path,
                        help="a record file in events.csv columns (e.g. written by "
                             "`escalation import`) instead of calibration/data/events.csv")
    parser.add_argument("--plot", metavar="FILE", type=Path,
                        help="write the timeline figure (PNG, 150 dpi)")
    parser.add_argument("--out", metavar="DIR", type=Path,
                        help="write the summary tables as CSV files into DIR")
    # Hidden: read another data directory or events file (tests, data editors).
    parser.add_argument("--data", metavar="DIR", type=Path, default=DATA_DIR,
                        help=argparse.SUPPRESS)
    parser.add_argument("--events", metavar="PATH", type=Path, help=argparse.SUPPRESS)


def main(args: argparse.Namespace) -> int:
    # Load and validate everything before writing anything: bad input writes nothing.
    events = load_record(args.record or args.events or args.data / "events.csv")
    tallies = load_tallies(args.data / "tallies.csv")
    tables = summary_tables(events, tallies)
    figure = coverage = None
    if args.plot:
        from sim.plots.record import plot_coverage, plot_record  # matplotlib only if asked
        figure = plot_record(events, tallies, load_episodes(args.data / "episodes.csv"))
        coverage = plot_coverage(tables["coverage_by_month"], tables["tally_coverage"],
                                 f"{args.record.name}" if args.record else
                                 "the documented record")
    print(render(tables, events, f"Record file {args.record}" if args.record else
                 "Documented record"))
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        for name, table in tables.items():
            table.to_csv(args.out / f"{name}.csv",
                         index=name not in ("strike_rounds", "tallies", "tally_coverage"),
                         date_format="%Y-%m-%d")
        print(f"\ntables written to {args.out}/")
    if figure is not None:
        args.plot.parent.mkdir(parents=True, exist_ok=True)
        figure.savefig(args.plot, dpi=150)
        coverage.savefig(coverage_path(args.plot), dpi=150)
        print(f"figures written to {args.plot} (timeline) and {coverage_path(args.plot)} "
              "(coverage)")
    return 0


def coverage_path(plot: Path) -> Path:
    """Where ``--plot FILE`` puts the coverage figure: ``record.png`` -> ``record.coverage.png``."""
    return plot.with_name(f"{plot.stem}.coverage{plot.suffix or '.png'}")


# --- Tables -------------------------------------------------------------------------------

def _years(events: pd.DataFrame) -> pd.Series:
    return events["date"].dt.year.rename("year")


def events_by_year(events: pd.DataFrame) -> pd.DataFrame:
    """Events per year and actor kind, with totals."""
    table = pd.crosstab(_years(events), events["actor_kind"].astype(str))
    table = table.reindex(columns=list(ev.ACTOR_KINDS), fill_value=0)
    table["total"] = table.sum(axis=1)
    table.loc["total"] = table.sum()
    return table


def events_by_action(events: pd.DataFrame) -> pd.DataFrame:
    """Events per actor kind and action, with the first and last date of each."""
    groups = events.groupby([events["actor_kind"].astype(str), events["action"].astype(str)])
    table = groups["date"].agg(events="size", first="min", last="max")
    order = {k: i for i, k in enumerate(ev.ACTOR_KINDS)}
    table = table.sort_index(key=lambda idx: idx.map(order) if idx.name == "actor_kind" else idx)
    for col in ("first", "last"):
        table[col] = table[col].dt.strftime("%Y-%m-%d")
    return table


def deaths_by_year(events: pd.DataFrame) -> pd.DataFrame:
    """Documented deaths per year by whom (main estimates), and U.S. wounded."""
    cols = list(DEATH_COLUMNS) + ["us_wounded"]
    table = events[cols].fillna(0).astype(int).groupby(_years(events)).sum()
    table.loc["total"] = table.sum()
    return table


def strike_rounds(events: pd.DataFrame, lookback_days: int = LOOKBACK_DAYS) -> pd.DataFrame:
    """U.S. strikes grouped by day, each with the attacks of the preceding ``lookback_days``.

    A reader asks of every strike what it answered: how many attacks came before it, whether
    one killed U.S./coalition personnel, and how long the U.S. waited after the last one.
    Columns ``wounded_*``/``killed_*`` are U.S. wounded and U.S./coalition killed in those
    attacks; ``days_after`` counts from the last attack, however long ago. Attacks on the
    strike's own day count as preceding it: the record is daily, and some strikes answered
    within hours (Syria, 2023-03-23).
    """
    strikes = events[events["action"].isin(STRIKE_ACTIONS)]
    attacks = events[events["action"].isin(ATTACK_ACTIONS)]
    rows = []
    for day, group in strikes.groupby("date"):
        before = attacks[(attacks["date"] <= day)
                         & (attacks["date"] >= day - pd.Timedelta(days=lookback_days))]
        killed = before["us_killed"].fillna(0) + before["coalition_killed"].fillna(0)
        lethal = before[killed > 0]
        last = attacks.loc[attacks["date"] <= day, "date"].max()
        rows.append({
            "date": day,
            "country": _join(group["country"]),
            "strikes": len(group),
            "leaders": "yes" if group["action"].eq("leader_strike").any() else "",
            "targets": _join(group["target"]),
            "militia_killed": int(group["militia_killed"].fillna(0).sum()),
            f"attacks_{lookback_days}d": len(before),
            f"wounded_{lookback_days}d": int(before["us_wounded"].fillna(0).sum()),
            f"killed_{lookback_days}d": int(killed.sum()),
            "days_after": (day - last).days if pd.notna(last) else pd.NA,
            "lethal_attack": "; ".join(
                f"{r.date:%Y-%m-%d} {r.site or r.country or '?'}: "
                f"{int((r.us_killed or 0) + (r.coalition_killed or 0))} killed"
                for r in lethal.fillna({"us_killed": 0, "coalition_killed": 0, "site": "",
                                        "country": ""}).itertuples()),
        })
    return pd.DataFrame(rows)


def _join(values: pd.Series) -> str:
    return ",".join(dict.fromkeys(v for v in values.fillna("").astype(str) if v))


# --- Coverage -----------------------------------------------------------------------------

#: The window the coverage tables span, so that empty months show as gaps (DESIGN.md).
WINDOW: tuple[str, str] = ("2019-10-01", "2024-12-31")
SOURCE_QUALITIES: tuple[str, ...] = ("official", "major_outlet", "tracker", "other")


def coverage_by_month(events: pd.DataFrame, window: tuple[str, str] = WINDOW) -> pd.DataFrame:
    """Rows per month of the window: by actor kind, by source quality, and in all.

    Every month of the window is a row, with zeros where the record has nothing, so a gap
    in the record reads as a run of zeros rather than as a missing line. The source-quality
    columns are there when the table has ``source_quality`` (documented rows do).
    """
    months = pd.period_range(window[0], window[1], freq="M")
    month = events["date"].dt.to_period("M").rename("month")
    kinds = pd.crosstab(month, events["actor_kind"].astype(str)).reindex(
        index=months, columns=list(ev.ACTOR_KINDS), fill_value=0)
    parts = [kinds]
    if "source_quality" in events:
        parts.append(pd.crosstab(month, events["source_quality"].astype(str)).reindex(
            index=months, columns=list(SOURCE_QUALITIES), fill_value=0))
    table = pd.concat(parts, axis=1)
    table["total"] = kinds.sum(axis=1)
    table.index = table.index.astype(str).rename("month")
    return table


def coverage_by_quarter(by_month: pd.DataFrame) -> pd.DataFrame:
    """:func:`coverage_by_month` summed by quarter (what the command prints)."""
    quarter = pd.PeriodIndex(by_month.index, freq="M").asfreq("Q").astype(str)
    return by_month.groupby(quarter.rename("quarter")).sum()


def tally_coverage(events: pd.DataFrame, tallies: pd.DataFrame) -> pd.DataFrame:
    """Each published tally beside the record rows it counts, so the record's gaps show.

    ``record`` is what the calibration compares with the tally (``calibration.targets``),
    computed on the record's rows by the same code: attack rows in the tally's period and
    scope, drone attack rows, strike rounds (days with a strike), or the sum of U.S./coalition
    deaths or U.S. wounded over the rows. ``share`` is ``record / count``. A tally the model
    has no series for (strike targets) has no ``record``.
    """
    from calibration import targets as tg   # numpy-heavy; only when the command runs
    targets = {t.name.removeprefix("tally:"): t for t in tg.default_targets(tallies, *WINDOW)
               if t.name.startswith("tally:")}
    first = min([pd.Timestamp(WINDOW[0])] + list(tallies["start"]))
    last = max([pd.Timestamp(WINDOW[1])] + list(tallies["end"]))
    series = tg.daily_series(events, first, last)
    out = tallies[["tally_id", "start", "end", "measure", "scope", "count", "count_high",
                   "bound"]].copy()
    rows = [int(round(float(targets[i].compute(series)[0]))) if i in targets else pd.NA
            for i in out["tally_id"]]
    out["record"] = pd.array(rows, dtype="Int64")
    out["share"] = (out["record"].astype("Float64") / out["count"].where(out["count"] > 0)
                    ).round(2)
    return out.reset_index(drop=True)


def summary_tables(events: pd.DataFrame, tallies: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The record's summary tables by name (the CSV file names under ``--out``)."""
    return {
        "events_by_year": events_by_year(events),
        "events_by_action": events_by_action(events),
        "deaths_by_year": deaths_by_year(events),
        "strike_rounds": strike_rounds(events),
        "tallies": tallies[["tally_id", "start", "end", "measure", "scope", "count",
                            "count_high", "source"]],
        "coverage_by_month": coverage_by_month(events),
        "tally_coverage": tally_coverage(events, tallies),
    }


def render(tables: dict[str, pd.DataFrame], events: pd.DataFrame,
           title: str = "Documented record") -> str:
    """The tables as the text the command prints, under ``title``."""
    first, last = events["date"].min(), events["date"].max()
    span = f"{first:%Y-%m-%d} .. {last:%Y-%m-%d}" if len(events) else "no events"
    rounds = tables["strike_rounds"].copy()
    if len(rounds):
        rounds["date"] = rounds["date"].dt.strftime("%Y-%m-%d")
    tallies = tables["tally_coverage"].copy()
    for col in ("start", "end"):
        tallies[col] = tallies[col].dt.strftime("%Y-%m-%d")
    for col in ("count_high", "record", "share"):
        tallies[col] = tallies[col].astype(object).where(tallies[col].notna(), "-")
    parts = [
        f"{title}: {len(events)} events, {span}",
        ("Events by year and actor kind", tables["events_by_year"].to_string()),
        ("Events by action", tables["events_by_action"].to_string()),
        ("Deaths by year (main estimates; U.S. wounded for comparison)",
         tables["deaths_by_year"].to_string()),
        (f"U.S. strike rounds and the attacks of the {LOOKBACK_DAYS} days before each\n"
         "(documented attack rows only: most of the ~170 attacks of Oct 2023-Feb 2024 are "
         "known only as tallies)",
         rounds.to_string(index=False, na_rep="-") if len(rounds) else "(none)"),
        ("Coverage: rows per quarter by actor kind and by source quality (per month: "
         "--out DIR/coverage_by_month.csv)",
         coverage_by_quarter(tables["coverage_by_month"]).to_string()),
        ("Tallies (published counts over periods) against the record rows they count\n"
         "(record: what the calibration compares with the tally, counted on these rows: "
         "attack rows, strike days, deaths or wounded; share = record / count)",
         tallies.to_string(index=False, na_rep="-", max_colwidth=60)),
    ]
    return "\n\n".join(p if isinstance(p, str) else f"{p[0]}\n{p[1]}" for p in parts)
