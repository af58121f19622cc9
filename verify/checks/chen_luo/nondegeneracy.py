"""Checker for chen-luo-2025 Def 4 / Thm 1: a Gaussian initialisation is non-degenerate almost surely.

Counted over ``16 x profile.seeds`` draws per dimension (d = 1, 2, 4, 16), one exact binomial test over
all counts (:func:`~twostage.verify.checks.chen_luo.blowup.pool_binomial`): any degenerate draw is a
counterexample.
"""

from __future__ import annotations

from dataclasses import dataclass

from twostage.numerics.chen_luo.blowup import gaussian_state
from twostage.numerics.chen_luo.nondegeneracy import nondegenerate_ok
from twostage.verify.check import checker
from twostage.verify.checks.chen_luo.blowup import pool_binomial
from twostage.verify.judge import judge_binomial
from twostage.verify.verdict import Measurement


@dataclass(frozen=True)
class DrawBatch:
    """``n`` Gaussian initialisations of dimension ``d`` from ``seed``."""

    d: int
    n: int
    seed: int


def count(cfg: DrawBatch, ctx=None) -> tuple[int, int, dict]:
    Wv, W1, W2 = (x.numpy() for x in gaussian_state(cfg.d, cfg.n, cfg.seed))
    return nondegenerate_ok(Wv, W1, W2, cfg.d)


@checker("chen-luo-2025/def4/nondegenerate-as", simulate=count, pool=pool_binomial,
         draws=lambda ctx: [DrawBatch(d, 16 * ctx.profile.seeds, ctx.seed + d) for d in (1, 2, 4, 16)])
def nondegenerate_as(claim, cfg: DrawBatch, counted: tuple[int, int, dict]) -> Measurement:
    k, n, info = counted
    return judge_binomial(k, n, 1.0, info=info)
