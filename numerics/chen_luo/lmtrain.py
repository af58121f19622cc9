"""Training loop of the chen-luo-2025 experiments (§5, Tables 1-2): AdamW, warmup + cosine schedule, gradient
clipping, last-token cross-entropy, and the §5 metrics logged along the way.

Schedule (RECONSTRUCTED from "warmup + cosine annealing; initial LR / eta_min 1e-5; warmup multiplier 15; 10
warmup epochs; T_max 200"): a linear ramp from ``lr_min`` to ``lr`` over ``warmup`` steps, then ``lr_min + (lr
- lr_min)(1 + cos(pi (step - warmup) / t_max)) / 2``.

>>> cfg = TrainConfig(steps=100, batch=4, lr=1.5e-4, lr_min=1e-5, warmup=10, t_max=200)
>>> round(lr_at(0, cfg), 8), round(lr_at(10, cfg), 8), lr_at(210, cfg) == cfg.lr_min
(1e-05, 0.00015, True)

A run can be capped (:class:`RunCap`, read from ``TWOSTAGE_MAX_STEPS`` / ``TWOSTAGE_MAX_SECONDS`` by
:func:`run_cap`): the first ``k`` steps of the configured run, same optimiser and schedule (the schedule is
not compressed), so a paper-scale run can be sampled where its full length does not fit.

>>> cap = RunCap(steps=50)
>>> cap.apply(cfg).steps, cap.apply(cfg).t_max, RunCap().apply(cfg) is cfg
(50, 200, True)
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

import torch

from twostage.errors import ConfigError
from twostage.numerics.chen_luo import metrics as MT
from twostage.numerics.chen_luo.gptlite import GPTLite, last_token_loss
from twostage.numerics.config import require


@dataclass(frozen=True)
class TrainConfig:
    steps: int
    batch: int
    lr: float
    lr_min: float = 1e-5
    warmup: int = 0
    t_max: int = 1
    beta1: float = 0.9
    beta2: float = 0.999
    weight_decay: float = 0.0
    clip: float = 1.0
    log_every: int = 10

    def __post_init__(self) -> None:
        a = "chen-luo-2025/exp/training"
        require(
            self.steps >= 1 and self.batch >= 1 and self.log_every >= 1, a, "steps, batch, log_every >= 1"
        )
        require(0 < self.lr_min <= self.lr, a, f"need 0 < lr_min <= lr, got {self.lr_min}, {self.lr}")
        require(self.warmup >= 0 and self.t_max >= 1, a, "warmup >= 0, t_max >= 1")


ENV_MAX_STEPS, ENV_MAX_SECONDS = "TWOSTAGE_MAX_STEPS", "TWOSTAGE_MAX_SECONDS"


@dataclass(frozen=True)
class RunCap:
    """At most ``steps`` optimizer steps and/or ``seconds`` of training wall time (``None``: no cap).

    The step cap shortens the configuration (:meth:`apply`); the wall-time cap is checked after every step by
    :func:`train`, which then logs the step it stopped at as the last row."""

    steps: int | None = None
    seconds: float | None = None

    def __post_init__(self) -> None:
        a = "chen-luo-2025/exp/training"
        require(self.steps is None or self.steps >= 1, a, f"{ENV_MAX_STEPS} must be >= 1, got {self.steps}")
        require(self.seconds is None or self.seconds > 0, a,
                f"{ENV_MAX_SECONDS} must be > 0, got {self.seconds}")

    def apply(self, cfg: TrainConfig) -> TrainConfig:
        """``cfg`` with at most ``steps`` steps (its learning-rate schedule unchanged)."""
        if self.steps is None or self.steps >= cfg.steps:
            return cfg
        return replace(cfg, steps=self.steps)


def run_cap(environ=None) -> RunCap:
    """The cap set by ``TWOSTAGE_MAX_STEPS`` (a positive integer) and ``TWOSTAGE_MAX_SECONDS`` (a positive
    number); unset or empty means no cap. A malformed value is a one-line :class:`ConfigError`.

    >>> run_cap({"TWOSTAGE_MAX_STEPS": "40", "TWOSTAGE_MAX_SECONDS": ""})
    RunCap(steps=40, seconds=None)
    """
    env = os.environ if environ is None else environ

    def read(name, kind):
        v = env.get(name, "").strip()
        if not v:
            return None
        try:
            return kind(v)
        except ValueError:
            what = "a positive integer" if kind is int else "a positive number"
            raise ConfigError("chen-luo-2025/exp/training", f"{name}={v!r} is not {what}") from None

    return RunCap(read(ENV_MAX_STEPS, int), read(ENV_MAX_SECONDS, float))


def lr_at(step: int, cfg: TrainConfig) -> float:
    if step < cfg.warmup:
        return cfg.lr_min + (cfg.lr - cfg.lr_min) * step / cfg.warmup
    k = min(step - cfg.warmup, cfg.t_max)
    return cfg.lr_min + (cfg.lr - cfg.lr_min) * (1 + math.cos(math.pi * k / cfg.t_max)) / 2


def snapshot(model: GPTLite) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.named_weights().items()}


def log_metrics(model: GPTLite, now: dict, start: dict, prev: dict) -> dict[str, float]:
    """One row of the metric table: per matrix norm, relative distance, windowed rate, effective rank,
    singular-
    vector stability; per group the same for the concatenation; per layer the Assumption-1 rates."""
    row: dict[str, float] = {}
    for n, W in now.items():
        row[f"norm/{n}"] = float(W.norm())
        row[f"rd/{n}"] = MT.relative_distance(W, start[n])
        row[f"rate/{n}"] = MT.relative_distance(W, prev[n])
        row[f"erank/{n}"] = float(MT.effective_rank(W.double()))
        row[f"svstab/{n}"] = MT.singular_vector_stability(prev[n], W)
        row[f"svstab1/{n}"] = MT.singular_vector_stability(prev[n], W, top=1)
    for g, names in model.groups().items():
        row[f"rd/{g}"] = MT.group_relative_distance(now, start, names)
        row[f"rate/{g}"] = MT.group_relative_distance(now, prev, names)
        row[f"norm/{g}"] = math.sqrt(sum(row[f"norm/{n}"] ** 2 for n in names))
    for k in range(model.cfg.n_layers):
        for key, val in MT.assumption1_rates(now[f"l{k}.WV"], now[f"l{k}.W1"], now[f"l{k}.W2"]).items():
            row[f"{key}/l{k}"] = val
        # singular values of the key-query product W_Q W_K^T (chen-luo-2025 Thm 3: rank collapse in Stage 2)
        sv = torch.linalg.svdvals((now[f"l{k}.WQ"] @ now[f"l{k}.WK"].T).double())
        row[f"qk_s1/l{k}"], row[f"qk_s2/l{k}"] = float(sv[0]), float(sv[1])
        row[f"qk_ratio/l{k}"] = float(sv[1] / sv[0].clamp_min(1e-300))
    return row


def train(
    model: GPTLite,
    batches: Callable[[int], tuple[torch.Tensor, torch.Tensor]],
    cfg: TrainConfig,
    evaluate: Callable[[GPTLite], dict[str, float]] | None = None,
    snapshot_at: Callable[[int], bool] | None = None,
    progress: Callable[[int], None] | None = None,
    checkpoint=None,
    max_seconds: float | None = None,
    log_at: Callable[[int], bool] | None = None,
):
    """Train with AdamW; return ``(history, snapshots)``: ``history`` maps column -> list (one entry per log,
    the first at step 0); ``snapshots`` maps step -> weights (those asked for by ``snapshot_at``, plus the
    first and
    the last). ``log_at(step)`` replaces the fixed ``cfg.log_every`` schedule (the last step is always
    logged).

    ``max_seconds``: stop after the first step that ends ``max_seconds`` or more after the start (a wall-time
    cap, :class:`RunCap`); that step is logged as the last row, so ``history["step"][-1]`` is the number of
    steps done and the run equals the same configuration capped at that many steps.

    ``checkpoint`` (optional; ``twostage.runs.checkpoint.Checkpointer``): an object with ``due(step)``,
    ``save(step, state)`` and ``load() -> state | None``. The loop saves its whole state (weights, AdamW
    moments, history, snapshots, the loss window) after every step ``due`` says, and continues from a state
    ``load`` returns; the random generator behind ``batches`` belongs to the caller, who saves it with the
    checkpoint. A resumed run gives the same history and weights as an uninterrupted one (the ``wall`` column
    aside)."""
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=cfg.lr, betas=(cfg.beta1, cfg.beta2), weight_decay=cfg.weight_decay)
    start = snapshot(model)
    prev = start
    hist: dict[str, list] = {}
    snaps = {0: start}
    window: list[float] = []
    t0 = time.perf_counter()

    def record(step: int, loss: float) -> None:
        nonlocal prev
        now = snapshot(model)
        row = {
            "step": step,
            "loss": loss,
            "lr": lr_at(step, cfg),
            "wall": time.perf_counter() - t0,
            **log_metrics(model, now, start, prev),
        }
        if evaluate is not None:
            row.update(evaluate(model))
        for k, v in row.items():
            hist.setdefault(k, []).append(v)
        prev = now
        if snapshot_at is not None and snapshot_at(step):
            snaps[step] = now

    state = checkpoint.load() if checkpoint is not None else None
    first = 1
    if state is None:
        with torch.no_grad():
            x, y = batches(0)
            record(0, float(last_token_loss(model, x, y)))
    else:  # resume: everything the loop carries from one step to the next
        dev = next(model.parameters()).device
        on = lambda d: {k: v.to(dev) for k, v in d.items()}  # noqa: E731
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["opt"])
        hist.update(state["hist"])
        snaps = {int(k): on(v) for k, v in state["snaps"].items()}
        start, prev, window = on(state["start"]), on(state["prev"]), list(state["window"])
        first = int(state["step"]) + 1
    step = first - 1  # the last step done (a resumed run at its end does none)
    for step in range(first, cfg.steps + 1):
        for group in opt.param_groups:
            group["lr"] = lr_at(step, cfg)
        x, y = batches(step)
        loss = last_token_loss(model, x, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, cfg.clip)
        opt.step()
        window.append(float(loss.detach()))
        out_of_time = max_seconds is not None and time.perf_counter() - t0 >= max_seconds
        due = log_at(step) if log_at is not None else step % cfg.log_every == 0
        if due or step == cfg.steps or out_of_time:
            record(step, sum(window) / len(window))
            window = []
            if progress is not None:
                progress(step)
        if checkpoint is not None and step < cfg.steps and checkpoint.due(step):
            checkpoint.save(step, {"step": step, "model": model.state_dict(), "opt": opt.state_dict(),
                                   "hist": hist, "snaps": snaps, "start": start, "prev": prev,
                                   "window": window})
        if out_of_time:
            break
    snaps[step] = snapshot(model)
    return hist, snaps
