"""Parameter sweeps, in the order a user meets them: spec, design, chunks, execution, storage.

    spec.py       read and validate a sweep spec (scenarios/sweeps/*.toml): load_spec
    design.py     the design points, a grid or a sample of the unit cube: make_design
    chunks.py     the runs cut into chunks, one batch-engine call each: plan_chunks
    execution.py  the chunks run here, on a process pool or a Dask cluster: run_sweep
    storage.py    the result folder: atomic Parquet chunks, resume, runs.parquet

What does not live here: the dynamics (``sim.dynamics``), the batch engine (``sim.batch``),
sensitivity analysis and figures (``sim.sensitivity``), the command line
(``sim.commands.sweep``). Everything importable from ``sim.sweep`` before it became a package
still is (the names below).
"""

from sim.sweep.chunks import (MAX_CHUNK_SIZE, MIN_CHUNK_SIZE, MIN_CHUNKS, Chunk,
                              default_chunk_size, plan_chunks)
from sim.sweep.design import Design, make_design
from sim.sweep.execution import (ChunkResult, SweepResult, default_out, run_chunk, run_sweep,
                                 start_workers_early)
from sim.sweep.spec import (DEFAULT_LEVELS, DEFAULT_REPLICATES, DESIGNS, MAX_POINTS,
                            PARAM_KEYS, ROLES, SPEC_KEYS, Group, Parameter, SweepSpec,
                            load_spec, spec_from_dict)
from sim.sweep.storage import BOOL_METRICS, DAY_METRICS, run_schema

__all__ = [
    "load_spec", "spec_from_dict", "SweepSpec", "Parameter", "Group", "make_design", "Design",
    "plan_chunks", "default_chunk_size", "Chunk", "run_chunk", "ChunkResult", "run_sweep",
    "SweepResult", "default_out", "start_workers_early", "run_schema", "DESIGNS", "ROLES", "SPEC_KEYS", "PARAM_KEYS",
    "DEFAULT_REPLICATES", "DEFAULT_LEVELS", "MAX_POINTS", "MAX_CHUNK_SIZE", "MIN_CHUNK_SIZE",
    "MIN_CHUNKS", "DAY_METRICS", "BOOL_METRICS",
]
