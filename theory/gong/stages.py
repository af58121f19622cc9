"""gong-2025 stage and spectral statements, as testable predictions (RECONSTRUCTED forms).

The exact theorems (Thm 1 stage 1, Thm 2 stage 2, the spectral corollary) are not retrievable
(``docs/papers/gong_2025.md`` §5); these are the falsifiable predictions of its test plan (§8, items 1-5),
stated for the reconstructed model of :mod:`twostage.theory.gong.setting` with precise event times:

* ``K_P(t)``, ``K_Q(t)``: logistic losses of the P-only output ``f_P`` and the Q-only output ``f_Q`` on
  the training prompts (the other block's contribution removed).
* ``T_B`` (B = P, Q): the first GD step at which ``K_B(t) <= K_B(0) - alpha (K_B(0) - min_s K_B(s))``
  (half-way, ``alpha = 1/2``, to the best loss of the run).
* ``t1``: end of stage 1 = first step with ``K_P(t) <= eps1`` (the learning rate is annealed from there).

>>> STAGE_ORDER.kind.value, SPECTRAL.provenance.value
('w.h.p.', 'reconstructed')
"""

from __future__ import annotations

import sympy as sp

from twostage.theory.claims import Claim, Kind, Provenance, register
from twostage.theory.gong.setting import PAPER

T_Pn, T_Qn, t1, rho, delta = sp.symbols("T_P T_Q t_1 rho delta", positive=True)
dWQ, dWP, KP, KP1 = sp.symbols("DeltaW_Q DeltaW_P K_P K_P1", nonnegative=True)
sQ, sP = sp.symbols("sigma_max_Q sigma_max_P", nonnegative=True)

_ASS = ("gong-2025/ass/data", "gong-2025/ass/model", "gong-2025/ass/schedule")

STAGE_ORDER = register(Claim(
    id="gong-2025/stage/ordering", paper=PAPER, ref="§8 item 1; §5 stage structure [ICLR25, Summary-v2]",
    provenance=Provenance.RECONSTRUCTED, kind=Kind.WHP,
    statement="P is learned before Q: T_P < T_Q (half-way loss events), for at least 90% of seeds.",
    formula=sp.StrictLessThan(T_Pn, T_Qn), assumptions=_ASS,
    symbols=(("T_P", "half-way event of the P-only loss"), ("T_Q", "half-way event of the Q-only loss")),
    tolerance="judge_binomial over seeds (all configurations pooled), P(success) >= 0.9 at alpha = 0.01",
))
Q_SUPPRESSION = register(Claim(
    id="gong-2025/stage/q-suppression", paper=PAPER, ref="§8 item 2; §6 [Rev-4]",
    provenance=Provenance.RECONSTRUCTED, kind=Kind.WHP,
    statement="Q is held back during stage 1: |W_Q(t1) - W_Q(0)|_F <= rho |W_P(t1) - W_P(0)|_F with "
              "rho = 1/2, for at least 90% of seeds.",
    formula=sp.LessThan(dWQ, rho * dWP), assumptions=_ASS,
    symbols=(("DeltaW_Q", "|W_Q(t1)-W_Q(0)|_F"), ("DeltaW_P", "|W_P(t1)-W_P(0)|_F"), ("rho", "ratio, 1/2")),
    tolerance="judge_binomial over seeds, P(success) >= 0.9 at alpha = 0.01",
))
P_PRESERVATION = register(Claim(
    id="gong-2025/stage/p-preservation", paper=PAPER,
    ref="§8 item 3; §5 [Summary-v2 'preserving prior knowledge']",
    provenance=Provenance.RECONSTRUCTED, kind=Kind.WHP,
    statement="Stage 2 preserves P: K_P(t) <= K_P(t1) + delta for all t in [t1, T] (delta = 0.02), for at "
              "least 90% of seeds.",
    formula=sp.LessThan(KP, KP1 + delta), assumptions=_ASS,
    symbols=(("K_P", "P-only loss at t >= t1"), ("K_P1", "P-only loss at t1"), ("delta", "slack, 0.02")),
    tolerance="judge_binomial over seeds, P(success) >= 0.9 at alpha = 0.01",
))
ANNEALING = register(Claim(
    id="gong-2025/stage/annealing-ablation", paper=PAPER, ref="§8 item 4 [Rev-1 asks]; exploratory",
    provenance=Provenance.RECONSTRUCTED, kind=Kind.ORDERING,
    statement="EXPLORATORY sensitivity test: with annealing from step 0 (eta2 throughout) the P event comes "
              "later than with the constant-then-annealed schedule: T_P(schedule) < T_P(annealed from 0).",
    formula=sp.StrictLessThan(sp.Symbol("T_P_sched"), sp.Symbol("T_P_anneal0")), assumptions=_ASS,
    note="Not a theorem of the paper; Rev-1's suggested ablation. Reported as exploratory.",
    tolerance="judge_ordering per configuration (median over seeds), margin relative to T_P(annealed from 0)",
))
SPECTRAL = register(Claim(
    id="gong-2025/spectral/block-order", paper=PAPER,
    ref="§5 spectral corollary [arXiv-v2, Summary-v2]; §8 item 5",
    provenance=Provenance.RECONSTRUCTED, kind=Kind.WHP,
    statement="At the end of stage 2 the largest singular value of the Q block exceeds that of the P block, "
              "and truncating the smallest singular directions of W = diag(W_P, W_Q) (keep the top 50%) "
              "raises the P-only loss more than the Q-only loss; for at least 90% of seeds.",
    formula=sp.StrictGreaterThan(sQ, sP), assumptions=_ASS,
    symbols=(("sigma_max_Q", "top singular value of W_Q"), ("sigma_max_P", "top singular value of W_P")),
    note="Which matrix and eigen- vs singular values are not retrievable (§5). In the reconstruction the P "
         "block fits separable data, so its signal grows like log t under the logistic loss, while the Q "
         "block fits non-separable data and stays bounded: the statement is expected to FAIL for long runs "
         "(derived argument).",
    tolerance="judge_binomial over seeds, P(success) >= 0.9 at alpha = 0.01",
))
