"""gong-2025 real-data experiments (§7.2, §7.4, §8 items 7-8): assumptions and the type/exact gap claim.

The paper's real-data evidence for two stages is qualitative: the authors read GPT-2's CounterFact
predictions by eye -- early answers of the wrong kind ("the"), then of the right kind (some language),
finally right ("French"); Rev-3 places the transition at T = 5 epochs, where "all predictions meet syntactic
requirements", while the epoch-5 checkpoint gets about 36.5k of 65.8k pairs right (55 %, its full-rank
count in the official rank-reduction notebook) (``docs/papers/gong_2025.md`` §7.2 "How the stages are
identified", §7.4 plotted values, §8 item 7). How "syntactically
correct" was judged is not retrievable (Appendix B item 12). The companion makes it measurable
(RECONSTRUCTED, §8 item 7): every relation has a typed answer vocabulary, *type accuracy* is the share of
top-1 predictions inside the pair's vocabulary and *exact accuracy* the share equal to the answer.

A right answer is always of the right type, so type accuracy is never below exact accuracy and "type
accuracy reaches a threshold no later than exact accuracy" holds by construction. The claim is therefore a
**gap**: there is an epoch at which the model is mostly of the right type (type accuracy >= 9/10) while
still mostly wrong (exact accuracy <= 1/2), for most seeds (a seed is a Bernoulli trial; probability >= 1/2,
judged by the binomial test). It fails when type and exact accuracy rise together (the right type learned
only with the facts). It replaces ``gong-2025/realdata/syntax-before-semantics`` (``T_type < T_exact``,
removed: it could not fail; its stored verdicts are not comparable, hence the new id).

Pretrained GPT-2 and CounterFact are not available here, so the checked setting is a GPT-2-architecture
model trained **from scratch** on a generated CounterFact-format fact set (``numerics.gong.factset``): the
claim is about that setting, not about the paper's fine-tuning run.

>>> TYPE_GAP.kind.value, TYPE_GAP.provenance.value
('w.h.p.', 'reconstructed')
>>> gap_constants(TYPE_GAP.formula)
(0.9, 0.5, 0.5)
"""

from __future__ import annotations

import sympy as sp

from twostage.errors import UnsupportedExpression
from twostage.theory.claims import Assumption, Claim, Kind, Provenance, register, register_assumption
from twostage.theory.gong.setting import PAPER

A_type, A_exact, p_gap = sp.symbols("A_type A_exact p_gap", nonnegative=True)
THETA_TYPE, THETA_EXACT, P_GAP = sp.Rational(9, 10), sp.Rational(1, 2), sp.Rational(1, 2)

A_FACTSET = register_assumption(Assumption(
    id="gong-2025/ass/factset", paper=PAPER, ref="§7.2 [Code] data format; §8 item 7",
    statement="CounterFact-format records (prompt with {} for the subject, subject, relation, true target, 2 "
              "paraphrases) -> 3 (question, answer) pairs each, single-token answers; generated fact set: "
              "answers drawn uniformly from a typed vocabulary per relation; last-token cross-entropy, AdamW "
              "(weight decay 0.01), batch 32, left padding",
    provenance=Provenance.RECONSTRUCTED))
A_GPT2 = register_assumption(Assumption(
    id="gong-2025/ass/gpt2-architecture", paper=PAPER, ref="§7.2 [Code] (GPT-2 small)",
    statement="GPT-2 architecture (pre-LayerNorm decoder, fused c_attn, tanh-GELU MLP, tied LM head); the "
              "paper uses the pretrained 12-layer, d = 768 checkpoint, the checked setting a small one from "
              "scratch",
    provenance=Provenance.RECONSTRUCTED))
A_RANK = register_assumption(Assumption(
    id="gong-2025/ass/rank-reduction", paper=PAPER, ref="§7.4 [Code]",
    statement="attn.c_attn and attn.c_proj of blocks 1-6 replaced by rank-k approximations, "
              "k = floor(min(m, n)(10 - r)/10), r in 0..9; exact SVD (the code uses svd_lowrank)",
    provenance=Provenance.PAPER))

TYPE_GAP = register(Claim(
    id="gong-2025/realdata/type-exact-gap", paper=PAPER,
    ref="§7.2 'How the stages are identified' [Code, Rev-3, Rev-4]; §8 item 7",
    provenance=Provenance.RECONSTRUCTED, kind=Kind.WHP,
    statement="Trained from scratch on the generated CounterFact-format fact set, the model passes through a "
              "stage in which its answers are of the right type but mostly wrong: for most seeds there is an "
              "epoch with type accuracy $A_{type} \\geq 9/10$ and exact accuracy $A_{exact} \\leq 1/2$ "
              "(accuracies on all pairs after the epoch); $p_{gap}$, the probability over seeds that such "
              "an epoch exists, is at least 1/2.",
    formula=sp.And(sp.GreaterThan(A_type, THETA_TYPE), sp.LessThan(A_exact, THETA_EXACT),
                   sp.GreaterThan(p_gap, P_GAP)),
    assumptions=("gong-2025/ass/factset", "gong-2025/ass/gpt2-architecture"),
    symbols=(("A_type", "type accuracy at the epoch (top-1 answer of the pair's relation)"),
             ("A_exact", "exact accuracy at the same epoch (top-1 answer right)"),
             ("p_gap", "probability over seeds that such an epoch exists")),
    note="Replaces gong-2025/realdata/syntax-before-semantics (T_type < T_exact), which held by "
         "construction (a right answer is of the right type) and is removed; the new id keeps its stored "
         "verdicts apart. The paper fine-tunes pretrained GPT-2 small on CounterFact and judges "
         "'syntactically right' by eye (its epoch-5 checkpoint gets about 55 % of the pairs right, §7.4); "
         "the typed vocabularies, the thresholds and the from-scratch setting are the companion's. Runs stop "
         "once every seed has exact accuracy >= 0.9 (at most 60 epochs), so the facts are learned after the "
         "gap. The accuracies come from an evaluation pass after each epoch, not from the official online "
         "count (numerics.gong.realdata.TrainConfig.accuracy).",
    tolerance="judge_binomial (Clopper-Pearson, alpha 0.01) of the seeds with a gap epoch against p_gap, "
              "pooled over the drawn fact sets and widths; thresholds read from the formula",
))


def gap_constants(formula: sp.Basic) -> tuple[float, float, float]:
    """``(theta_type, theta_exact, p)`` of a gap formula ``A_type >= theta_type & A_exact <= theta_exact &
    p_gap >= p`` (any order of the conjuncts): what the checker judges, read from the claim itself.

    >>> gap_constants(sp.And(A_exact <= sp.Rational(3, 10), p_gap >= 1, A_type >= sp.Rational(4, 5)))
    (0.8, 0.3, 1.0)
    """
    want = {A_type: sp.GreaterThan, A_exact: sp.LessThan, p_gap: sp.GreaterThan}
    found: dict[sp.Symbol, float] = {}
    for rel in (formula.args if isinstance(formula, sp.And) else (formula,)):
        sym = rel.lhs if isinstance(rel, sp.core.relational.Relational) else None
        if sym not in want or not isinstance(rel, want[sym]) or not rel.rhs.is_number:
            raise UnsupportedExpression(f"not a gap conjunct: {rel} (expected A_type >= c, A_exact <= c, "
                                        f"p_gap >= c)")
        found[sym] = float(rel.rhs)
    if set(found) != set(want):
        raise ValueError(f"a gap formula needs A_type, A_exact and p_gap; got {formula}")
    return found[A_type], found[A_exact], found[p_gap]
