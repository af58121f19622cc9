"""gong-2025 (reconstructed) fused GD step and cache-blocked training: the fused step reproduces the
pre-fusion path (three score evaluations, einsum contractions), chunking over seeds does not change results,
and each check fails on a sabotaged input."""

import math

import numpy as np
import pytest
import torch

from twostage.numerics.gong import setting as model
from twostage.numerics.gong import stages as gtrain
from twostage.numerics.gong.cost import seed_bytes
from twostage.numerics.gong.setting import GongConfig, sample

CFGS = [GongConfig(d_p=5, d_q=3, L=7, n=11, sigma0=0.3, steps=80),
        GongConfig(d_p=4, d_q=6, L=5, n=9, sigma0=0.5, eta1=0.5, steps=60),
        GongConfig(d_p=8, d_q=8, L=12, n=24, eta1=0.5, steps=50)]
TOL = 1e-13


# --- reference: the pre-fusion model code (scores recomputed by losses, outputs and gradients) -------------
def _old_scores(params, p, q):
    WP, WQ, _ = params
    return (torch.einsum("snd,sde,snle->snl", p[:, :, -1], WP, p[:, :, :-1]),
            torch.einsum("snd,sde,snle->snl", q[:, :, -1], WQ, q[:, :, :-1]))


def _old_outputs(params, p, q, y):
    sP, sQ = _old_scores(params, p, q)
    L = sP.shape[-1]
    return (torch.relu(sP) * y[:, :, :-1]).sum(-1) / L, params[2][:, None] - torch.relu(sQ).sum(-1) / L


def _old_losses(params, p, q, y, coupling="shared"):
    fP, fQ = _old_outputs(params, p, q, y)
    yq, lg = y[:, :, -1], model.logistic
    acc = lambda m: (m > 0).to(fP.dtype).mean(1)
    return {"K": lg(yq * (fP + fQ)).mean(1), "K_P": lg(yq * fP).mean(1), "K_Q": lg(yq * fQ).mean(1),
            "acc": acc(yq * (fP + fQ)), "acc_P": acc(yq * fP), "acc_Q": acc(yq * fQ)}


def _old_gradients(params, p, q, y):
    cP_fn, cQ_fn, cb_fn = model._coefficient_fns()
    sP, sQ = _old_scores(params, p, q)
    fP, fQ = _old_outputs(params, p, q, y)
    F, yq, Lc, n = (fP + fQ)[..., None], y[:, :, -1:], sP.shape[-1], p.shape[1]
    cP = cP_fn(F, yq, y[:, :, :-1], sP, sQ, Lc)
    cQ = cQ_fn(F, yq, y[:, :, :-1], sP, sQ, Lc)
    cb = cb_fn(F[..., 0], yq[..., 0], None, None, None, Lc)
    return (torch.einsum("snl,snd,snle->sde", cP, p[:, :, -1], p[:, :, :-1]) / n,
            torch.einsum("snl,snd,snle->sde", cQ, q[:, :, -1], q[:, :, :-1]) / n, cb.mean(1))


def _old_step(params, p, q, y, coupling="shared"):
    return _old_losses(params, p, q, y), _old_gradients(params, p, q, y)


def _rel(a, b) -> float:
    return float((a - b).abs().max() / max(1.0, float(b.abs().max())))


def _step_diff(step_fn, cfg, seeds=3, seed=0) -> float:
    """Largest relative difference of ``step_fn`` from the pre-fusion losses and gradients."""
    g = torch.Generator().manual_seed(seed)
    p, q, y = sample(cfg, seeds, generator=g)
    params = [t + 0.2 * torch.randn(t.shape, generator=g, dtype=t.dtype)
              for t in model.init_params(cfg, seeds)]
    (ls, gr), (ls0, gr0) = step_fn(params, p, q, y), _old_step(params, p, q, y)
    return max([_rel(ls[k], ls0[k]) for k in ls0] + [_rel(a, b) for a, b in zip(gr, gr0)])


def _train_diff(a: dict, b: dict) -> float:
    """Largest relative difference of two :func:`train` results (``inf`` if shapes, keys or t1 differ)."""
    if set(a) != set(b) or not np.array_equal(a["t1"], b["t1"], equal_nan=True):
        return math.inf
    err = 0.0
    for k in a:
        if k in ("params", "params0"):
            err = max([err] + [_rel(x, z) for x, z in zip(a[k], b[k])])
        elif k != "t1":
            if a[k].shape != b[k].shape:
                return math.inf
            err = max(err, float(np.max(np.abs(a[k] - b[k]) / np.maximum(1.0, np.abs(b[k])))))
    return err


@pytest.mark.parametrize("cfg", CFGS)
def test_fused_step_matches_pre_fusion_path(cfg):
    assert _step_diff(model.step_terms, cfg) < TOL
    g = torch.Generator().manual_seed(1)
    p, q, y = sample(cfg, 2, generator=g)
    params = model.init_params(cfg, 2, generator=g)
    ls, gr = model.step_terms(params, p, q, y)
    assert all(torch.equal(ls[k], v) for k, v in model.losses(params, p, q, y).items())
    assert all(torch.equal(a, b) for a, b in zip(gr, model.gradients(params, p, q, y)))


def test_fused_step_mutations_are_caught():
    cfg = CFGS[0]

    def no_mean(params, p, q, y):  # forgets the 1/n of the P gradient
        ls, (gP, gQ, gb) = model.step_terms(params, p, q, y)
        return ls, (gP * p.shape[1], gQ, gb)

    def stale_loss(params, p, q, y):  # losses from the pre-step scores of another parameter set
        ls, gr = model.step_terms([params[0], 1.01 * params[1], params[2]], p, q, y)
        return ls, model.step_terms(params, p, q, y)[1]

    def tiny(params, p, q, y):  # a 1e-11 relative perturbation of the bias gradient
        ls, (gP, gQ, gb) = model.step_terms(params, p, q, y)
        return ls, (gP, gQ, gb * (1 + 1e-11))

    for bad in (no_mean, stale_loss, tiny):
        assert _step_diff(bad, cfg) > TOL


def _patched_train(monkeypatch, step_fn, loss_fn, cfg, seeds, **kw):
    with monkeypatch.context() as m:
        m.setattr(gtrain, "step_terms", step_fn)
        m.setattr(gtrain, "losses", loss_fn)
        return gtrain.train(cfg, seeds, **kw)


@pytest.mark.parametrize("schedule", gtrain.SCHEDULES)
def test_train_matches_pre_fusion_step(monkeypatch, schedule):
    for cfg in CFGS[:2]:
        kw = dict(seed=2, schedule=schedule, record_every=7)
        new = gtrain.train(cfg, 4, **kw)
        old = _patched_train(monkeypatch, _old_step, _old_losses, cfg, 4, **kw)
        assert _train_diff(new, old) < TOL
    # the two-stage schedule switches inside the run for some seeds (so t1 is compared, not only nan)
    assert np.isfinite(gtrain.train(CFGS[0], 4, seed=2)["t1"]).any()


def test_train_comparison_catches_a_perturbed_step(monkeypatch):
    def perturbed(params, p, q, y, coupling="shared"):
        ls, (gP, gQ, gb) = _old_step(params, p, q, y)
        return ls, (gP, gQ * (1 + 1e-9), gb)

    kw = dict(seed=2, record_every=7)
    old = _patched_train(monkeypatch, perturbed, _old_losses, CFGS[0], 4, **kw)
    assert _train_diff(gtrain.train(CFGS[0], 4, **kw), old) > TOL


@pytest.mark.parametrize("cfg", CFGS[:2])
def test_chunking_does_not_change_results(cfg):
    S = 5
    ref = gtrain.train(cfg, S, seed=2, record_every=9, chunk=S)
    assert np.isfinite(ref["t1"]).any() and np.isnan(ref["t1"]).any()  # seeds on both sides of the switch
    for c in (1, 2, 3, 4, 7):
        assert _train_diff(gtrain.train(cfg, S, seed=2, record_every=9, chunk=c), ref) < TOL
    assert _train_diff(gtrain.train(cfg, S, seed=2, record_every=9), ref) < TOL  # default chunk


def test_chunk_comparison_catches_per_chunk_sampling_and_misaligned_seeds():
    cfg, S = CFGS[0], 4
    ref = gtrain.train(cfg, S, seed=2, record_every=9, chunk=S)
    # bug 1: each chunk draws its own data and initialisation (a fresh generator per chunk)
    parts = [gtrain.train(cfg, 2, seed=2, record_every=9) for _ in range(2)]
    glued = {k: np.concatenate([pt[k] for pt in parts], axis=1) for k in ref if k not in gtrain._NOT_SEEDWISE}
    glued.update(t=ref["t"], t1=np.concatenate([pt["t1"] for pt in parts]),
                 params=[torch.cat(ts) for ts in zip(*(pt["params"] for pt in parts))],
                 params0=[torch.cat(ts) for ts in zip(*(pt["params0"] for pt in parts))])
    assert _train_diff(glued, ref) > TOL
    # bug 2: chunk results put back in the wrong seed order
    swapped = {k: (v[:, ::-1] if k not in gtrain._NOT_SEEDWISE else v) for k, v in ref.items()}
    assert _train_diff(swapped, ref) > TOL


def test_default_chunk_respects_the_byte_budget(monkeypatch):
    cfg = GongConfig()
    c = gtrain.default_chunk(cfg, 256)
    assert 1 <= c <= 256 and c * seed_bytes(cfg) <= gtrain.CHUNK_BYTES < (c + 1) * seed_bytes(cfg)
    assert gtrain.default_chunk(cfg, 3) == 3  # never more than the seeds
    assert gtrain.default_chunk(cfg, 256, device="cuda") == 256  # one wide batch on CUDA
    assert gtrain.default_chunk(cfg, 256, dtype=torch.float32) >= 2 * c  # half the bytes per seed
    monkeypatch.setattr(gtrain, "CHUNK_BYTES", 1)
    assert gtrain.default_chunk(cfg, 256) == 1  # at least one seed
    with pytest.raises(ValueError):
        gtrain.train(CFGS[0], 2, chunk=0)
