"""gong-2025 reconstructed setting (topic ``setting``): the SymPy-derived GD updates match autograd, and the
checker of ``setting/gd-updates`` fails on a sabotaged gradient (the judge receives the sabotaged data;
nothing is monkeypatched)."""

import torch

from twostage.numerics.gong.setting import GongConfig, autograd_gradients, gradients, init_params, sample
from twostage.theory.claims import load_all
from twostage.theory.gong.setting import score_gradient_is_outer_product
from twostage.verify.check import Context
from twostage.verify.checks.gong import setting as gs
from twostage.verify.profiles import get_profile
from twostage.verify.verdict import Status

CTX = Context(get_profile("ci"))
CLAIM = load_all().get("gong-2025/setting/gd-updates")


def test_sympy_updates_match_autograd_float64():
    cfg = GongConfig(d_p=5, d_q=3, L=7, n=11, sigma0=0.5)
    g = torch.Generator().manual_seed(3)
    p, q, y = sample(cfg, 4, generator=g)
    params = init_params(cfg, 4, generator=g)
    for a, b in zip(gradients(params, p, q, y), autograd_gradients(params, p, q, y)):
        assert torch.allclose(a, b, rtol=1e-12, atol=1e-14)
    assert score_gradient_is_outer_product()
    m = gs.gd_updates(CLAIM, cfg, gs.update_pair(cfg, CTX))
    assert m.status is Status.HOLDS and m.worst["residual"] < 1e-13


def test_updates_mutation_wrong_sign_is_violated():
    cfg = GongConfig(d_p=3, d_q=3, L=4, n=6, sigma0=1.0)
    data = gs.update_pair(cfg, CTX)
    gP, gQ, gb = data["sympy"]
    bad = dict(data, sympy=(gP, -gQ, gb))  # sabotage: the Q-block update with the wrong sign
    assert gs.gd_updates(CLAIM, cfg, bad).status is Status.VIOLATED
    tiny = dict(data, sympy=(gP, gQ, gb * (1 + 1e-8)))  # a relative error above the 1e-10 tolerance
    assert gs.gd_updates(CLAIM, cfg, tiny).status is Status.VIOLATED
