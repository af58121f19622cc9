"""Anchor-function data of chen-luo-2025 §5.1 / App. B.1 (after Zhang et al. 2024c).

Vocabulary ``0..200`` (201 tokens); anchors ``A = {1, 2, 3, 4}``; keys ``Z = {5, ..., 100}``; sequences of
length ``s = 10`` contain exactly one anchor ``a``, at a position ``i`` among the first ``s - 1``; the target
is

    F(x_1..x_s) = x_{i+1} + (a mod 2)                                   (PAPER eq. (60), authoritative)

so targets lie in ``{5, ..., 101}``. Eq. (59) (``x_{i+1} + a``) is the basic rule, not the one used.

**Text/formula inconsistency** (App. A item 13): B.1's text says anchors ``{1, 2}`` and ``{3, 4}`` become
synonyms, but under ``a mod 2`` the equivalent pairs are ``{1, 3}`` (shift +1) and ``{2, 4}`` (shift +0). We
follow eq. (60). RECONSTRUCTED (not specified by the paper): non-anchor positions hold i.i.d. uniform keys
from ``Z``; the anchor value and its position are uniform; the train set is drawn fresh from a seed.

>>> import torch
>>> cfg = AnchorConfig(n=5, seed=0)
>>> x, y = make_anchor_data(cfg)
>>> tuple(x.shape), tuple(y.shape)
((5, 10), (5,))
>>> bool(((x >= 1) & (x <= 4)).sum(1).eq(1).all())
True
>>> bool(check_targets(x, y))
True
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from twostage.numerics.config import require

ANCHORS = (1, 2, 3, 4)
KEY_LOW, KEY_HIGH = 5, 100
VOCAB = 201


@dataclass(frozen=True)
class AnchorConfig:
    """``n`` sequences of length ``s`` drawn from ``seed``."""

    n: int
    seed: int = 0
    s: int = 10

    def __post_init__(self) -> None:
        require(self.n >= 1, "chen-luo-2025/exp/anchor", f"n must be >= 1, got {self.n}")
        require(self.s >= 2, "chen-luo-2025/exp/anchor", f"sequence length must be >= 2, got {self.s}")


def target_rule(anchor: torch.Tensor, following: torch.Tensor) -> torch.Tensor:
    """Eq. (60): ``x_{i+1} + (a mod 2)``."""
    return following + anchor.remainder(2)


def make_anchor_data(cfg: AnchorConfig, device="cpu") -> tuple[torch.Tensor, torch.Tensor]:
    """Token ids ``x`` (n, s) (int64) and targets ``y`` (n,)."""
    g = torch.Generator().manual_seed(cfg.seed)
    x = torch.randint(KEY_LOW, KEY_HIGH + 1, (cfg.n, cfg.s), generator=g)
    pos = torch.randint(0, cfg.s - 1, (cfg.n,), generator=g)
    anchor = torch.tensor(ANCHORS)[torch.randint(0, len(ANCHORS), (cfg.n,), generator=g)]
    rows = torch.arange(cfg.n)
    x[rows, pos] = anchor
    y = target_rule(anchor, x[rows, pos + 1])
    return x.to(device), y.to(device)


def check_targets(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Recompute eq. (60) from the sequences (independent of the generator's bookkeeping)."""
    is_anchor = (x >= ANCHORS[0]) & (x <= ANCHORS[-1])
    pos = is_anchor.int().argmax(dim=1)
    rows = torch.arange(x.shape[0], device=x.device)
    return (target_rule(x[rows, pos], x[rows, pos + 1]) == y).all()
