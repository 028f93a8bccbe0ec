"""Step 5 of a sweep: its result folder, written atomically, resumable, combined.

What lives here: the experiments table's schema (:func:`run_schema`), atomic writes, the
resume check against ``spec.json``, and combining the chunk files into ``runs.parquet``.
What does not: running the chunks (``sim.sweep.execution``).

Output folder (default ``results/sweeps/<name>``)::

    spec.json        the resolved spec, its hash, the design's hash and the chunk size
    design.parquet   one row per design point (values, unit-cube coordinates, group)
    chunks/chunk-XXXXX.parquet   one per chunk, each written to a temporary file and renamed
    runs.parquet     the experiments table: run_id, point, replicate, seed, scenario, the
                     varied parameters, git_commit, then the metrics (EMA Workbench style:
                     experiments and outcomes on the same rows); ``*_day`` metrics are days
                     since the start, null when it never happened
    manifest.json    sim.run.manifest + spec, design, runs, chunking, executor, timings
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Callable, Iterable

import numpy as np

from sim.errors import InputError
from sim.sweep.chunks import Chunk
from sim.sweep.design import Design


#: Metrics that are a day index (-1 = never in the engine; null in the table) or a yes/no.
DAY_METRICS = ("highest_rung_day", "us_left_iraq_day")


BOOL_METRICS = ("us_left_iraq", "iran_direct_attack", "us_left_syria")
#: Rates (``sim.outcomes``): floats, NaN where the U.S. was never present.
FLOAT_METRICS = ("attacks_per_100_presence_days_iraq", "attacks_per_100_presence_days_syria")


def _metric_array(name: str, v: np.ndarray):
    import pyarrow as pa
    v = np.asarray(v)
    if name in DAY_METRICS:
        return pa.array(v.astype(np.int64), mask=v < 0, type=pa.int64())
    if name in BOOL_METRICS:
        return pa.array(v.astype(bool), pa.bool_())
    if name in FLOAT_METRICS:
        return pa.array(v.astype(float), pa.float64())
    return pa.array(v.astype(np.int64), pa.int64())


def run_schema(design: Design, metrics: Iterable[str]):
    """The experiments table's schema: run keys, varied parameters, commit, metrics."""
    import pyarrow as pa
    fields = [pa.field("run_id", pa.int64()), pa.field("point", pa.int64()),
              pa.field("replicate", pa.int64()), pa.field("seed", pa.int64()),
              pa.field("scenario", pa.string())]
    for name in design.names:
        col = design.columns[name]
        fields.append(pa.field(name, pa.string() if col.dtype == object else
                               pa.int64() if col.dtype.kind == "i" else pa.float64()))
    fields.append(pa.field("git_commit", pa.string()))
    for m in metrics:
        fields.append(pa.field(m, pa.bool_() if m in BOOL_METRICS else
                               pa.float64() if m in FLOAT_METRICS else pa.int64()))
    return pa.schema(fields)


def _check_resume(out: Path, state: dict, chunk_size: int | None) -> dict:
    spec_file = out / "spec.json"
    if not spec_file.is_file():
        raise InputError(str(out), "--resume", "is not a sweep folder (no spec.json); choose "
                                               "another --out")
    try:
        stored = json.loads(spec_file.read_text())
    except (OSError, ValueError) as err:
        raise InputError(str(spec_file), None, f"unreadable ({err}); choose another --out") \
            from None
    if stored.get("spec_hash") != state["spec_hash"]:
        raise InputError(str(spec_file), "spec_hash",
                         f"holds a different sweep (spec hash {stored.get('spec_hash')} != "
                         f"{state['spec_hash']}: the spec or its base scenario changed); "
                         "choose another --out")
    if stored.get("design_hash") != state["design_hash"]:
        raise InputError(str(spec_file), "design_hash",
                         "the design drawn from this spec differs from the stored one (other "
                         "SciPy/SALib versions?); choose another --out")
    if chunk_size is not None and chunk_size != stored.get("chunk_size"):
        raise InputError(None, "--chunk-size", f"{chunk_size} differs from the "
                                               f"{stored.get('chunk_size')} this sweep was "
                                               "started with; omit it to resume")
    return stored


def _chunk_done(path: Path, rows: int) -> bool:
    if not path.is_file():
        return False
    import pyarrow.parquet as pq
    try:
        return pq.ParquetFile(path).metadata.num_rows == rows
    except Exception:   # a damaged file is redone
        return False


def _combine(out: Path, chunks: list[Chunk], schema) -> None:
    """Stream the chunk files, in run_id order, into runs.parquet (one chunk in memory)."""
    import pyarrow.parquet as pq

    def write(f) -> None:
        with pq.ParquetWriter(f, schema, compression="zstd") as writer:
            for c in chunks:
                writer.write_table(pq.read_table(out / "chunks" / c.filename, schema=schema))
    _write_atomic(out / "runs.parquet", write)


def _write_parquet(table, f) -> None:
    import pyarrow.parquet as pq
    pq.write_table(table, f, compression="zstd")


def _write_atomic(path: Path, write: Callable[[Any], None]) -> None:
    """Write via a temporary file in the same folder, fsync, then os.replace."""
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        with open(tmp, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.remove(tmp)
        except FileNotFoundError:
            pass
        raise


def _write_json(path: Path, data: dict) -> None:
    text = json.dumps(data, indent=2, default=str) + "\n"
    _write_atomic(path, lambda f: f.write(text.encode()))
