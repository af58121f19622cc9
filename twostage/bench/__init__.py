"""``twostage bench``: the hot paths timed against their FLOP/byte ceilings (ratios measured in one run).

* ``hot_paths``: the timed kernels and their roofline limits; ``suite``: the bench table and its rows.
* ``fusion``: the fused/compiled full-model gradient and the flow's call sizes, against the naive path.
* ``device_check`` and ``device_summary``: the steps of ``scripts/device-check.sh`` and its summary.
"""

__all__ = ["device_check", "device_summary", "fusion", "hot_paths", "suite"]
