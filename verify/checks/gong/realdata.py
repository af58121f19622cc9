"""Checker for gong-2025/realdata/syntax-before-semantics (§7.2, §8 item 7; RECONSTRUCTED measurement).

A drawn case is a generated CounterFact-format fact set (relations, subjects per relation, fact seed) and a
small GPT-2-architecture model (width, learning rate) trained from scratch, seeds batched in one program
(:func:`run`: ``numerics.gong.realdata.train``, stopped once every seed has reached the exact-accuracy
threshold). The judge :func:`syntax_before_semantics` takes the per-epoch accuracy trajectories (so tests
hand it a sabotaged one) and judges each seed by ``judge_ordering(T_type, T_exact)``; the verdicts are
combined (any violating seed makes the case violated).

Each case is a training run, so the check costs three ordinary draws (``cost=3``: a third of the profile's
examples, plus the pinned case).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from hypothesis import strategies as st

from twostage.numerics.config import require
from twostage.numerics.gong import factset as fs
from twostage.numerics.gong import realdata as cf
from twostage.numerics.gong.gpt2lite import GPT2Config
from twostage.verify.check import checker
from twostage.verify.judge import judge_ordering
from twostage.verify.verdict import Measurement, combine

THRESHOLD = 0.9


@dataclass(frozen=True)
class Case:
    """One drawn case (gong-2025 §7.2, RECONSTRUCTED): a generated fact set of ``relations`` x ``subjects``
    facts (``fact_seed``) and a 2-layer GPT-2-architecture model of width ``n_embd`` trained with AdamW at
    ``lr``, ``seeds`` seeds batched, for at most ``max_epochs`` epochs."""

    relations: int = 5
    subjects: int = 8
    n_embd: int = 32
    lr: float = 3e-3
    fact_seed: int = 0
    seeds: int = 3
    max_epochs: int = 60

    def __post_init__(self) -> None:
        require(self.n_embd % 4 == 0 and self.seeds >= 1 and self.max_epochs >= 1,
                "gong-2025/ass/gpt2-architecture", "n_embd % 4 == 0 (4 heads), seeds >= 1, max_epochs >= 1")


CASES = st.builds(Case, relations=st.integers(3, 5), subjects=st.integers(6, 10),
                  n_embd=st.sampled_from([32, 48]), lr=st.floats(2e-3, 4e-3),
                  fact_seed=st.integers(0, 10_000))
PINNED = Case()


@lru_cache(maxsize=16)
def run(case: Case, seed: int = 0, device: str = "cpu") -> dict:
    records = fs.generate(fs.FactSetConfig(case.relations, case.subjects), seed=case.fact_seed)
    tok = fs.WordTokenizer.build(records)
    enc = cf.encode(records, tok)
    cfg = GPT2Config(vocab_size=len(tok), n_positions=max(16, enc.ids.shape[1]), n_embd=case.n_embd,
                     n_layer=2, n_head=4)
    tc = cf.TrainConfig(epochs=case.max_epochs, lr=case.lr, seeds=case.seeds, threshold=THRESHOLD,
                        stop_when_exact=True, watch=0)
    res = cf.train(cfg, enc, tc, seed=seed, device=device)
    return {k: res[k] for k in ("epoch", "type", "exact", "loss")}


def trajectories(case: Case, ctx) -> dict:
    return run(case, ctx.seed, ctx.device)


@checker("gong-2025/realdata/syntax-before-semantics", draws=CASES, simulate=trajectories, examples=[PINNED],
         cost=3)
def syntax_before_semantics(claim, case: Case, tr: dict, threshold: float = THRESHOLD) -> Measurement:
    """``T_type < T_exact`` per seed, from the per-epoch accuracy trajectories ``(epochs + 1, S)``."""
    T_type = cf.first_epoch(tr["epoch"], tr["type"], threshold)
    T_exact = cf.first_epoch(tr["epoch"], tr["exact"], threshold)
    ms = [judge_ordering(float(a), float(b), scale=max(float(b), 1.0) if np.isfinite(b) else 1.0,
                         info={"seed": s, "T_type": float(a), "T_exact": float(b), "threshold": threshold})
          for s, (a, b) in enumerate(zip(T_type, T_exact))]
    m = combine(ms)
    return dataclasses.replace(m, examples=len(ms))
