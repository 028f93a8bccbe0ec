#!/usr/bin/env python3
"""Regenerate ``calibration/data/SOURCES.md`` from the record's CSV files.

    python scripts/make_sources.py            # rewrite SOURCES.md
    python scripts/make_sources.py --check    # exit 1 if SOURCES.md is stale

Every row of events.csv, tallies.csv, factions.csv, sites.csv and episodes.csv names its
sources in ``source`` (items separated by ``;``): seed files (``000_<hash>.txt``) or public
addresses. This script lists each source once with the rows that cite it, so the list never
drifts from the data:

- the seed files, with their descriptions (kept from the current SOURCES.md; a new seed file
  gets a placeholder to fill in) and how many rows cite each;
- the public addresses grouped by the quality of their domain (official release, major
  outlet, research tracker, other: ``calibration/data/source_domains.csv``, where a domain
  not listed counts as "other" and is reported), each "cited for" its rows, with the first
  citing row's text.

Every other section of the current file (the title and introduction, "Conventions", the
closing "CAMEO / Goldstein check") is kept as it is: edit those by hand. The script also
reports rows of events.csv whose ``source_quality`` differs from the best quality of their
sources' domains, for whoever keeps the record to look at (it changes no row).
A test (tests/calibration/test_sources.py) checks that the committed file equals the output.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import defaultdict
from pathlib import Path
from urllib.parse import urlparse

import pandas as pd

DATA_DIR = Path(__file__).resolve().parents[1] / "calibration" / "data"

#: The files read, in order, with the column naming a row and the column holding its text.
FILES: tuple[tuple[str, str, str, str], ...] = (
    # file, id column, label prefix, text column
    ("events.csv", "event_id", "", "description"),
    ("tallies.csv", "tally_id", "tally ", "note"),
    ("factions.csv", "faction", "faction ", "name"),
    ("sites.csv", "site", "site ", "name"),
    ("episodes.csv", "episode_id", "episode ", "label"),
)
QUALITIES: tuple[tuple[str, str], ...] = (
    ("official", "Official releases"),
    ("major_outlet", "Major outlets"),
    ("tracker", "Research trackers"),
    ("other", "Other (mirrors, aggregators, smaller outlets)"),
)
SEED = re.compile(r"^\d{3}_[0-9a-f]{16}\.txt$")
SEED_HEADING = "## Seed files (/work/shared/seeds)"
PUBLIC_HEADING = "## Public references"
#: How much of the first citing row's text is shown (longer texts are cut with "...").
FIRST_USE_CHARS = 160
NO_DESCRIPTION = "(no description yet: describe the seed file here)"


def host(url: str) -> str:
    name = urlparse(url).netloc.lower().split("@")[-1].split(":")[0]
    return name[4:] if name.startswith("www.") else name


def domain_table(data_dir: Path = DATA_DIR) -> dict[str, str]:
    table = pd.read_csv(data_dir / "source_domains.csv", dtype=str, keep_default_na=False)
    allowed = {q for q, _ in QUALITIES}
    bad = table[~table["quality"].isin(allowed)]
    if len(bad):
        raise SystemExit(f"source_domains.csv:{bad.index[0] + 2}: quality: "
                         f"{bad['quality'].iloc[0]!r} is not one of {', '.join(allowed)}")
    return dict(zip(table["domain"].str.lower(), table["quality"]))


def quality_of(url: str, domains: dict[str, str]) -> str | None:
    """The quality of a URL's domain or of its nearest listed parent domain; None if none."""
    parts = host(url).split(".")
    for i in range(len(parts) - 1):
        found = domains.get(".".join(parts[i:]))
        if found:
            return found
    if parts[-1] in ("mil", "gov"):
        return "official"
    return None


def citations(data_dir: Path = DATA_DIR) -> dict[str, list[tuple[str, str]]]:
    """{source: [(row label, row text), ...]} in order of first appearance across FILES."""
    cited: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for name, key, prefix, text in FILES:
        table = pd.read_csv(data_dir / name, dtype=str, keep_default_na=False)
        for row in table.itertuples(index=False):
            row = row._asdict()
            for item in (i.strip() for i in row["source"].split(";")):
                if item and (prefix + row[key]) not in [c for c, _ in cited[item]]:
                    cited[item].append((prefix + row[key], row[text]))
    return cited


def sections(text: str) -> list[tuple[str, str]]:
    """The file as (heading line, body) pairs; the part before the first heading has ""."""
    out, heading, body = [], "", []
    for line in text.splitlines():
        if line.startswith("## "):
            out.append((heading, "\n".join(body)))
            heading, body = line, []
        else:
            body.append(line)
    out.append((heading, "\n".join(body)))
    return out


def seed_descriptions(body: str) -> dict[str, str]:
    """{seed file: description} from the current seed section."""
    out = {}
    for m in re.finditer(r"^- `([^`]+)` — (.*?)(?: Cited by \d+ rows?\.)?$", body, re.M):
        out[m.group(1)] = m.group(2).strip()
    return out


def _first_use(text: str) -> str:
    text = " ".join(text.split())
    if len(text) <= FIRST_USE_CHARS:
        return text
    return text[:FIRST_USE_CHARS - 3].rstrip() + "..."


def render(current: str, data_dir: Path = DATA_DIR) -> tuple[str, list[str]]:
    """The new SOURCES.md from the current one and the CSV files, and warnings."""
    cited = citations(data_dir)
    domains = domain_table(data_dir)
    warnings: list[str] = []
    parts = sections(current)
    headings = [h for h, _ in parts]
    descriptions = seed_descriptions(dict(parts).get(SEED_HEADING, ""))
    seeds = [s for s in cited if SEED.match(s)]
    urls = [s for s in cited if s.startswith(("http://", "https://"))]
    for s in cited:
        if s not in seeds and s not in urls:
            warnings.append(f"source {s!r} is neither a seed file nor an address "
                            f"(cited by {cited[s][0][0]})")

    seed_lines = [f"- `{s}` — {descriptions.get(s, NO_DESCRIPTION)} Cited by "
                  f"{len(cited[s])} row{'s' if len(cited[s]) != 1 else ''}."
                  for s in sorted(seeds)]
    grouped: dict[str, list[str]] = {q: [] for q, _ in QUALITIES}
    unknown = set()
    for url in urls:
        quality = quality_of(url, domains)
        if quality is None:
            unknown.add(host(url))
            quality = "other"
        rows = cited[url]
        grouped[quality].append(f"- <{url}> — cited for {', '.join(r for r, _ in rows)}. "
                                f"First use: {_first_use(rows[0][1])}")
    for name in sorted(unknown):
        warnings.append(f"domain {name} is not in source_domains.csv (counted as other)")
    public = ["", "Grouped by the quality of the address's domain "
              "(`calibration/data/source_domains.csv`; a domain not listed counts as other). "
              "A row's `source_quality` is the best quality among its sources.", ""]
    for quality, title in QUALITIES:
        public += [f"### {title} ({len(grouped[quality])})", ""]
        public += (grouped[quality] or ["(none)"]) + [""]

    out, done = [], set()
    for heading, body in parts:
        if heading == SEED_HEADING:
            out.append(f"{heading}\n\n" + "\n".join(seed_lines) + "\n")
            done.add(heading)
        elif heading == PUBLIC_HEADING:
            out.append(f"{heading}\n" + "\n".join(public))
            done.add(heading)
        else:
            out.append(f"{heading}\n{body}".lstrip("\n") if heading else body)
    # Sections missing from the current file go before the first kept section after them.
    if SEED_HEADING not in headings:
        out.insert(len(out), f"{SEED_HEADING}\n\n" + "\n".join(seed_lines) + "\n")
    if PUBLIC_HEADING not in headings:
        out.insert(len(out), f"{PUBLIC_HEADING}\n" + "\n".join(public))
    text = "\n".join(p.rstrip("\n") + "\n" for p in out)
    return re.sub(r"\n{3,}", "\n\n", text), warnings + quality_mismatches(data_dir, domains)


def quality_mismatches(data_dir: Path, domains: dict[str, str]) -> list[str]:
    """Rows of events.csv whose ``source_quality`` is not the best of their domains'."""
    rank = {q: i for i, (q, _) in enumerate(QUALITIES)}
    events = pd.read_csv(data_dir / "events.csv", dtype=str, keep_default_na=False)
    if "source_quality" not in events:
        return []
    out = []
    for row in events.itertuples(index=False):
        urls = [i.strip() for i in row.source.split(";") if i.strip().startswith("http")]
        if not urls:
            continue
        best = min((quality_of(u, domains) or "other" for u in urls), key=rank.get)
        if best != row.source_quality:
            out.append(f"events.csv {row.event_id}: source_quality {row.source_quality}, "
                       f"its domains say {best}")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="exit 1 if SOURCES.md differs from what would be written")
    parser.add_argument("--data", type=Path, default=DATA_DIR, help=argparse.SUPPRESS)
    parser.add_argument("--quiet", action="store_true", help="do not print warnings")
    args = parser.parse_args(argv)
    path = args.data / "SOURCES.md"
    current = path.read_text(encoding="utf-8") if path.exists() else "# Sources\n"
    text, warnings = render(current, args.data)
    if not args.quiet:
        for w in warnings:
            print(f"note: {w}", file=sys.stderr)
    if args.check:
        if text != current:
            print(f"{path} is stale: run python scripts/make_sources.py", file=sys.stderr)
            return 1
        return 0
    if text != current:
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
    print(f"wrote {path}" if text != current else f"{path} is up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
