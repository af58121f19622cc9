"""Training loop of the chen-luo-2025 experiments (§5, Tables 1-2): AdamW, warmup + cosine schedule, gradient
clipping, last-token cross-entropy, and the §5 metrics logged along the way.

Schedule (RECONSTRUCTED from "warmup + cosine annealing; initial LR / eta_min 1e-5; warmup multiplier 15; 10
warmup epochs; T_max 200"): a linear ramp from ``lr_min`` to ``lr`` over ``warmup`` steps, then ``lr_min + (lr
- lr_min)(1 + cos(pi (step - warmup) / t_max)) / 2``.

>>> cfg = TrainConfig(steps=100, batch=4, lr=1.5e-4, lr_min=1e-5, warmup=10, t_max=200)
>>> round(lr_at(0, cfg), 8), round(lr_at(10, cfg), 8), lr_at(210, cfg) == cfg.lr_min
(1e-05, 0.00015, True)
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch

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
    log_at: Callable[[int], bool] | None = None,
):
    """Train with AdamW; return ``(history, snapshots)``: ``history`` maps column -> list (one entry per log,
    the first at step 0); ``snapshots`` maps step -> weights (those asked for by ``snapshot_at``, plus the
    first and
    the last). ``log_at(step)`` replaces the fixed ``cfg.log_every`` schedule (the last step is always
    logged)."""
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

    with torch.no_grad():
        x, y = batches(0)
        record(0, float(last_token_loss(model, x, y)))
    for step in range(1, cfg.steps + 1):
        for group in opt.param_groups:
            group["lr"] = lr_at(step, cfg)
        x, y = batches(step)
        loss = last_token_loss(model, x, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, cfg.clip)
        opt.step()
        window.append(float(loss.detach()))
        due = log_at(step) if log_at is not None else step % cfg.log_every == 0
        if due or step == cfg.steps:
            record(step, sum(window) / len(window))
            window = []
            if progress is not None:
                progress(step)
    snaps[cfg.steps] = snapshot(model)
    return hist, snaps
