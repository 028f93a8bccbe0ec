"""Step 3 of a sweep: cut its runs into chunks, one batch-engine call and one file each.

What lives here: :class:`Chunk`, :func:`default_chunk_size` and :func:`plan_chunks`. The
layout depends on the spec and the chunk size only; the default chunk size also looks at the
number of workers of the first run (so that every worker gets a chunk), and is stored in
``spec.json``, so a sweep resumed with other workers keeps its layout. A run's numbers never
depend on the layout (``sim.sweep.execution``). What does not: running a chunk.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sim.sweep.design import Design


#: Runs per chunk: a batch-engine call is cheapest per run near 2,500 runs (measured by
#: `escalation bench`); sweeps are cut in at least 4 chunks (and at least one per worker) of
#: at least 500 runs, unless that would leave a worker idle: then the runs are shared out
#: evenly, down to FLOOR_CHUNK_SIZE runs, where the fixed cost of a call (a few ms, against
#: 0.3-1.5 ms per run of the 2019-2024 window) is still small.
MAX_CHUNK_SIZE, MIN_CHUNK_SIZE, MIN_CHUNKS, FLOOR_CHUNK_SIZE = 2500, 500, 4, 50


@dataclass(frozen=True)
class Chunk:
    """Runs ``run_lo .. run_hi - 1`` of one group: one batch-engine call, one file."""

    index: int
    group: int
    run_lo: int
    run_hi: int

    @property
    def runs(self) -> int:
        return self.run_hi - self.run_lo

    @property
    def filename(self) -> str:
        return f"chunk-{self.index:05d}.parquet"


def default_chunk_size(runs: int, workers: int = 1) -> int:
    """The chunk size when none is given, for ``runs`` runs on ``workers`` workers.

    Chunks of at most :data:`MAX_CHUNK_SIZE` runs, at least ``max(MIN_CHUNKS, workers)`` of
    them, their number a multiple of ``workers`` so that the workers finish together (10,240
    runs on 2 workers: 6 chunks of 1,707, not 5 of 2,048, which leaves one worker idle for a
    chunk). Where that makes chunks smaller than :data:`MIN_CHUNK_SIZE`, fewer chunks, but
    still one per worker while a chunk keeps :data:`FLOOR_CHUNK_SIZE` runs (a 500-run sweep
    on 2 workers: 2 chunks of 250). The size is stored with the sweep, so resuming it with
    other workers keeps the layout.
    """
    workers = max(1, int(workers))
    n = max(MIN_CHUNKS, workers, math.ceil(runs / MAX_CHUNK_SIZE))
    n = math.ceil(n / workers) * workers
    size = math.ceil(runs / n)
    if size < MIN_CHUNK_SIZE:
        n = max(workers, (runs // MIN_CHUNK_SIZE) // workers * workers)
        size = max(FLOOR_CHUNK_SIZE, math.ceil(runs / n))
    return int(max(1, min(MAX_CHUNK_SIZE, size)))


def plan_chunks(design: Design, replicates: int, chunk_size: int) -> list[Chunk]:
    """Split each group's runs into chunks of at most ``chunk_size`` runs, in run_id order."""
    chunks = []
    for k, g in enumerate(design.groups):
        lo, hi = g.point_lo * replicates, g.point_hi * replicates
        for a in range(lo, hi, chunk_size):
            chunks.append(Chunk(len(chunks), k, a, min(a + chunk_size, hi)))
    return chunks
