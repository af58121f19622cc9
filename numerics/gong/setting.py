"""gong-2025 reconstructed setting, numerically: configuration, batched data sampler, model and its
SymPy-derived GD step (the symbolic side is :mod:`twostage.theory.gong.setting`).

**Data** (RECONSTRUCTED from the official notebook's toy sampler, ``docs/papers/gong_2025.md`` §2.2).

Configuration and batched sampler: tensors have a leading seed dimension ``S`` (one independent data set per
seed). A prompt has ``L`` context tokens and one query (index ``-1`` on the token axis).

* P part (dim ``d_p``): ``p = gamma0 y w* + sigma z``, ``z ~ N(0, I)`` conditioned on ``y <w*, z> >= 0``
  (sampled exactly by reflecting the ``w*`` coordinate), ``w* = e_1``.
* Q part (dim ``d_q``): ``q = sigma z'`` for ``y = +1``; ``q = sigma z' +- zeta 1`` for ``y = -1``
  (sign uniform), i.e. the scalar ``zeta`` added to / subtracted from every coordinate as in the notebook.

>>> cfg = GongConfig(d_p=4, d_q=4, L=5, n=3)
>>> p, q, y = sample(cfg, seeds=2, generator=torch.Generator().manual_seed(0))
>>> tuple(p.shape), tuple(q.shape), tuple(y.shape)
((2, 3, 6, 4), (2, 3, 6, 4), (2, 3, 6))
>>> bool(((y[..., None] * p)[..., 0] >= cfg.gamma0).all())
True

**Model** (:mod:`twostage.theory.gong.setting`) and its SymPy-derived GD step.

Batched over seeds: ``W_P (S, d_p, d_p)``, ``W_Q (S, d_q, d_q)``, ``b (S,)``.

The training hot path is :func:`step_terms`: one *fused* GD step that computes the scores ``s^P, s^Q`` once
and derives the outputs, the loss dict of :func:`losses` and the gradient (from the lambdified SymPy
coefficients of :func:`twostage.theory.gong.setting.pair_coefficients`) from them. It makes two passes over
the token data (scores, then the gradient contraction; see :mod:`twostage.numerics.gong.cost`). The score
contraction ``s_l = (x_q^T W) x_l`` and the gradient ``(1/n) sum x_q (sum_l c_l x_l)^T`` are each one small
``bmm`` with ``W`` and one broadcast multiply-reduce over the context tokens.

>>> import torch
>>> cfg = GongConfig(d_p=3, d_q=3, L=4, n=5)
>>> g = torch.Generator().manual_seed(1)
>>> p, q, y = sample(cfg, 2, generator=g)
>>> params = init_params(cfg, 2, generator=g)
>>> ga, gb = gradients(params, p, q, y), autograd_gradients(params, p, q, y)
>>> all(torch.allclose(a, b, atol=1e-12) for a, b in zip(ga, gb))
True
>>> ls, _ = step_terms(params, p, q, y)
>>> all(torch.equal(ls[k], v) for k, v in losses(params, p, q, y).items())
True
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import sympy as sp
import torch

from twostage.numerics.config import require
from twostage.theory.gong import setting as th

COUPLINGS = ("shared", "parallel")
P_PARTS = ("separable", "gaussian")
TRIGGERS = ("p-loss", "step")
INITS = ("gaussian", "identity")

#: The reconstruction switches and the source that motivates each value (``gong_2025.md``); every one is
#: RECONSTRUCTED (not retrievable; our best reconstruction).
VARIANTS = {
    "coupling": {"shared": "§2.2/§2.4: one shared label, logistic loss on f = f_P + f_Q (Rev-1's reading)",
                 "parallel": "§2.3 [Rev-4] 'two sub-models working in parallel', each with its own loss; "
                             "K^1 of the quoted stage-1 bound (§5) is the P block's"},
    "mix": {"(1,0,0)": "§2.1 [Rev-1]: every sample carries both components",
            "mixture": "Addendum / Li-Wei-Ma 2019: some prompts carry P only or Q only (the missing part "
                       "is zero), which forces the model to learn both"},
    "p_part": {"separable": "§2.2 [Notebook]: margin gamma0 along w*",
               "gaussian": "'easy-to-fit' (§2.1 [Rev-4]) but not perfectly generalising: no conditioning"},
    "trigger": {"p-loss": "anneal once K_P <= eps1 (builds 'P learned' into the schedule)",
                "step": "§2.5 [Rev-2]: constant eta1 for T1 steps, then eta2 = anneal * eta1"},
}


@dataclass(frozen=True)
class GongConfig:
    """Reconstructed synthetic setting (all fields RECONSTRUCTED; the paper's values are not retrievable)."""

    d_p: int = 16
    d_q: int = 16
    L: int = 16  # context tokens per prompt
    n: int = 128  # training prompts per seed
    gamma0: float = 1.0
    zeta: float = 0.4
    sigma: float = 1.0
    sigma0: float = 1e-3  # initialisation scale
    eta1: float = 0.2
    anneal: float = 0.1  # eta2 = anneal * eta1
    eps1: float = 0.05  # trigger "p-loss": stage 1 ends when the P-only loss first reaches eps1
    steps: int = 600
    n_test: int = 512
    # --- reconstruction switches (each RECONSTRUCTED; sources in ``gong_2025.md``, see VARIANTS) ---
    coupling: str = "shared"  # "shared": one loss on f_P + f_Q; "parallel": K1 on f_P, K2 on f_Q
    mix: tuple[float, float, float] = (1.0, 0.0, 0.0)  # prompts carrying (both, P only, Q only)
    p_part: str = "separable"  # "separable" (margin gamma0, the notebook) or "gaussian" (no conditioning)
    trigger: str = "p-loss"  # anneal when K_P <= eps1 ("p-loss") or at the fixed step T1 ("step")
    T1: int = 300  # constant-rate steps under trigger "step"
    q_scale: float = 1.0  # the whole Q part (noise and zeta) is multiplied by q_scale (norms not retrievable)
    init: str = "gaussian"  # W_B(0) = sigma0 N(0,1) entries ("gaussian") or sigma0 I ("identity")
    antithetic: bool = False  # the second half of the prompts repeats the first with the Q part negated
    b0: float = 0.0  # initial readout bias of the Q sub-model
    train_b: bool = True  # False: b stays at b0 (a fixed readout threshold)

    def __post_init__(self) -> None:
        require(self.d_p >= 1 and self.d_q >= 1 and self.L >= 1 and self.n >= 1, "gong-2025/ass/data",
                "dimensions, prompt length and sample size must be >= 1")
        require(self.gamma0 > 0 and self.zeta > 0 and self.sigma > 0, "gong-2025/ass/data",
                f"gamma0, zeta, sigma must be > 0 (got {self.gamma0}, {self.zeta}, {self.sigma})")
        require(self.sigma0 > 0, "gong-2025/ass/schedule", "sigma0 must be > 0")
        require(self.eta1 > 0 and 0 < self.anneal <= 1, "gong-2025/ass/schedule",
                f"need eta1 > 0 and 0 < anneal <= 1 (got {self.eta1}, {self.anneal})")
        require(0 < self.eps1 < 0.6931, "gong-2025/ass/schedule", "eps1 must be in (0, log 2)")
        require(self.steps >= 1 and self.n_test >= 1, "gong-2025/ass/schedule",
                "steps and n_test must be >= 1")
        for name, allowed in (("coupling", COUPLINGS), ("p_part", P_PARTS), ("trigger", TRIGGERS),
                              ("init", INITS)):
            require(getattr(self, name) in allowed, "gong-2025/ass/model",
                    f"{name} must be one of {', '.join(allowed)} (got {getattr(self, name)!r})")
        require(len(self.mix) == 3 and min(self.mix) >= 0 and abs(sum(self.mix) - 1) < 1e-9,
                "gong-2025/ass/data", f"mix must be 3 proportions (both, P only, Q only) summing to 1 "
                f"(got {self.mix})")
        require(self.T1 >= 0, "gong-2025/ass/schedule", "T1 must be >= 0")
        require(self.q_scale > 0, "gong-2025/ass/data", "q_scale must be > 0")

    @property
    def eta2(self) -> float:
        return self.anneal * self.eta1


#: The default variant (README "gong-2025 reconstruction"): the simplest member of the family found in which
#: one run shows the two stages of the sources (P learned under the constant rate, Q after annealing while P
#: is kept): two parallel sub-models (Rev-4) on samples carrying both parts (Rev-1), a separable P part
#: (Notebook), weak Q features (``q_scale``) read out against a fixed threshold ``b0``, a fixed anneal step.
#: Bayes accuracies: P 1 (separable), Q 0.998 (``zeta sqrt(d_q)/sigma = 6``;
#: :func:`twostage.theory.gong.setting.bayes_accuracy_q`). The dataclass defaults above are the earlier
#: single-guess reconstruction (one shared loss), kept for the derived signal claims.
DEFAULT = GongConfig(d_p=8, d_q=8, L=32, n=128, n_test=256, gamma0=2.5, zeta=2.12, sigma=1.0, sigma0=1e-3,
                     eta1=0.2, anneal=0.5, steps=300, coupling="parallel", trigger="step", T1=20,
                     q_scale=0.25, b0=1.0, train_b=False)


def sample(cfg: GongConfig, seeds: int, n: int | None = None, generator: torch.Generator | None = None,
           device: torch.device | str = "cpu", dtype: torch.dtype = torch.float64, mixture: bool = True):
    """``(p, q, y)`` of shapes ``(S, n, L+1, d_p)``, ``(S, n, L+1, d_q)``, ``(S, n, L+1)``.

    With ``cfg.mix != (1, 0, 0)`` each prompt is of one kind (both / P only / Q only, drawn with the
    proportions ``cfg.mix``), and the missing part of every token of the prompt is zero; ``mixture=False``
    draws prompts that all carry both parts (the held-out sets on which each part's accuracy is measured).
    """
    n = cfg.n if n is None else n
    mixture = mixture and tuple(cfg.mix) != (1.0, 0.0, 0.0)
    shape = (seeds, n, cfg.L + 1)
    y = torch.randint(0, 2, shape, generator=generator, dtype=torch.int64).to(dtype) * 2 - 1
    z = torch.randn(*shape, cfg.d_p, generator=generator, dtype=dtype)
    z[..., 0] = y * z[..., 0].abs()  # exact draw of z | y<w*,z> >= 0 (reflection), w* = e_1
    p = cfg.sigma * z
    p[..., 0] += cfg.gamma0 * y
    side = torch.randint(0, 2, shape, generator=generator, dtype=torch.int64).to(dtype) * 2 - 1
    q = cfg.sigma * torch.randn(*shape, cfg.d_q, generator=generator, dtype=dtype)
    q += (cfg.zeta * side * (y < 0).to(dtype))[..., None]
    q = cfg.q_scale * q
    if cfg.p_part == "gaussian":  # no conditioning: the P clusters overlap (Bayes accuracy Phi(gamma0/sigma))
        p[..., 0] = cfg.gamma0 * y + cfg.sigma * torch.randn(*shape, generator=generator, dtype=dtype)
    if cfg.antithetic and n >= 2:  # q -> -q maps the Q mixture to itself: E_hat[y q] = E_hat[q] = 0 exactly
        h = n // 2
        q[:, h:2 * h] = -q[:, :h]
        y[:, h:2 * h] = y[:, :h]
        p[:, h:2 * h] = p[:, :h]
    if mixture:
        kind = torch.multinomial(torch.tensor(cfg.mix, dtype=dtype), seeds * n, replacement=True,
                                 generator=generator).reshape(seeds, n, 1, 1)
        p = p * (kind != 2).to(dtype)  # Q-only prompts carry no P part
        q = q * (kind != 1).to(dtype)  # P-only prompts carry no Q part
    return p.to(device), q.to(device), y.to(device)


def w_star(cfg: GongConfig, dtype=torch.float64, device="cpu") -> torch.Tensor:
    w = torch.zeros(cfg.d_p, dtype=dtype, device=device)
    w[0] = 1.0
    return w


def u_zeta(cfg: GongConfig, dtype=torch.float64, device="cpu") -> torch.Tensor:
    """Unit vector along the cluster shift ``zeta 1``."""
    return torch.full((cfg.d_q,), cfg.d_q ** -0.5, dtype=dtype, device=device)


def init_params(cfg, seeds: int, generator: torch.Generator | None = None, dtype=torch.float64, device="cpu"):
    """``(W_P, W_Q, b)`` at step 0: ``sigma0`` times standard normal entries, or ``sigma0 I`` under
    ``init="identity"`` (the draws are made either way, so the data stream does not depend on it)."""
    WP = cfg.sigma0 * torch.randn(seeds, cfg.d_p, cfg.d_p, generator=generator, dtype=dtype)
    WQ = cfg.sigma0 * torch.randn(seeds, cfg.d_q, cfg.d_q, generator=generator, dtype=dtype)
    if cfg.init == "identity":
        WP = cfg.sigma0 * torch.eye(cfg.d_p, dtype=dtype).expand(seeds, -1, -1).clone()
        WQ = cfg.sigma0 * torch.eye(cfg.d_q, dtype=dtype).expand(seeds, -1, -1).clone()
    return WP.to(device), WQ.to(device), torch.full((seeds,), cfg.b0, dtype=dtype, device=device)


def _block_scores(W, x):
    """``s_l = x_q^T W x_l`` for one block ``x (S, n, L+1, d)``: ``a = x_q W`` (bmm), then ``x_l . a``."""
    a = torch.bmm(x[:, :, -1], W)
    return (x[:, :, :-1] * a[:, :, None, :]).sum(-1)


def _block_gradient(c, x):
    """``(1/n) sum_prompts x_q (sum_l c_l x_l)^T`` for coefficients ``c (S, n, L)`` and a block ``x``."""
    v = (x[:, :, :-1] * c[..., None]).sum(-2)
    return torch.bmm(x[:, :, -1].transpose(1, 2), v) / x.shape[1]


def scores(params, p, q):
    """``s^P_l = p^T W_P p_l`` and ``s^Q_l = q^T W_Q q_l``, shape ``(S, n, L)`` (query = last token)."""
    WP, WQ, _ = params
    return _block_scores(WP, p), _block_scores(WQ, q)


def _outputs(b, sP, sQ, y):
    L = sP.shape[-1]
    fP = (torch.relu(sP) * y[:, :, :-1]).sum(-1) / L
    fQ = b[:, None] - torch.relu(sQ).sum(-1) / L
    return fP, fQ


def outputs(params, p, q, y):
    """``(f_P, f_Q)`` with ``f_P = (1/L) sum y_l ReLU(s^P_l)``, ``f_Q = b - (1/L) sum ReLU(s^Q_l)``."""
    return _outputs(params[2], *scores(params, p, q), y)


def logistic(v):
    return torch.nn.functional.softplus(-v)


def _losses(fP, fQ, yq, coupling="shared"):
    KP, KQ = logistic(yq * fP).mean(1), logistic(yq * fQ).mean(1)
    K = logistic(yq * (fP + fQ)).mean(1) if coupling == "shared" else KP + KQ
    return {"K": K, "K_P": KP, "K_Q": KQ, "acc": ((yq * (fP + fQ)) > 0).to(fP.dtype).mean(1),
            "acc_P": ((yq * fP) > 0).to(fP.dtype).mean(1), "acc_Q": ((yq * fQ) > 0).to(fP.dtype).mean(1)}


def losses(params, p, q, y, coupling: str = "shared"):
    """Per-seed mean losses: the training objective ``K`` (``"shared"``: the logistic loss of ``f_P + f_Q``;
    ``"parallel"``: ``K1 + K2``, the two sub-models' own losses, whose gradients fall on disjoint blocks),
    P-only ``K_P`` (f_P alone, ``K1``) and Q-only ``K_Q`` (f_Q alone, ``K2``), and accuracies."""
    return _losses(*outputs(params, p, q, y), y[:, :, -1], coupling)


def _exp(x):
    return torch.exp(torch.clamp(torch.as_tensor(x), max=700.0))  # e/(1+e) stays finite in float64


def _heaviside(x, *_):
    return (x > 0).to(x.dtype)


@lru_cache(maxsize=1)
def _coefficient_fns():
    """Lambdified SymPy coefficients ``dl/ds^P``, ``dl/ds^Q``, ``dl/db`` (theory.gong.setting)."""
    c = th.pair_coefficients()
    mods = [{"Heaviside": _heaviside, "exp": _exp}, "math"]
    args = (th.F, th.y, th.yl, th.sP, th.sQ, th.L)
    return tuple(sp.lambdify(args, c[k], modules=mods) for k in ("P", "Q", "b"))


def step_terms(params, p, q, y, coupling: str = "shared"):
    """One fused GD step (gong-2025, reconstructed): ``(losses dict, (g_P, g_Q, g_b))`` from one score pass.

    The losses equal :func:`losses` bit for bit (same score and output code); the gradient of the per-seed
    mean loss ``K`` is assembled from the lambdified SymPy coefficients ``c_P, c_Q, c_b`` evaluated at those
    scores: ``g_B = (1/n) sum_prompts sum_l c_B(l) x_B x_{B,l}^T``, ``g_b = mean c_b`` (no autograd). The
    coefficients are ``l'(y F) dF/ds``; under ``coupling="parallel"`` each block's ``F`` is its own
    sub-model's output (``f_P`` for ``W_P``, ``f_Q`` for ``W_Q`` and ``b``), the same SymPy expressions.
    """
    sP, sQ = scores(params, p, q)
    fP, fQ = _outputs(params[2], sP, sQ, y)
    yq = y[:, :, -1:]
    ls = _losses(fP, fQ, yq[..., 0], coupling)
    cP_fn, cQ_fn, cb_fn = _coefficient_fns()
    F = (fP + fQ)[..., None]
    FP, FQ = (F, F) if coupling == "shared" else (fP[..., None], fQ[..., None])
    Lc = sP.shape[-1]
    cP = cP_fn(FP, yq, y[:, :, :-1], sP, sQ, Lc)
    cQ = cQ_fn(FQ, yq, y[:, :, :-1], sP, sQ, Lc)
    cb = cb_fn(FQ[..., 0], yq[..., 0], None, None, None, Lc)
    return ls, (_block_gradient(cP, p), _block_gradient(cQ, q), cb.mean(1))


def gradients(params, p, q, y, coupling: str = "shared"):
    """Gradient of the per-seed mean loss from the SymPy-derived coefficients (no autograd; see
    :func:`step_terms`)."""
    return step_terms(params, p, q, y, coupling)[1]


def autograd_gradients(params, p, q, y, coupling: str = "shared"):
    """Reference gradient by ``torch.autograd`` (sum over seeds of per-seed mean losses)."""
    leaves = [t.detach().clone().requires_grad_(True) for t in params]
    K = losses(leaves, p, q, y, coupling)["K"].sum()
    return torch.autograd.grad(K, leaves)
