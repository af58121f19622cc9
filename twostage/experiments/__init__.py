"""Experiment registry for ``twostage run EXPERIMENT``.

An experiment is ``fn(profile, device, seed, out) -> str`` (a one-paragraph summary); it writes its
trajectories and figures under ``out`` through :mod:`twostage.runs.store`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path

import torch

from twostage.errors import UnknownExperimentError
from twostage.verify.profiles import Profile

Experiment = Callable[..., str]
EXPERIMENTS: dict[str, Experiment] = {}
# module that defines each experiment (imported lazily so the CLI starts fast)
MODULES: dict[str, str] = {
    "gong-synthetic": "twostage.experiments.gong_stages",
    "gong-phase": "twostage.experiments.gong_stages",
    "stage1-blowup": "twostage.experiments.chen_luo_blowup",
    "counterfact": "twostage.experiments.gong_realdata",
    "rank-reduction": "twostage.experiments.gong_realdata",
    "anchor-function": "twostage.experiments.chen_luo_lm",
    "lm-text": "twostage.experiments.chen_luo_lm",
}


def experiment(name: str) -> Callable[[Experiment], Experiment]:
    def deco(fn: Experiment) -> Experiment:
        EXPERIMENTS[name] = fn
        return fn

    return deco


def get_experiment(name: str) -> Callable[..., str]:
    if name not in EXPERIMENTS and name in MODULES:
        importlib.import_module(MODULES[name])
    if name not in EXPERIMENTS:
        known = sorted(set(EXPERIMENTS) | set(MODULES))
        raise UnknownExperimentError(f"unknown experiment {name!r} (known: {', '.join(known) or 'none'})")
    fn = EXPERIMENTS[name]

    def call(profile: Profile, device: torch.device, seed: int, out: Path) -> str:
        return fn(profile=profile, device=device, seed=seed, out=out)

    return call
