"""gong-2025 training: full-batch GD with the SymPy-derived updates, batched over seeds, with trajectories.

Schedules (RECONSTRUCTED, §2.5): ``"two-stage"`` (``eta1`` until ``t1``, then ``eta2 = anneal * eta1``; ``t1``
is the fixed step ``cfg.T1`` under ``cfg.trigger == "step"``, or, under ``"p-loss"``, the first step at which
the P-only loss reaches ``eps1``, per seed), ``"anneal0"`` (``eta2`` from step 0) and ``"constant"``
(``eta1`` throughout). The coupling (one shared loss or two parallel sub-models) is ``cfg.coupling``; the
held-out P-part and Q-part losses and accuracies are recorded on ``cfg.n_test`` fresh prompts per seed that
carry both parts (``test_*``). Observables per recorded step: losses and accuracies (train), the P and
Q signal weights ``S_P = w*^T W_P w*``, ``S_Q = u^T W_Q u``, the distances ``|W_B(t) - W_B(0)|_F`` and the top
singular values of each block.

>>> from twostage.numerics.gong.setting import GongConfig
>>> tr = train(GongConfig(d_p=4, d_q=4, L=6, n=32, steps=40), seeds=3, record_every=10)
>>> tr["K_P"].shape, tr["t"].tolist()
((5, 3), [0, 10, 20, 30, 40])
>>> bool((tr["K_P"][-1] < tr["K_P"][0]).all())
True
"""

from __future__ import annotations

import math

import numpy as np
import torch

from twostage.numerics.gong.cost import seed_bytes
from twostage.numerics.gong.setting import GongConfig, init_params, losses, sample, step_terms, u_zeta, w_star

SCHEDULES = ("two-stage", "anneal0", "constant")
#: recorded per step and seed: training losses/accuracies, signals, block distances, held-out P/Q parts
KEYS = ("t", "K", "K_P", "K_Q", "acc", "acc_P", "acc_Q", "S_P", "S_Q", "dW_P", "dW_Q",
        "test_K_P", "test_K_Q", "test_acc_P", "test_acc_Q")
N_SV = 3  # singular values recorded per block


# CPU cache block: per-seed data + parameters of one chunk (see :func:`default_chunk`). 8 MiB is 14 seeds at
# the default GongConfig; on a 2 MiB-L2 / 32 MiB-L3 EPYC core chunks of 6-16 seeds ran fastest (smaller
# chunks pay the per-op overhead per step, larger ones stream the data and temporaries from memory).
CHUNK_BYTES = 8 << 20


def default_chunk(cfg: GongConfig, seeds: int, device: str | torch.device = "cpu",
                  dtype=torch.float64) -> int:
    """Seeds per chunk for :func:`train`: all of them on CUDA, else as many as fit ``CHUNK_BYTES``
    (:func:`twostage.numerics.gong.cost.seed_bytes`: one seed's data and parameters), at least one.

    >>> default_chunk(GongConfig(), 256), default_chunk(GongConfig(), 256, device="cuda")
    (14, 256)
    """
    if torch.device(device).type == "cuda":
        return seeds
    return max(1, min(seeds, CHUNK_BYTES // seed_bytes(cfg, dtype)))


def train(cfg: GongConfig, seeds: int, seed: int = 0, schedule: str = "two-stage", record_every: int = 10,
          device: str | torch.device = "cpu", dtype=torch.float64, data=None, spectra: bool = True,
          chunk: int | None = None, checkpoint=None, held_out: bool = True,
          until_K_P: float | None = None) -> dict[str, np.ndarray]:
    """Run GD for ``cfg.steps`` steps on ``seeds`` independent (data, init) pairs; return numpy trajectories.

    Arrays are ``(records, seeds)`` (``sv_P``/``sv_Q``: ``(records, seeds, N_SV)``); ``t1`` is ``(seeds,)``
    (``nan`` where stage 1 never ended); ``params`` holds the final weights and ``params0`` the initial ones.

    Cache blocking: the seeds run in chunks of ``chunk`` seeds (default :func:`default_chunk`: as many as
    fit ``CHUNK_BYTES`` on CPU, all seeds on CUDA, where one wide batch is what keeps the device busy); each
    chunk is batched over its seeds and runs all its steps before the next chunk starts, so its data stays
    in cache across steps instead of streaming every seed's data from memory at every step. Data and
    initialisations are drawn for all seeds up front with one generator, exactly as for ``chunk=seeds``, and
    sliced, so the result does not depend on ``chunk``.

    ``checkpoint`` (optional; ``twostage.runs.checkpoint.Checkpointer``): an object with ``due(at)``,
    ``save(at, state)`` and ``load() -> state | None``, ``at`` counting GD steps over all chunks. The loop
    saves the finished chunks and the running chunk's weights, stage flags and record, and continues from a
    state ``load`` returns (data and initialisation are drawn again from ``seed``: GD uses no randomness
    after them). A resumed run gives the same result as an uninterrupted one.

    ``until_K_P`` (loss-only sweeps, one chunk): stop after the first recorded step at which every seed's P
    loss is at most this level; the record then ends there (fewer than ``cfg.steps + 1`` rows).
    """
    if schedule not in SCHEDULES:
        raise ValueError(f"unknown schedule {schedule!r} (choose {', '.join(SCHEDULES)})")
    chunk = default_chunk(cfg, seeds, device, dtype) if chunk is None else chunk
    if chunk < 1:
        raise ValueError(f"chunk must be >= 1 (got {chunk})")
    if until_K_P is not None and chunk < seeds:
        raise ValueError("until_K_P stops one chunk early: pass chunk=seeds (chunks must end together)")
    saved = checkpoint.load() if checkpoint is not None else None
    if saved is not None:
        chunk = int(saved["chunk"])  # the chunking of the interrupted run (results do not depend on it)
    gen = torch.Generator().manual_seed(seed)
    p, q, y = data if data is not None else sample(cfg, seeds, generator=gen, dtype=dtype)
    p, q, y = p.to(device), q.to(device), y.to(device)
    params = init_params(cfg, seeds, generator=gen, dtype=dtype, device=device)
    ws, u = w_star(cfg, dtype, device), u_zeta(cfg, dtype, device)
    test = None
    if held_out:  # held-out prompts carrying both parts (``test_*`` records); off for loss-only sweeps
        held_gen = torch.Generator().manual_seed(10_000 + seed)
        test = [t.to(device) for t in sample(cfg, seeds, n=cfg.n_test, generator=held_gen, dtype=dtype,
                                             mixture=False)]
    parts = [_numpy(part) for part in saved["parts"]] if saved is not None else []
    for n, sl in enumerate(slice(i, i + chunk) for i in range(0, seeds, chunk)):
        if n < len(parts):
            continue

        def save(step, inner, n=n):  # after GD step ``step`` of chunk ``n``
            at = n * cfg.steps + step
            if checkpoint is not None and checkpoint.due(at):
                checkpoint.save(at, {"chunk": chunk, "parts": [_tensors(x) for x in parts], "inner": inner})

        resume = saved["inner"] if saved is not None and n == len(saved["parts"]) else None
        parts.append(_train_chunk(cfg, schedule, record_every, spectra, ws, u, (p[sl], q[sl], y[sl]),
                                  [t[sl] for t in params], None if test is None else [t[sl] for t in test],
                                  save=save, resume=resume, until_K_P=until_K_P))
    out = {k: np.concatenate([part[k] for part in parts], axis=1) for k in parts[0] if k not in _NOT_SEEDWISE}
    out["t"] = parts[0]["t"]
    out["t1"] = np.concatenate([part["t1"] for part in parts])
    for k in ("params", "params0"):
        out[k] = [torch.cat(ts) for ts in zip(*(part[k] for part in parts))]
    return out


_NOT_SEEDWISE = ("t", "t1", "params", "params0")


def _tensors(part: dict) -> dict:
    """A finished chunk's record with numpy arrays as tensors (what a ``weights_only`` checkpoint holds)."""
    return {k: torch.from_numpy(v) if isinstance(v, np.ndarray) else v for k, v in part.items()}


def _numpy(part: dict) -> dict:
    return {k: v.numpy() if torch.is_tensor(v) else v for k, v in part.items()}


def _train_chunk(cfg, schedule, record_every, spectra, ws, u, data, params, test, save=None,
                 resume=None, until_K_P=None) -> dict:
    """All ``cfg.steps`` fused GD steps (:func:`step_terms`) of one chunk of seeds; :func:`train`'s record.
    ``save(step, state)`` after every step; ``resume``: such a state to continue from."""
    p, q, y = data
    params0 = [t.clone() for t in params]
    S, dtype, device = y.shape[0], y.dtype, y.device
    in_stage1 = torch.full((S,), schedule != "anneal0", device=device)
    t1 = torch.full((S,), math.nan, dtype=dtype, device=device)
    rec: dict[str, list] = {k: [] for k in (*KEYS, "sv_P", "sv_Q", "eta")}
    first = 0
    if resume is not None:
        params = [t.to(device) for t in resume["params"]]
        in_stage1, t1 = resume["in_stage1"].to(device), resume["t1"].to(device)
        rec = {k: list(v) if k == "t" else [a.numpy() for a in v] for k, v in resume["rec"].items()}
        first = int(resume["step"]) + 1
    for step in range(first, cfg.steps + 1):
        with torch.no_grad():
            if step < cfg.steps:
                ls, (gP, gQ, gb) = step_terms(params, p, q, y, cfg.coupling)
            else:
                ls = losses(params, p, q, y, cfg.coupling)
        if schedule == "two-stage" and cfg.trigger == "step":
            ending = in_stage1 & (step >= cfg.T1)
            t1 = torch.where(ending, torch.full_like(t1, step), t1)
            in_stage1 = in_stage1 & ~ending
        elif schedule == "two-stage":
            ending = in_stage1 & (ls["K_P"] <= cfg.eps1)
            t1 = torch.where(ending, torch.full_like(t1, step), t1)
            in_stage1 = in_stage1 & ~ending
        eta = torch.where(in_stage1, torch.full_like(t1, cfg.eta1), torch.full_like(t1, cfg.eta2))
        if step % record_every == 0 or step == cfg.steps:
            if test is not None:
                with torch.no_grad():
                    held = losses(params, *test, cfg.coupling)
                ls = {**ls, **{f"test_{k}": held[k] for k in ("K_P", "K_Q", "acc_P", "acc_Q")}}
            _record(rec, step, ls, params, params0, ws, u, eta, spectra)
            if until_K_P is not None and bool((ls["K_P"] <= until_K_P).all()):
                break
        if step == cfg.steps:
            break
        params = [params[0] - eta[:, None, None] * gP, params[1] - eta[:, None, None] * gQ,
                  params[2] - eta * gb if cfg.train_b else params[2]]
        if save is not None and step < cfg.steps - 1:
            kept = {k: v if k == "t" else [torch.from_numpy(a) for a in v] for k, v in rec.items()}
            save(step, {"step": step, "params": params, "in_stage1": in_stage1, "t1": t1, "rec": kept})
    out = {k: np.stack(v) for k, v in rec.items() if k != "t" and v}
    out["t"] = np.asarray(rec["t"])
    out["t1"] = t1.cpu().numpy()
    out["params"] = [t.cpu() for t in params]
    out["params0"] = [t.cpu() for t in params0]
    return out


def _record(rec, step, ls, params, params0, ws, u, eta, spectra=True):
    WP, WQ, _ = params
    rec["t"].append(step)
    for k in KEYS[1:7] + (KEYS[11:] if "test_K_P" in ls else ()):
        rec[k].append(ls[k].cpu().numpy())
    rec["S_P"].append(torch.einsum("d,sde,e->s", ws, WP, ws).cpu().numpy())
    rec["S_Q"].append(torch.einsum("d,sde,e->s", u, WQ, u).cpu().numpy())
    rec["dW_P"].append(torch.linalg.matrix_norm(WP - params0[0]).cpu().numpy())
    rec["dW_Q"].append(torch.linalg.matrix_norm(WQ - params0[1]).cpu().numpy())
    if spectra:
        rec["sv_P"].append(torch.linalg.svdvals(WP)[:, :N_SV].cpu().numpy())
        rec["sv_Q"].append(torch.linalg.svdvals(WQ)[:, :N_SV].cpu().numpy())
    rec["eta"].append(eta.cpu().numpy())


def first_reach(t: np.ndarray, acc: np.ndarray, level: float) -> np.ndarray:
    """Per seed, the first recorded step with ``acc >= level`` (``inf`` if never): the absolute stage events
    ``T_P``, ``T_Q`` of :mod:`twostage.theory.gong.stages`.

    >>> first_reach(np.array([0, 5, 10]), np.array([[0.5, 0.5], [0.96, 0.6], [0.97, 0.7]]), 0.95).tolist()
    [5.0, inf]
    """
    hit = acc >= level
    return np.where(hit.any(0), t[np.argmax(hit, axis=0)].astype(float), np.inf)


def truncate_smallest(params, keep: float = 0.5):
    """Keep the top ``keep`` fraction of the singular values of ``W = diag(W_P, W_Q)`` (per seed, jointly).

    Since W is block-diagonal its singular values are the union of the blocks'; one threshold per seed.
    """
    WP, WQ, b = params
    UP, sPv, VPh = torch.linalg.svd(WP)
    UQ, sQv, VQh = torch.linalg.svd(WQ)
    allsv = torch.cat([sPv, sQv], dim=1)
    k = max(1, int(round(keep * allsv.shape[1])))
    thr = torch.sort(allsv, dim=1, descending=True).values[:, k - 1:k]
    sPk = torch.where(sPv >= thr, sPv, torch.zeros_like(sPv))
    sQk = torch.where(sQv >= thr, sQv, torch.zeros_like(sQv))
    return (UP @ torch.diag_embed(sPk) @ VPh, UQ @ torch.diag_embed(sQk) @ VQh, b)


def truncation_damage(cfg: GongConfig, tr: dict, seed: int,
                      keep: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """Increase of the P-only and Q-only test losses when the smallest singular directions of the final
    ``W`` of a :func:`train` run are removed (:func:`truncate_smallest`; gong-2025 §8 item 5, spectral
    prediction). Fresh test prompts (``cfg.n_test // 4`` per seed) from the generator seed ``10_000 + seed``.
    """
    g = torch.Generator().manual_seed(10_000 + seed)
    data = sample(cfg, tr["params"][0].shape[0], n=cfg.n_test // 4, generator=g, mixture=False)
    before = losses(tr["params"], *data, cfg.coupling)
    after = losses(truncate_smallest(tr["params"], keep), *data, cfg.coupling)
    return (after["K_P"] - before["K_P"]).numpy(), (after["K_Q"] - before["K_Q"]).numpy()


PHASES = ("P-then-Q", "simultaneous", "Q-then-P", "Q-never", "P-never")


def classify(cfg: GongConfig, tr: dict, a_P: float = 0.95, a_Q: float = 0.9,
             q_low: float = 0.65) -> np.ndarray:
    """Per seed, the phase of a :func:`train` run (held-out accuracies; ``t1`` the anneal step ``cfg.T1``):

    * ``P-never``: P accuracy below ``a_P`` at the end; else ``Q-never``: Q accuracy below ``a_Q`` at the end;
    * ``P-then-Q``: at ``t1`` P >= ``a_P`` and Q <= ``q_low`` (the two stages of the stage claims);
    * ``Q-then-P``: Q reaches ``a_Q`` before P reaches ``a_P``; else ``simultaneous``.

    >>> t = np.array([0, 10, 20, 30])
    >>> P, Q = np.array([[.5], [.97], [.98], [.99]]), np.array([[.5], [.5], [.6], [.95]])
    >>> classify(GongConfig(T1=20), {"t": t, "test_acc_P": P, "test_acc_Q": Q}).tolist()
    ['P-then-Q']
    """
    t, aP, aQ = tr["t"], tr["test_acc_P"], tr["test_acc_Q"]
    i1 = int(np.clip(np.searchsorted(t, cfg.T1), 0, len(t) - 1))
    TP, TQ = first_reach(t, aP, a_P), first_reach(t, aQ, a_Q)
    out = np.where(TQ < TP, "Q-then-P", "simultaneous").astype(object)
    out[(aP[i1] >= a_P) & (aQ[i1] <= q_low)] = "P-then-Q"
    out[aQ[-1] < a_Q] = "Q-never"
    out[aP[-1] < a_P] = "P-never"
    return out
