"""Default sizes of calibration, validation and backtest runs, in one light module.

What lives here: constants only, so that the command line can show them in its help without
importing SciPy, the ABC machinery or the scoring library (which cost seconds at start-up).
What does not: anything that computes. The modules that use them re-export them.
"""

#: ABC-SMC: particles per generation, most simulations, simulations per task (calibration.fit).
DEFAULT_POPULATION = 500
DEFAULT_BUDGET = 40_000
DEFAULT_CHUNK = 1000
#: Independent repeats of a comparison of rules (calibration.compare).
DEFAULT_REPEATS = 3
#: Ensemble size of a posterior predictive check (calibration.validate).
DEFAULT_REPLICATES = 500

#: The backtest (calibration.backtest): forecast origins, horizons in days, the calibration
#: budget and population per origin (the default backtest takes 2-3 minutes with 2
#: workers on a shared 2-core machine), and the forecast ensemble's size.
BACKTEST_ORIGINS: tuple[str, ...] = ("2020-06-30", "2021-06-30", "2022-06-30", "2023-06-30",
                                     "2023-10-31", "2024-01-31")
BACKTEST_HORIZONS: tuple[int, ...] = (90, 180)
BACKTEST_BUDGET = 20_000
BACKTEST_POPULATION = 400
BACKTEST_REPLICATES = 500
