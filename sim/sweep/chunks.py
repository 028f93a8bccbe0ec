"""Step 3 of a sweep: cut its runs into chunks, one batch-engine call and one file each.

What lives here: :class:`Chunk`, :func:`default_chunk_size` and :func:`plan_chunks`. The
layout depends on the spec and the chunk size only, never on the workers, so a sweep resumed
with other workers keeps it. What does not: running a chunk (``sim.sweep.execution``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sim.sweep.design import Design


#: Runs per chunk: a batch-engine call costs about 1 s for the 2019-2024 window plus
#: 1.4-1.8 ms per run, cheapest per run near 2,500 (measured by `escalation bench`); smaller
#: sweeps are cut in at least 4 chunks of at least 500 runs so that several workers share them.
MAX_CHUNK_SIZE, MIN_CHUNK_SIZE, MIN_CHUNKS = 2500, 500, 4


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


def default_chunk_size(runs: int) -> int:
    """The chunk size when none is given: a function of the sweep's size only (never of the
    workers), so that a sweep resumed with other workers keeps its chunk layout."""
    return int(min(MAX_CHUNK_SIZE, max(MIN_CHUNK_SIZE, math.ceil(runs / MIN_CHUNKS))))


def plan_chunks(design: Design, replicates: int, chunk_size: int) -> list[Chunk]:
    """Split each group's runs into chunks of at most ``chunk_size`` runs, in run_id order."""
    chunks = []
    for k, g in enumerate(design.groups):
        lo, hi = g.point_lo * replicates, g.point_hi * replicates
        for a in range(lo, hi, chunk_size):
            chunks.append(Chunk(len(chunks), k, a, min(a + chunk_size, hi)))
    return chunks
