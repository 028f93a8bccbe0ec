"""Keyed randomness: a replicate's numbers depend on (seed, replicate, day, slot) only."""

import numpy as np
from scipy import stats

from sim import rng


def test_replicate_numbers_do_not_depend_on_batch():
    alone = rng.uniform(rng.replicate_keys(7, [5]), 100, 3)
    in_batch = rng.uniform(rng.replicate_keys(7, range(10)), 100, 3)
    assert alone[0] == in_batch[5]


def test_keys_match_seedsequence_spawn():
    spawned = np.random.SeedSequence(7).spawn(3)[2].generate_state(2, dtype=np.uint64)
    assert (rng.replicate_keys(7, [2])[0] == spawned).all()


def test_uniforms_are_uniform_and_independent_across_slots_and_days():
    keys = rng.replicate_keys(1, range(4000))
    a = rng.uniform(keys, 10, 0)
    b = rng.uniform(keys, 10, 1)
    c = rng.uniform(keys, 11, 0)
    for x in (a, b, c):
        assert stats.kstest(x, "uniform").pvalue > 0.001
        assert ((x >= 0) & (x < 1)).all()
    assert abs(np.corrcoef(a, b)[0, 1]) < 0.06 and abs(np.corrcoef(a, c)[0, 1]) < 0.06


def test_table_shape_and_seed_changes_numbers():
    keys = rng.replicate_keys(1, range(3))
    table = rng.uniform_table(keys, 0, np.arange(5))
    assert table.shape == (3, 5)
    assert not np.allclose(table, rng.uniform_table(rng.replicate_keys(2, range(3)), 0,
                                                    np.arange(5)))
