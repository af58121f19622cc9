"""gong-2025 reconstructed setting: symbols, assumptions, model and SymPy-derived GD updates.

Everything here is RECONSTRUCTED (not retrievable; our best reconstruction) unless tagged otherwise:
the body of gong-2025 (arXiv 2502.20681) is not available (``docs/papers/gong_2025.md``, "What is
known and what is not"). Known pieces: P part linearly separable with margin ``gamma0`` along ``w*``
(§2.2 [Notebook]); Q part the three-cluster pattern ``+1: z``, ``-1: z +- zeta`` (§2.2, Li-Wei-Ma
2019); one *normalized ReLU self-attention* layer (§2.3 [arXiv-v2]) with block-diagonal weights
``diag(W_P, W_Q)`` (§2.3 [Summary-v2, Rev-1]); logistic loss (§2.4 [Rev-3]); constant then annealed
learning rate (§2.5 [Rev-2]).

**Reconstructed model** (one prompt = ``L`` context tokens ``x_l = [p_l; q_l]`` with labels ``y_l`` and a
query ``x = [p; q]`` with label ``y``; all labels i.i.d. uniform):

    s^P_l = p^T W_P p_l,    s^Q_l = q^T W_Q q_l                    (block-diagonal scores)
    f_P   = (1/L) sum_l y_l ReLU(s^P_l)                           (ReLU(scores)/L, label-value readout)
    f_Q   = b - (1/L) sum_l ReLU(s^Q_l)                           (ReLU(scores)/L, constant-value readout)
    f     = f_P + f_Q,        loss = log(1 + exp(-y f))

Why two readouts ("two sub-models working in parallel", Rev-4): a label-value readout can fit the
linearly separable P part but *cannot* fit the three-cluster Q part: for a query at the centre, the score
``q^T W_Q q_l`` is affine in the context token's cluster shift, ReLU is convex, so by Jensen the two outer
(-1) clusters always receive at least the attention mass of the centre (+1) cluster (DERIVED; confirmed
numerically while designing this reconstruction: Q-only accuracy stalls at 0.75). With the constant-value
readout the Q block measures the attention *mass*, which for ``W_Q ~ c u u^T`` (``u`` the zeta direction)
is large exactly for queries in the outer clusters: the Q part is learnable *only through the ReLU
nonlinearity* (its first moment ``E[y q]`` vanishes), as the issue asks. ``b`` is a scalar readout bias.

The per-step updates are derived here by SymPy (chain rule on the loss, matrix calculus for the scores)
and lambdified; ``numerics.gong.setting`` applies them and ``tests/gong/test_setting.py`` checks them
against ``torch.autograd``.

>>> coeff = pair_coefficients()
>>> sorted(coeff)
['P', 'Q', 'b']
>>> score_gradient_is_outer_product()
True
"""

from __future__ import annotations

from functools import lru_cache

import sympy as sp

from twostage.theory.claims import Assumption, Claim, Kind, Provenance, register, register_assumption

PAPER = "gong-2025"

# symbols (names match theory.latex NOTATION["gong-2025"])
gamma0, zeta, sigma, sigma0, eta1, eta2, d, L = sp.symbols("gamma0 zeta sigma sigma0 eta1 eta2 d L",
                                                           positive=True)
y, yl, F, sP, sQ, b = sp.symbols("y y_l F s_P s_Q b", real=True)

A_DATA = register_assumption(Assumption(
    id="gong-2025/ass/data", paper=PAPER, ref="§2.2 [Notebook] + reconstruction",
    statement="p = gamma0 y w* + sigma z, z ~ N(0,I) conditioned on y<w*,z> >= 0, |w*| = 1; q = sigma z' + "
              "(y=-1) * (+-zeta) * 1 (each sign w.p. 1/2); labels uniform on {-1,+1}",
    provenance=Provenance.RECONSTRUCTED,
    predicate=sp.And(gamma0 > 0, zeta > 0, sigma > 0)))
A_MODEL = register_assumption(Assumption(
    id="gong-2025/ass/model", paper=PAPER, ref="§2.3 [arXiv-v2, Summary-v2, Rev-4] + reconstruction",
    statement="one normalized ReLU self-attention layer, W = diag(W_P, W_Q), ReLU(scores)/L, P block read "
              "out through the context labels, Q block through the attention mass, scalar bias b; "
              "logistic loss",
    provenance=Provenance.RECONSTRUCTED))
A_SCHEDULE = register_assumption(Assumption(
    id="gong-2025/ass/schedule", paper=PAPER, ref="§2.5 [Rev-1, Rev-2] + reconstruction",
    statement="full-batch GD from W ~ sigma0 N(0,1) entries; eta = eta1 for the constant-rate phase, then "
              "eta = eta2 = anneal * eta1 from t1 on; t1 is a fixed step T1 (switch trigger='step', the "
              "stage claims' default variant) or the first step with P-loss <= eps1 (trigger='p-loss')",
    provenance=Provenance.RECONSTRUCTED,
    predicate=sp.And(eta1 > 0, eta2 > 0, eta2 <= eta1, sigma0 > 0)))


def relu(x: sp.Expr) -> sp.Expr:
    return sp.Max(0, x)


def logistic(v: sp.Expr) -> sp.Expr:
    """Logistic loss ``log(1 + exp(-v))`` (§2.4: implied by Rev-3's log 2 argument)."""
    return sp.log(1 + sp.exp(-v))


def model_output(n_ctx: int = 3) -> tuple[sp.Expr, tuple[sp.Symbol, ...], tuple[sp.Symbol, ...],
                                          tuple[sp.Symbol, ...]]:
    """``f`` for ``n_ctx`` concrete context tokens (scores and labels as symbols); L stays symbolic."""
    sps = sp.symbols(f"sP1:{n_ctx + 1}", real=True)
    sqs = sp.symbols(f"sQ1:{n_ctx + 1}", real=True)
    ys = sp.symbols(f"y1:{n_ctx + 1}", real=True)
    f = sum(yy * relu(a) for yy, a in zip(ys, sps)) / L + b - sum(relu(a) for a in sqs) / L
    return f, sps, sqs, ys


@lru_cache(maxsize=1)
def pair_coefficients() -> dict[str, sp.Expr]:
    """d loss / d s^P_l, d loss / d s^Q_l and d loss / d b, derived by SymPy.

    The derivative is taken on the concrete 3-token model, then the *generic* coefficient is read off the
    first token by renaming (its own score -> ``s_P``/``s_Q``, its label -> ``y_l``) and replacing the
    model output by the symbol ``F`` through the chain rule ``dl/ds = l'(F) dF/ds``. ReLU'(0) := 0 (torch).
    """
    f, sps, sqs, ys = model_output()
    dl_dF = sp.diff(logistic(y * F), F)
    heav0 = lambda e: e.replace(sp.Heaviside, lambda a, *r: sp.Heaviside(a, 0))  # noqa: E731
    cP = heav0(dl_dF * sp.diff(f, sps[0])).subs({sps[0]: sP, ys[0]: yl})
    cQ = heav0(dl_dF * sp.diff(f, sqs[0])).subs({sqs[0]: sQ})
    cb = dl_dF * sp.diff(f, b)
    return {"P": cP, "Q": cQ, "b": cb}


def score_gradient_is_outer_product(n: int = 3) -> bool:
    """Matrix calculus: d(x^T W z)/dW = x z^T, proved entrywise by SymPy for an n x n W."""
    x = sp.Matrix(sp.symbols(f"x1:{n + 1}"))
    z = sp.Matrix(sp.symbols(f"z1:{n + 1}"))
    W = sp.Matrix(n, n, lambda i, j: sp.Symbol(f"w{i}{j}"))
    s = (x.T * W * z)[0, 0]
    grad = sp.Matrix(n, n, lambda i, j: sp.diff(s, W[i, j]))
    return sp.simplify(grad - x * z.T) == sp.zeros(n, n)


def update_rules() -> dict[str, sp.Expr]:
    """Per-step GD updates (as printed by ``twostage latex``), assembled from the SymPy coefficients.

    ``W_B <- W_B - eta * mean_prompts sum_l c_B(l) * x_B x_{B,l}^T`` with ``c_B`` from
    :func:`pair_coefficients`; ``b <- b - eta * mean c_b``.
    """
    return pair_coefficients()


UPDATE_CLAIM = register(Claim(
    id="gong-2025/setting/gd-updates", paper=PAPER,
    ref="§4 (not retrievable); derived for the reconstruction",
    provenance=Provenance.DERIVED, kind=Kind.IDENTITY,
    statement="The SymPy-derived per-step GD updates of the P and Q blocks (dl/ds^B_l times x_B x_{B,l}^T, "
              "averaged over prompts) equal torch.autograd's gradient of the reconstructed model's empirical "
              "logistic loss.",
    formula=sp.Eq(sp.Symbol("c_P"), pair_coefficients()["P"]),
    assumptions=("gong-2025/ass/model",),
    symbols=(("F", "model output f"), ("y", "query label"), ("y_l", "context label"),
             ("s_P", "P-block score"), ("L", "prompt length (number of context tokens)")),
    tolerance="relative residual < 1e-10 in float64 on random instances of the P-block update assembled "
              "from the formula's c_P (evaluated at the measured F, y, y_l, s_P, L) against autograd, and of "
              "the whole lambdified step (g_P, g_Q, g_b); SymPy proof of d(x^T W z)/dW = x z^T",
))


# --------------------------------------------------------------------------- Bayes accuracies of the parts
m_q, tau = sp.symbols("m tau", positive=True)


def _Phi(x: sp.Expr) -> sp.Expr:
    return (1 + sp.erf(x / sp.sqrt(2))) / 2


def bayes_threshold_q() -> sp.Expr:
    """Bayes threshold on ``|a|`` for the Q part, ``a = <u, q>/sigma`` (DERIVED for §2.2's three clusters).

    Along the shift direction ``u = 1/sqrt(d_q)`` the Q part is ``a ~ N(0, 1)`` for ``y = +1`` and
    ``a ~ N(+-m, 1)`` (each w.p. 1/2) for ``y = -1``, ``m = zeta sqrt(d_q) / sigma``; the other directions
    carry no label information (and ``q_scale`` cancels). The likelihood ratio ``cosh(m a) exp(-m^2/2)`` is
    increasing in ``|a|``, so with balanced labels the Bayes rule is ``|a| > tau`` with
    ``cosh(m tau) = exp(m^2/2)``.
    """
    return sp.acosh(sp.exp(m_q**2 / 2)) / m_q


def bayes_accuracy_q_expr() -> sp.Expr:
    """Bayes accuracy of the Q part: ``(1/2) P(|g| < tau) + (1/2) P(|g + m| > tau)``, ``g ~ N(0, 1)``."""
    t = bayes_threshold_q()
    return ((2 * _Phi(t) - 1) + (_Phi(m_q - t) + _Phi(-m_q - t))) / 2


def bayes_accuracy_q(zeta_v: float, d_q: int, sigma_v: float, digits: int = 30) -> float:
    """:func:`bayes_accuracy_q_expr` at ``m = zeta sqrt(d_q) / sigma``, evaluated by mpmath."""
    m = sp.Float(zeta_v, digits) * sp.sqrt(d_q) / sp.Float(sigma_v, digits)
    return float(bayes_accuracy_q_expr().subs(m_q, m).evalf(digits))


def bayes_accuracy_p(gamma0_v: float, sigma_v: float, p_part: str = "separable", digits: int = 30) -> float:
    """Bayes accuracy of the P part: 1 for the separable part of §2.2 (``y <w*, p> >= gamma0 > 0``), and
    ``Phi(gamma0/sigma)`` for the unconditioned ('gaussian') variant (two unit-variance clusters at
    ``+-gamma0`` along ``w*``), evaluated by mpmath."""
    if p_part == "separable":
        return 1.0
    return float(_Phi(sp.Float(gamma0_v, digits) / sp.Float(sigma_v, digits)).evalf(digits))
