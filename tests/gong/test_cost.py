"""Cost model of the fused gong-2025 GD step (reconstructed setting): FLOPs against
``torch.utils.flop_counter.FlopCounterMode``, scaling in n, L, d, passes and dtype, and mutation tests."""

import dataclasses

import torch
from torch.utils.flop_counter import FlopCounterMode

from twostage.numerics.gong import setting as model
from twostage.numerics.gong.cost import seed_bytes, step_cost
from twostage.numerics.gong.setting import GongConfig, sample

# L, d >= 2: einsum turns a size-1 contraction into an elementwise product (FlopCounterMode skips it)
CFGS = [GongConfig(d_p=5, d_q=3, L=7, n=11), GongConfig(d_p=2, d_q=6, L=2, n=4), GongConfig(d_p=4, d_q=4)]


def _counted(fn, *args) -> int:
    with FlopCounterMode(display=False) as fc:
        fn(*args)
    return fc.get_total_flops()


def _setup(cfg, seeds=3):
    g = torch.Generator().manual_seed(0)
    p, q, y = sample(cfg, seeds, generator=g)
    return [t + 0.2 for t in model.init_params(cfg, seeds, generator=g)], p, q, y


def _explicit_step(params, p, q, y):
    """The step's four contractions per block as two-operand einsums (each one bmm, so FlopCounterMode sees
    every multiply-add); returns the scores and the gradients so the test can check they are the step's."""
    cP_fn, cQ_fn, _ = model._coefficient_fns()
    out = []
    for W, x in ((params[0], p), (params[1], q)):
        a = torch.einsum("snd,sde->sne", x[:, :, -1], W)
        out.append(torch.einsum("snle,sne->snl", x[:, :, :-1], a))
    sP, sQ = out
    fP, fQ = model._outputs(params[2], sP, sQ, y)
    F, yq, Lc = (fP + fQ)[..., None], y[:, :, -1:], sP.shape[-1]
    grads = []
    for c, x in ((cP_fn(F, yq, y[:, :, :-1], sP, sQ, Lc), p), (cQ_fn(F, yq, y[:, :, :-1], sP, sQ, Lc), q)):
        v = torch.einsum("snl,snle->sne", c, x[:, :, :-1])
        grads.append(torch.einsum("snd,sne->sde", x[:, :, -1], v) / x.shape[1])
    return (sP, sQ), grads


def _flops_agree(cost_fn, cfg, seeds=3) -> bool:
    args = _setup(cfg, seeds)
    (sP, sQ), grads = _explicit_step(*args)
    same = all(torch.allclose(a, b, rtol=1e-12, atol=1e-14) for a, b in
               [*zip((sP, sQ), model.scores(*args[:3])), *zip(grads, model.gradients(*args))])
    c = cost_fn(cfg)
    return (same and _counted(_explicit_step, *args) == seeds * c["flops"]
            and _counted(model.step_terms, *args) == seeds * c["matmul_flops"])


def _scales(cost_fn) -> bool:
    """Exact scaling laws of the model: linear in n, affine in L, quadratic in d, data bytes x passes."""
    base = GongConfig(d_p=6, d_q=4, L=8, n=10)
    c = lambda **kw: cost_fn(dataclasses.replace(base, **kw))
    c0, par = c(), 2 * (6 * 6 + 4 * 4 + 1) * 8  # parameter bytes: read W, write the gradient
    data = 10 * 9 * (6 + 4 + 1) * 8
    ok = c(n=20)["flops"] == 2 * c0["flops"] and c(n=20)["bytes"] - par == 2 * (c0["bytes"] - par)
    ok &= all(c(L=L)["flops"] - c0["flops"] == 4 * 10 * (6 + 4) * (L - 8) for L in (1, 9, 30))
    ok &= all(c(L=L)["bytes"] - c0["bytes"] == 2 * 10 * (6 + 4 + 1) * (L - 8) * 8 for L in (1, 9, 30))
    d = lambda k: c(d_p=k, d_q=k)
    ok &= all(d(k)["flops"] == 8 * 10 * k * (k + 8) for k in (1, 2, 7))
    ok &= d(3)["flops"] - 2 * d(2)["flops"] + d(1)["flops"] == 16 * 10  # second difference 2 * 8 n
    ok &= d(3)["matmul_flops"] - 2 * d(2)["matmul_flops"] + d(1)["matmul_flops"] == 16 * 10
    ok &= cost_fn(base, passes=1)["bytes"] == c0["bytes"] - data and c0["bytes"] == 2 * data + par
    ok &= cost_fn(base, dtype=torch.float32)["bytes"] * 2 == c0["bytes"]
    return bool(ok)


def test_flops_match_flop_counter():
    assert all(_flops_agree(step_cost, cfg) for cfg in CFGS)


def test_cost_scaling():
    assert _scales(step_cost)


def test_seed_bytes():
    cfg = CFGS[0]
    p, q, y = sample(cfg, 1)
    params = model.init_params(cfg, 1)
    assert seed_bytes(cfg) == sum(t.nbytes for t in (p, q, y, *params))


def test_cost_mutations_are_caught():
    def one_per_term(cfg, **kw):  # counts a multiply-add as 1 FLOP
        return {k: (v // 2 if "flops" in k else v) for k, v in step_cost(cfg, **kw).items()}

    def swapped_dims(cfg, **kw):  # scores/contractions charged d^2 and W products n L d
        c = dict(step_cost(cfg, **kw))
        c["flops"] = sum(4 * cfg.n * (d * d * 1 + cfg.L * d) for d in (cfg.d_p, cfg.d_q)) + 2 * cfg.n
        return c

    def one_pass(cfg, dtype=torch.float64, passes=2):  # ignores the second pass over the data
        return step_cost(cfg, dtype=dtype, passes=1)

    def no_labels(cfg, dtype=torch.float64, passes=2):  # forgets the labels y in the bytes
        c = dict(step_cost(cfg, dtype=dtype, passes=passes))
        c["bytes"] -= passes * cfg.n * (cfg.L + 1) * 8
        return c

    assert not _flops_agree(one_per_term, CFGS[0]) and not _scales(one_per_term)
    assert not _flops_agree(swapped_dims, CFGS[0]) and not _scales(swapped_dims)
    assert not _scales(one_pass) and not _scales(no_labels)
