"""Fusing the full-model gradient and bucketing the flow, measured (issue 14 item 4):
``python -m twostage.bench.fusion [--device D] [--problem tiny|full] [--json PATH]``.

The full-model rows of ``twostage bench`` sit at 7.8x (gradient) and 9.4x (flow) of their limits on CPU
(docs/performance.md). This module measures the two remedies the issue names against the unchanged path
(the naive baseline, ``eager``: :func:`.backprop.grad_exact` in eager PyTorch, the flow as
:func:`.fullflow.integrate_flow` runs it), every ratio from one run on one device:

* **fusion** -- :func:`grad_fused` is the hand-derived reverse mode of :mod:`.backprop` written as one
  function of broadcast products (``(a[..., None] * b[..., None, :, :]).sum(-2)`` for every small matrix
  product), so that ``torch.compile`` can fuse all of it into generated loops; ``grad_exact`` itself
  (products through batched GEMM) is compiled too. Both are timed against eager ``grad_exact`` at batch
  sizes from the bench's 256 down to the flow's tail of single elements, and inside the whole flow
  (``hybrid``: eager above ``SMALL`` elements, compiled fused at or below). Every variant is first checked
  against the baseline (:func:`agreement`, 1e-12 relative for one gradient; :data:`FLOW_GATE` for the
  flow's final states, where a reassociated sum may shift an accepted step); one that disagrees is
  reported as wrong and not timed. Where no compiler works (no C++ toolchain, no triton), the compiled
  variants are reported as unavailable and the eager path is all there is.
* **bucketing by step size** -- :func:`flow_variants` also integrates the elements in ``buckets`` groups
  of similar step counts, one :func:`~twostage.numerics.integrate.solve` per group. The groups are formed
  from the baseline run's own step counts (an oracle no real bucketing has), so its time bounds what any
  bucketing by step size can gain. Each element keeps its own step sequence (its error control), so
  the element-gradients are the same work; what grouping changes is the iterations' count (the sum over
  buckets of their largest step count, not the largest overall) and each iteration's width.

On CPU the times are process CPU time (this project's machine is shared; wall time there measures the
neighbours), on CUDA wall time after synchronising. Nothing here is on the checkers' path: the verdicts do
not depend on this module.
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

import torch

from twostage.bench.hot_paths import _sync
from twostage.numerics.chen_luo.backprop import grad_exact
from twostage.numerics.chen_luo.data import DataConfig, make_data
from twostage.numerics.chen_luo.init import InitConfig, init_params
from twostage.numerics.chen_luo.model import Params
from twostage.numerics.integrate import solve

PROBLEMS = {"full": (16, 8, 8, 256), "tiny": (4, 2, 2, 8)}  # n, s, d, B: the bench's full size; a dry run
PROBLEM = PROBLEMS["full"]
SIZES = (256, 64, 16, 4, 1)
SMALL = 16  # hybrid: batches of at most this many elements go to the compiled fused gradient
FLOW_GATE = 1e-6  # relative difference of the flow's final states from the baseline's (rtol 1e-9)


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


def _clock(device: torch.device):
    """Process CPU time on CPU (immune to the neighbours of a shared machine), else synchronised wall time."""
    if device.type == "cpu":
        return time.process_time

    def wall():
        _sync(device)
        return time.perf_counter()

    return wall


def _per_call(fn, device: torch.device, min_time: float) -> float:
    """Seconds per call of ``fn`` on :func:`_clock`: one warm-up, then doubling repeats until ``min_time``."""
    clock = _clock(device)
    fn()
    k = 1
    while True:
        t0 = clock()
        for _ in range(k):
            fn()
        el = clock() - t0
        if el >= min_time or k >= 1 << 16:
            return el / k
        k *= 2


def _failed(name: str, exc: Exception) -> None:
    print(f"{name}: failed: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}")


def grad_variants(compile: bool = True) -> dict:
    """The gradient functions compared: the eager baseline and (with ``compile``) the compiled ones that
    could be built here."""
    variants = {"eager": grad_exact}
    if compile:
        variants |= {"compiled": _compiled(grad_exact), "compiled_fused": _compiled(grad_fused)}
    return {k: v for k, v in variants.items() if v is not None}


def measure_grad(device, sizes=SIZES, compile: bool = True, min_time: float = 0.2, problem=PROBLEM,
                 variants: dict | None = None) -> dict:
    """Seconds per gradient call at each batch size for eager ``grad_exact`` and (with ``compile``) the
    compiled ``grad_exact`` and compiled :func:`grad_fused`; compile times; agreement of each variant."""
    dev = torch.device(device)
    n, s, d, _ = problem
    ds = make_data(DataConfig(n, s, d, seed=0), device=dev)
    p = init_params(InitConfig(d=d, eps=0.3, B=max(sizes), seed=0), device=dev)
    variants = grad_variants(compile) if variants is None else variants
    out = {"sizes": list(sizes), "compile_seconds": {}, "agreement": {}, "seconds": {}}
    for name, fn in variants.items():
        t0 = time.perf_counter()
        try:
            err = agreement(fn, p.index(slice(0, sizes[0])), ds.X, ds.y)  # compiles on the first call
        except Exception as exc:  # noqa: BLE001 - e.g. no C++ compiler for inductor
            _failed(name, exc)
            continue
        _sync(dev)
        out["compile_seconds"][name] = time.perf_counter() - t0
        out["agreement"][name] = err
        if not err < 1e-12:
            print(f"{name}: WRONG (relative difference {err:.3g} from grad_exact): not timed")
            continue
        out["seconds"][name] = [_per_call(lambda b=b, fn=fn: fn(p.index(slice(0, b)), ds.X, ds.y), dev,
                                          min_time) for b in sizes]
    return out


def _rhs(gradfn, ds, d: int, sizes: list | None = None, clock=None, spent: list | None = None):
    """``-grad L`` on flat states, as :func:`.fullflow.flow_rhs`, through ``gradfn``; the batch size of
    every call appended to ``sizes``, the time in it (on ``clock``) added to ``spent[0]``."""

    def f(t, z, idx):
        if sizes is None:
            return -gradfn(Params.unflat(z, d), ds.X, ds.y)[1].flat()
        sizes.append(z.shape[0])
        t0 = clock()
        r = -gradfn(Params.unflat(z, d), ds.X, ds.y)[1].flat()
        spent[0] += clock() - t0
        return r

    return f


def _compiled_rhs(ds, d: int):
    """The whole right-hand side ``z -> -grad L`` (unflatten, :func:`.backprop.grad_exact`, flatten) compiled
    as one function of the contiguous state, or ``None`` where no compiler works."""
    X, y = ds.X, ds.y
    c = _compiled(lambda z: -grad_exact(Params.unflat(z, d), X, y)[1].flat())
    return None if c is None else (lambda t, z, idx: c(z))


def _hybrid(small_fn):
    """Eager ``grad_exact`` above :data:`SMALL` elements, ``small_fn`` at or below."""
    return lambda p, X, y: (small_fn if p.W2.shape[0] <= SMALL else grad_exact)(p, X, y)


def _solve(f, z0, t1, idx=None):
    """The bench's flow (:func:`.fullflow.integrate_flow`'s defaults at rtol 1e-9, nothing recorded)."""
    z = z0 if idx is None else z0[idx]
    atol = 1e-3 * 1e-9 * z.pow(2).mean(1).sqrt()
    return solve(f, z, 0.0, t1, rtol=1e-9, atol=atol, record=lambda t, zz, i: {})


def flow_variants(device, t1: float = 2.0, problem=PROBLEM, variants: dict | None = None, buckets: int = 4,
                  repeats: int = 2) -> dict:
    """The bench's full-model flow (rtol 1e-9 to ``t1``) with each gradient variant (plus ``hybrid``) and
    bucketed by the baseline's step counts (and, where ``compiled`` is given, the whole right-hand side
    compiled: ``compiled_rhs``): seconds (least of ``repeats``), iterations, agreement of the
    final states with the baseline's (:data:`FLOW_GATE`), and the baseline's gradient-call sizes."""
    dev = torch.device(device)
    n, s, d, B = problem
    ds = make_data(DataConfig(n, s, d, seed=0), device=dev)
    z0 = init_params(InitConfig(d=d, eps=0.3, B=B, seed=0), device=dev).flat()
    variants = {"eager": grad_exact} if variants is None else dict(variants)
    if "compiled_fused" in variants:
        variants["hybrid"] = _hybrid(variants["compiled_fused"])
    clock = _clock(dev)
    sizes: list[int] = []
    spent = [0.0]
    t0 = clock()
    base = _solve(_rhs(grad_exact, ds, d, sizes, clock, spent), z0, t1)
    base_seconds = clock() - t0
    acc = base.n_accepted.double()
    order = torch.argsort(base.n_accepted.cpu(), stable=True).to(dev)
    groups = [g for g in torch.chunk(order, max(1, min(buckets, B))) if g.numel()]
    every = slice(None)
    runs = {name: (lambda fn=fn: [(_solve(_rhs(fn, ds, d), z0, t1), every)]) for name, fn in variants.items()}
    f_eager = _rhs(grad_exact, ds, d)
    f_comp = _compiled_rhs(ds, d) if "compiled" in variants else None
    if f_comp is not None:
        runs["compiled_rhs"] = lambda: [(_solve(f_comp, z0, t1), every)]
    runs[f"bucketed_{len(groups)}"] = lambda: [(_solve(f_eager, z0, t1, g), g) for g in groups]
    out = {"problem": list(problem), "t1": t1, "variants": {},
           "calls": len(sizes), "calls_at_most_small": sum(b <= SMALL for b in sizes),
           "element_grads": sum(sizes), "grad_share": spent[0] / base_seconds,
           "accepted_min_median_max": [float(acc.min()), float(acc.median()), float(acc.max())]}
    scale = float(base.y_final.abs().max())
    for name, run in runs.items():
        try:
            sols = run()  # warm-up (compiles), and the agreement check
        except Exception as exc:  # noqa: BLE001 - a compiler that breaks on a new batch size, say
            _failed(name, exc)
            continue
        y = torch.empty_like(base.y_final)
        for sol, g in sols:
            y[g] = sol.y_final
        err = float((y - base.y_final).abs().max()) / scale
        rec = {"agreement": err, "iterations": sum(int((x.n_accepted + x.n_rejected).max()) for x, _ in sols)}
        if err < FLOW_GATE:
            times = []
            for _ in range(repeats):
                t0 = clock()
                run()
                times.append(clock() - t0)
            rec["seconds"] = min(times)
        else:
            print(f"flow {name}: WRONG (final states {err:.3g} from the baseline's): not timed")
        out["variants"][name] = rec
    ref = out["variants"].get("eager", {}).get("seconds")
    for rec in out["variants"].values():
        if ref and "seconds" in rec:
            rec["speedup"] = ref / rec["seconds"]
    return out


def run(device="cpu", problem: str = "full", compile: bool = True, min_time: float = 0.2,
        on_part=None) -> dict:
    """Both measurements in one run on ``device``: per-call gradient times, then the flow variants;
    ``on_part(report)`` after each (a caller stopped part-way keeps the gradient table)."""
    dev = torch.device(device)
    prob = PROBLEMS[problem]
    variants = grad_variants(compile)
    sizes = tuple(b for b in SIZES if b <= prob[3]) or (prob[3],)
    dev_name = torch.cuda.get_device_name(dev) if dev.type == "cuda" else "cpu"
    r = {"device": str(dev), "device_name": dev_name, "torch": torch.__version__,
         "threads": torch.get_num_threads(), "clock": "process CPU time" if dev.type == "cpu" else "wall",
         "compile": compile, "complete": False, "flow": None}
    r["grad"] = measure_grad(dev, sizes=sizes, min_time=min_time, problem=prob, variants=variants)
    if on_part is not None:
        on_part(r)
    usable = {k: v for k, v in variants.items() if k in r["grad"]["seconds"]}
    r["flow"] = flow_variants(dev, problem=prob, variants=usable)
    r["complete"] = True
    if on_part is not None:
        on_part(r)
    return r


def print_report(r: dict) -> None:
    g, f = r["grad"], r["flow"]
    print(f"fusion bench on {r['device_name']} (torch {r['torch']}, {r['threads']} threads, {r['clock']}); "
          f"n, s, d, B = {tuple(f['problem'])}")
    print("gradient, ms per call (speed-up over eager)")
    print("variant".ljust(16) + "".join(f"B={b}".rjust(16) for b in g["sizes"]) + "   compile s   agreement")
    base = g["seconds"].get("eager")
    for name, ts in g["seconds"].items():
        cells = "".join((f"{t * 1e3:.3f}" + ("" if base is None else f" ({b / t:.2f}x)")).rjust(16)
                        for t, b in zip(ts, base or ts))
        print(name.ljust(16) + cells + f"   {g['compile_seconds'][name]:9.1f}   {g['agreement'][name]:.1e}")
    print(f"flow to t={f['t1']}: {f['calls']} gradient calls, {f['calls_at_most_small']} with <= {SMALL} "
          f"elements, {f['grad_share']:.0%} of the time in the gradient; accepted steps per element "
          f"min/median/max {f['accepted_min_median_max']}")
    for name, v in f["variants"].items():
        t = f"{v['seconds']:.3f} s" if "seconds" in v else "not timed"
        sp = f" ({v['speedup']:.2f}x)" if "speedup" in v else ""
        print(f"  {name.ljust(14)} {t}{sp}, {v['iterations']} iterations, agreement {v['agreement']:.1e}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m twostage.bench.fusion", description=__doc__.split("\n")[0])
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--problem", choices=sorted(PROBLEMS), default="full")
    ap.add_argument("--no-compile", action="store_true", help="eager grad_exact and bucketing only")
    ap.add_argument("--json", type=Path, help="write the measurements to this file")
    args = ap.parse_args(argv)
    from twostage.numerics.device import resolve_device
    from twostage.runs.store import atomic_write_json

    r = run(resolve_device(args.device), args.problem, compile=not args.no_compile,
            min_time=0.2 if args.problem == "full" else 0.005,
            on_part=(lambda rep: atomic_write_json(args.json, rep)) if args.json else None)
    print_report(r)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
