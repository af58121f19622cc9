"""gong-2025 real-data experiments (§7.2, §7.4, §8 items 7-8): assumptions, syntax-before-semantics claim.

The paper's real-data evidence for two stages is qualitative: the authors read GPT-2's CounterFact
predictions by eye -- early answers of the wrong kind ("the"), then of the right kind (some language),
finally right ("French"); Rev-3 places the transition at T = 5 epochs (``docs/papers/gong_2025.md`` §7.2,
"How the stages are identified"). How "syntactically correct" was judged is not retrievable (Appendix B
item 12). The companion makes it measurable (RECONSTRUCTED, §8 item 7): every relation has a typed answer
vocabulary, *type accuracy* is the share of top-1 predictions inside the pair's vocabulary and *exact
accuracy* the share equal to the answer; ``T_type`` / ``T_exact`` are the first epochs at which they reach a
threshold (0.9).

Pretrained GPT-2 and CounterFact are not available here, so the checked setting is a GPT-2-architecture
model trained **from scratch** on a generated CounterFact-format fact set (``numerics.gong.factset``): the
claim is about that setting, not about the paper's fine-tuning run.

>>> SYNTAX_FIRST.kind.value, SYNTAX_FIRST.provenance.value
('ordering', 'reconstructed')
>>> str(SYNTAX_FIRST.formula)
'T_type < T_exact'
"""

from __future__ import annotations

import sympy as sp

from twostage.theory.claims import Assumption, Claim, Kind, Provenance, register, register_assumption
from twostage.theory.gong.setting import PAPER

T_type, T_exact, theta = sp.symbols("T_type T_exact theta", positive=True)

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

SYNTAX_FIRST = register(Claim(
    id="gong-2025/realdata/syntax-before-semantics", paper=PAPER,
    ref="§7.2 'How the stages are identified' [Code, Rev-3, Rev-4]; §8 item 7",
    provenance=Provenance.RECONSTRUCTED, kind=Kind.ORDERING,
    statement="Trained from scratch on the generated CounterFact-format fact set, the model first predicts "
              "answers of the right type, then the right answers: $T_{type} < T_{exact}$, where $T_{type}$ "
              "($T_{exact}$) is the first epoch at which type (exact) accuracy reaches $\\theta = 0.9$; for "
              "every seed.",
    formula=sp.StrictLessThan(T_type, T_exact),
    assumptions=("gong-2025/ass/factset", "gong-2025/ass/gpt2-architecture"),
    symbols=(("T_type", "first epoch with type accuracy >= theta"),
             ("T_exact", "first epoch with exact accuracy >= theta"), ("theta", "accuracy threshold, 0.9")),
    note="The paper fine-tunes pretrained GPT-2 small on CounterFact and judges 'syntactically right' by "
         "eye; the typed vocabularies, the threshold and the from-scratch setting are the companion's.",
    tolerance="judge_ordering per seed (margin (T_exact - T_type)/T_exact, tolerance 0 epochs); a seed "
              "that never reaches the exact threshold is undecided; combined over seeds and configurations",
))
