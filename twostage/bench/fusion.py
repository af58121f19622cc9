"""Fusing the full-model gradient, measured (issue 14 item 4): ``python -m twostage.bench.fusion``.

The full-model rows of ``twostage bench`` sit at 7.8x (gradient) and 9.4x (flow) of their limits on CPU
(docs/performance.md). This module measures the two remedies the issue names, so the verdict on them can be
re-checked on any machine (``--device cuda`` on a GPU, where launch overhead dominates instead):

* **fusion** -- :func:`grad_fused` is the hand-derived reverse mode of :mod:`.backprop` written as one
  function of broadcast products (``(a[..., None] * b[..., None, :, :]).sum(-2)`` for every small matrix
  product), so that ``torch.compile`` can fuse all of it into generated loops; the unchanged
  :func:`.backprop.grad_exact` (products through MKL's batched GEMM) is compiled too. Both are timed against
  eager ``grad_exact`` at batch sizes from the bench's 256 down to the flow's tail of single elements. Every
  timed variant is first checked against ``grad_exact`` (:func:`agreement`, 1e-12 relative); a variant that
  disagrees is reported as wrong and not timed.
* **bucketing by step size** -- :func:`flow_calls` integrates the bench's flow and records the batch size of
  every gradient call and the time spent in them. Each element keeps its own step sequence (its error
  control; changing it changes the numbers), so the number of iterations is the largest step count of any
  element whatever the grouping; what a grouping can change is only what each iteration costs, which is
  what the per-size timings above measure.

Nothing here is on the checkers' path: the verdicts do not depend on this module.
"""

from __future__ import annotations

import argparse
import math
import time

import torch

from twostage.bench.hot_paths import _sync, _time
from twostage.numerics.chen_luo.backprop import grad_exact
from twostage.numerics.chen_luo.data import DataConfig, make_data
from twostage.numerics.chen_luo.fullflow import flow_rhs
from twostage.numerics.chen_luo.init import InitConfig, init_params
from twostage.numerics.chen_luo.model import Params
from twostage.numerics.integrate import solve

PROBLEM = (16, 8, 8, 256)  # n, s, d, B: the bench's full size
SIZES = (256, 64, 16, 4, 1)


def _mm(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Batched ``a @ b`` as a broadcast product summed over the shared index (fusable elementwise work)."""
    return (a.unsqueeze(-1) * b.unsqueeze(-3)).sum(-2)


def grad_fused(p: Params, X: torch.Tensor, y: torch.Tensor):
    """Loss (B,) and gradient of chen-luo-2025 (3) (Def. 3), the formulas of :mod:`.backprop` with every
    small product written as :func:`_mm` and the data contractions as ``einsum`` (a layout with the batch
    first, samples second): the same mathematics, a different association of the sums."""
    X = X.to(device=p.WQ.device, dtype=p.WQ.dtype)
    y = y.to(device=p.WQ.device, dtype=p.WQ.dtype)
    n, d = X.shape[0], X.shape[-1]
    c = 1.0 / math.sqrt(d)
    tr = lambda t: t.transpose(-1, -2)
    xs = X[:, -1, :]
    M, N = _mm(p.WQ, tr(p.WK)), _mm(p.WV, p.W1)
    A = torch.softmax(torch.einsum("ijd,bid->bij", X, torch.einsum("id,bde->bie", xs, M)) * c, -1)
    xbar = torch.einsum("bij,ijd->bid", A, X)
    h = torch.tanh(_mm(xbar, N))
    f = (h * p.W2.unsqueeze(1)).sum(-1)
    ell = torch.exp(-y * f)
    g = ell * y * (-1.0 / n)
    du = (1 - h * h) * g.unsqueeze(-1) * p.W2.unsqueeze(1)
    G = _mm(tr(xbar), du)
    dA = torch.einsum("ijd,bid->bij", X, _mm(du, tr(N)))
    da = (dA - (A * dA).sum(-1, keepdim=True)) * A * c
    H = torch.einsum("id,bie->bde", xs, torch.einsum("bij,ijd->bid", da, X))
    dW2 = (g.unsqueeze(-1) * h).sum(1)
    return ell.mean(1), Params(_mm(H, p.WK), _mm(tr(H), p.WQ), _mm(G, tr(p.W1)), _mm(tr(p.WV), G), dW2)


def agreement(fn, p: Params, X: torch.Tensor, y: torch.Tensor) -> float:
    """Largest relative difference (to each array's largest entry) of ``fn``'s loss and gradient from
    :func:`.backprop.grad_exact`'s."""
    L, g = fn(p, X, y)
    Lr, gr = grad_exact(p, X, y)
    return max(float((u - v).abs().max() / v.abs().max()) for u, v in zip((L, *g), (Lr, *gr)))


def _compiled(fn):
    """``torch.compile(fn, dynamic=True)``, or ``None`` where no compiler works here (error printed)."""
    try:
        return torch.compile(fn, dynamic=True)
    except Exception as exc:  # noqa: BLE001 - a missing toolchain is a result, not a crash
        print(f"torch.compile unavailable: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}")
        return None


def measure_grad(device, sizes=SIZES, compile: bool = True, min_time: float = 0.2, problem=PROBLEM) -> dict:
    """Seconds per gradient call at each batch size for eager ``grad_exact`` and (with ``compile``) the
    compiled ``grad_exact`` and compiled :func:`grad_fused`; compile times; agreement of each variant."""
    n, s, d, _ = problem
    ds = make_data(DataConfig(n, s, d, seed=0), device=device)
    p = init_params(InitConfig(d=d, eps=0.3, B=max(sizes), seed=0), device=device)
    variants = {"eager": grad_exact}
    if compile:
        variants |= {"compiled": _compiled(grad_exact), "compiled_fused": _compiled(grad_fused)}
    out = {"sizes": list(sizes), "compile_seconds": {}, "agreement": {}, "seconds": {}}
    for name, fn in variants.items():
        if fn is None:
            continue
        t0 = time.perf_counter()
        try:
            err = agreement(fn, p.index(slice(0, sizes[0])), ds.X, ds.y)  # compiles on the first call
        except Exception as exc:  # noqa: BLE001 - e.g. no C++ compiler for inductor
            print(f"{name}: failed: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}")
            continue
        _sync(torch.device(device))
        out["compile_seconds"][name] = time.perf_counter() - t0
        out["agreement"][name] = err
        if not err < 1e-12:
            print(f"{name}: WRONG (relative difference {err:.3g} from grad_exact): not timed")
            continue
        out["seconds"][name] = [_time(lambda b=b, fn=fn: fn(p.index(slice(0, b)), ds.X, ds.y),
                                      torch.device(device), min_time) for b in sizes]
    return out


def flow_calls(device, t1: float = 2.0, problem=PROBLEM) -> dict:
    """The bench's full-model flow (``rtol`` 1e-9 to ``t1``): batch size of every gradient call, time in the
    gradient vs the whole integration, accepted steps per element (min, median, max)."""
    n, s, d, B = problem
    ds = make_data(DataConfig(n, s, d, seed=0), device=device)
    p = init_params(InitConfig(d=d, eps=0.3, B=B, seed=0), device=device)
    f, sizes, spent = flow_rhs(ds), [], [0.0]
    dev = torch.device(device)

    def timed(t, z, idx):
        _sync(dev)
        t0 = time.perf_counter()
        r = f(t, z, idx)
        _sync(dev)
        spent[0] += time.perf_counter() - t0
        sizes.append(z.shape[0])
        return r

    z0 = p.flat()
    t0 = time.perf_counter()
    atol = 1e-3 * 1e-9 * z0.pow(2).mean(1).sqrt()  # integrate_flow's default at rtol 1e-9
    sol = solve(timed, z0, 0.0, t1, rtol=1e-9, atol=atol, record=lambda t, z, i: {})
    _sync(dev)
    total = time.perf_counter() - t0
    acc = sol.n_accepted.double()
    return {"calls": len(sizes), "full_width_calls": sum(b == B for b in sizes),
            "calls_at_most_16": sum(b <= 16 for b in sizes), "element_grads": sum(sizes),
            "seconds": total, "grad_seconds": spent[0],
            "accepted_min_median_max": [float(acc.min()), float(acc.median()), float(acc.max())],
            "iterations": int((sol.n_accepted + sol.n_rejected).max())}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m twostage.bench.fusion", description=__doc__.split("\n")[0])
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--no-compile", action="store_true", help="time eager grad_exact only")
    args = ap.parse_args(argv)
    g = measure_grad(args.device, compile=not args.no_compile)
    print(f"gradient, seconds per call (n, s, d = {PROBLEM[:3]}), threads {torch.get_num_threads()}:")
    print("variant".ljust(16) + "".join(f"B={b}".rjust(11) for b in g["sizes"]) + "   compile s   agreement")
    base = g["seconds"].get("eager")
    for name, ts in g["seconds"].items():
        cells = "".join(f"{t * 1e3:8.3f} ms" if base is None or name == "eager"
                        else f"{t * 1e3:6.3f}({b / t:.2f}x)" for t, b in zip(ts, base or ts))
        print(name.ljust(16) + cells + f"   {g['compile_seconds'][name]:9.1f}   {g['agreement'][name]:.1e}")
    fc = flow_calls(args.device)
    print(f"flow to t=2: {fc['seconds']:.3f} s, {fc['grad_seconds'] / fc['seconds']:.0%} in the gradient; "
          f"{fc['calls']} gradient calls ({fc['full_width_calls']} at full width, "
          f"{fc['calls_at_most_16']} with <= 16 elements); accepted steps per element min/median/max "
          f"{fc['accepted_min_median_max']}; {fc['iterations']} iterations")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
