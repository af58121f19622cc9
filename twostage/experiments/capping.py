"""Capped training runs of the chen-luo-2025 §5 experiments (``TWOSTAGE_MAX_STEPS``, ``TWOSTAGE_MAX_SECONDS``;
:func:`twostage.numerics.chen_luo.lmtrain.run_cap`): the configuration that ran, the summary's ``cap``
entry and where a capped run checkpoints. Used by :mod:`twostage.experiments.chen_luo_lm`.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from twostage.numerics.chen_luo.lmtrain import RunCap


def capped(cfg: Any, cap: RunCap) -> Any:
    """``cfg`` with the step cap applied (schedule unchanged)."""
    return replace(cfg, train=cap.apply(cfg.train))


def cap_report(planned: Any, cfg: Any, cap: RunCap, hist: dict) -> tuple[Any, dict]:
    """The configuration actually run (its ``steps`` the steps done) and the summary's ``cap`` entry."""
    done = int(hist["step"][-1])
    run = cfg if done == cfg.train.steps else replace(cfg, train=replace(cfg.train, steps=done))
    stopped = ("wall-time cap" if done < cfg.train.steps else
               "step cap" if done < planned.train.steps else None)
    wall = float(hist["wall"][-1])
    return run, {"max_steps": cap.steps, "max_seconds": cap.seconds, "planned_steps": planned.train.steps,
                 "steps_done": done, "stopped_by": stopped, "train_seconds": wall,
                 "steps_per_second": done / wall if wall > 0 else None}


def checkpoint_dir(cap: RunCap, directory: Path) -> Path | None:
    """Where the training checkpoints: the run's folder, except under a wall-time cap (a run stopped by the
    clock is a sample of the first steps, written under the steps it did; nothing to resume)."""
    return None if cap.seconds is not None else directory
