"""Figures: shared style (``style``) and the record timeline (``record``).

What lives here: plotting only; the tables behind the figures come from ``calibration`` and
``sim`` and are passed in.
"""
