"""Running the suite and persisting what it produces (application layer).

* ``suite``: one verification run over the selected claims; ``executor``: in-process, process-pool and
  Dask executors; ``sweep`` / ``sweep_verify``: parameter sweeps of checks;
* ``store``: atomic writes of every result file, config hashing, the lock; ``records``: the one verdict
  (de)serialiser; ``tables``: the Parquet/JSON verdict tables; ``verdict_store``: ``verdicts.json`` and
  ``verdicts.parquet`` committed together, with recovery; ``checkpoint``: resumable ``run`` training loops.

Submodules are imported where used (``from twostage.runs import store``) so the CLI starts fast.
"""

__all__ = ["checkpoint", "executor", "records", "store", "suite", "sweep", "sweep_verify", "tables",
           "verdict_store"]
