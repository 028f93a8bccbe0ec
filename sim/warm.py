"""Importing this module loads the compiled engine (numba's cache), so that processes forked
afterwards - the sweep's workers, from its forkserver - start with it loaded."""

from sim.batch import warm_up

warm_up()
