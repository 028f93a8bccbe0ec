"""``escalation schema scenario|sweep``: the JSON Schema of a file format, for editors.

What lives here: the command's arguments and output. What does not: the declared models the
schema comes from (``sim.schema``). docs/scenarios.md says how to point an editor at it.
"""

from __future__ import annotations

import json
from pathlib import Path

from sim.errors import InputError

KINDS = ("scenario", "sweep")


def add_arguments(p) -> None:
    p.add_argument("kind", choices=KINDS, help="scenario (scenarios/*.toml) or sweep "
                                               "(scenarios/sweeps/*.toml)")
    p.add_argument("--out", default=None, metavar="FILE",
                   help="write the schema to FILE instead of printing it")


def main(args) -> int:
    from sim.schema import json_schema

    text = json.dumps(json_schema(args.kind), indent=2) + "\n"
    if args.out is None:
        print(text, end="")
        return 0
    out = Path(args.out)
    if out.is_dir():
        raise InputError(args.out, "--out", "is a folder; give a file name, e.g. "
                                            f"{args.kind}.schema.json")
    out.write_text(text)
    print(f"wrote {out}")
    return 0
