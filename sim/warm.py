"""Importing this module loads the compiled engine (numba's cache), so that processes forked
afterwards - the sweep's workers, from its forkserver - start with it loaded.

It then freezes the garbage collector's view of everything loaded so far (``gc.freeze``, the
idiom before forking): the workers never scan those objects, and the forkserver's own exit
(which the sweep command's caller waits for when it reads the command's output) skips them.
"""

import gc

from sim.batch import warm_up

warm_up()
gc.freeze()
