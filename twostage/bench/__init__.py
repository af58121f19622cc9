"""``twostage bench``: the hot paths timed against their FLOP/byte ceilings (ratios measured in one run).

* ``hot_paths``: the timed kernels and their roofline limits; ``suite``: the bench table and its rows.
"""

__all__ = ["hot_paths", "suite"]
