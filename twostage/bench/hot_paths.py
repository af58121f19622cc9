"""Benchmark of the hot paths of both papers, reported as ratios measured in one run (``twostage bench``).

DESIGN.md "Performance yardstick": never absolute times. For each hot path we report

* ``naive_over_batched``: time of a per-initialisation Python loop (measured on a subset, extrapolated per
  element to the full batch) over the batched tensor program's time;
* ``time_over_byte_roofline`` = time / (bytes moved / measured copy bandwidth) and
  ``time_over_flop_roofline`` = time / (FLOPs / measured matmul rate); ``time_over_roofline`` uses the
  larger of the two limits. Both ceilings are measured on the same device in the same run.
* ``flop_ratio_floor`` = max(byte limit, FLOP limit) / FLOP limit: the ``time_over_flop_roofline`` of a
  program running exactly at the roofline. Where it exceeds 1 the path is memory-bound (its FLOPs per
  byte are below the device's matmul rate over copy bandwidth) and no implementation reaches the FLOP
  limit: the effective ODE (7) is matrix-vector work, ``5 d^2`` FLOPs per ``16 (d^2 + 2 d)`` bytes.

Bytes and FLOPs follow a stated *minimal* model (each operand read once, each result written once; the
model is in each function's docstring), so the ratios are upper bounds on the achievable speed-up.
Hot paths: (a) chen-luo-2025: the effective-ODE right-hand side (7) and its batched integration to
blow-up, (b) the full-model gradient (Def. 3, hand-derived reverse mode) and its gradient-flow
integration, (c) gong-2025 GD training (reconstructed setting). The verify suite end to end is added by
``twostage bench`` from :mod:`twostage.bench.suite` (numerics never imports verify).
"""

from __future__ import annotations

import math
import time

import torch

from twostage.numerics.chen_luo import effective as eff
from twostage.numerics.chen_luo.backprop import flops_per_element
from twostage.numerics.chen_luo.blowup import integrate_to_blowup
from twostage.numerics.chen_luo.data import DataConfig, make_data
from twostage.numerics.chen_luo.fullflow import integrate_flow
from twostage.numerics.chen_luo.init import InitConfig, init_params
from twostage.numerics.chen_luo.model import grad

SIZES = {
    # tiny: the CPU dry run of scripts/device-check.sh (exercises every row in seconds; numbers meaningless)
    "tiny": {"d": 3, "B": 8, "loop": 1, "mm": 64, "copy_mib": 1, "full": (4, 2, 2, 4, 1),
             "min_time": 0.002, "gong": (4, 1, 10)},
    # d_m, initialisations, elements timed in the naive loop, matmul n, copy MiB,
    # full-model (n, s, d, B, loop), minimal timing window in seconds, gong training (seeds, loop, steps)
    "small": {"d": 8, "B": 64, "loop": 3, "mm": 512, "copy_mib": 16, "full": (6, 3, 3, 8, 2),
              "min_time": 0.02, "gong": (16, 2, 50)},
    "full": {"d": 32, "B": 1024, "loop": 16, "mm": 2048, "copy_mib": 256, "full": (16, 8, 8, 256, 8),
             "min_time": 0.3, "gong": (256, 4, 300)},
}
F64_BYTES = 8
DP5_STAGES = 6  # new right-hand-side evaluations per step (first-same-as-last)
# elementwise state-sized traffic per DP5 step besides the rhs: stage sums read i+1 and write 1 (i = 1..5),
# y_new reads 7 writes 1, the error estimate reads 8 writes 1, the error norm reads 3
DP5_STATE_RW = sum(i + 2 for i in range(1, 6)) + 8 + 9 + 3


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _time(fn, device: torch.device, min_time: float) -> float:
    """Seconds per call: one warm-up, then repeat (doubling) until ``min_time`` has elapsed."""
    fn()
    _sync(device)
    k = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(k):
            fn()
        _sync(device)
        el = time.perf_counter() - t0
        if el >= min_time or k >= 1 << 16:
            return el / k
        k *= 2


def measure_ceilings(device: torch.device, mm: int, copy_mib: int, min_time: float) -> dict:
    """Copy bandwidth (read + write bytes / s of a large float64 copy) and float64 matmul rate (2 n^3 / s)."""
    n = copy_mib * (1 << 20) // F64_BYTES
    src = torch.rand(n, dtype=torch.float64, device=device)
    dst = torch.empty_like(src)
    t_copy = _time(lambda: dst.copy_(src), device, min_time)
    a = torch.rand(mm, mm, dtype=torch.float64, device=device)
    b = torch.rand(mm, mm, dtype=torch.float64, device=device)
    t_mm = _time(lambda: a @ b, device, min_time)
    return {"copy_bandwidth_GBps": 2 * n * F64_BYTES / t_copy / 1e9,
            "matmul_GFLOPs": 2 * mm ** 3 / t_mm / 1e9, "copy_bytes": 2 * n * F64_BYTES, "matmul_n": mm}


def _ratios(t: float, nbytes: float, flops: float, ceil: dict) -> dict:
    tb = nbytes / (ceil["copy_bandwidth_GBps"] * 1e9)
    tf = flops / (ceil["matmul_GFLOPs"] * 1e9)
    return {"bytes": nbytes, "flops": flops, "time_over_byte_roofline": t / tb,
            "time_over_flop_roofline": t / tf, "time_over_roofline": t / max(tb, tf),
            "flop_ratio_floor": max(tb, tf) / tf}


def bench_effective_rhs(device, d, B, loop, min_time, ceil) -> dict:
    """Batched field (7) on (B, d^2 + 2d) states. Bytes: read the state, write the derivative
    (2 N B 8); FLOPs: W1 W2 and Wv W1 (2 d^2 each) and the outer product (d^2): 5 d^2 B."""
    g = torch.Generator(device="cpu").manual_seed(0)
    N = d * d + 2 * d
    z = torch.randn(B, N, generator=g, dtype=torch.float64).to(device)
    t_b = _time(lambda: eff.field(z), device, min_time)

    def naive():
        for b in range(loop):
            Wv, W1, W2 = z[b, :d], z[b, d:d + d * d].view(d, d), z[b, d + d * d:]
            torch.cat([W1 @ W2, torch.outer(Wv, W2).flatten(), Wv @ W1])

    t_n = _time(naive, device, min_time) / loop * B
    out = {"B": B, "d": d, "seconds_per_call": t_b, "throughput": B / t_b, "unit": "model-evals/s",
           "naive_over_batched": t_n / t_b}
    return out | _ratios(t_b, 2 * N * B * F64_BYTES, 5 * d * d * B, ceil)


def bench_effective_integration(device, d, B, loop, ceil) -> dict:
    """Batched integration of (7) to ``E >= 1e8`` (reparametrised time, rtol 1e-9). Throughput: accepted
    model-steps per second summed over the batch. Per step and element the byte model counts the 6 rhs
    evaluations (read + write the state each) and ``DP5_STATE_RW`` state-sized reads/writes of the stage
    combinations; FLOPs: 6 rhs (5 d^2) plus 2 per stage-coefficient multiply-add."""
    g = torch.Generator(device="cpu").manual_seed(1)
    Wv, W1, W2 = (torch.randn(B, *s, generator=g, dtype=torch.float64).to(device)
                  for s in ((d,), (d, d), (d,)))
    kw = {"E_max": 1e8, "rtol": 1e-9, "record_every": 1 << 30}

    def run(sl):
        _sync(device)
        t0 = time.perf_counter()
        res = integrate_to_blowup(Wv[sl], W1[sl], W2[sl], **kw)
        _sync(device)
        return time.perf_counter() - t0, res

    t_b, res = run(slice(None))
    steps = int(res.solution.n_accepted.sum())
    tries = int((res.solution.n_accepted + res.solution.n_rejected).sum())
    t_loop = sum(run(slice(b, b + 1))[0] for b in range(loop))
    n_loop = int(res.solution.n_accepted[:loop].sum())
    naive = t_loop / max(n_loop, 1) * steps  # per-step cost of the loop, extrapolated to the same work
    N = d * d + 2 * d + 1
    nbytes = tries * N * F64_BYTES * (2 * DP5_STAGES + DP5_STATE_RW)
    flops = tries * (DP5_STAGES * 5 * d * d + 2 * N * 28)
    out = {"B": B, "d": d, "seconds": t_b, "model_steps": steps, "throughput": steps / t_b,
           "unit": "model-steps/s", "naive_over_batched": naive / t_b}
    return out | _ratios(t_b, nbytes, flops, ceil)


def _full_model_flops(n, s, d) -> float:
    """FLOPs of one element's gradient: :func:`.backprop.flops_per_element` (forward and reverse mode in
    the association that never forms ``X WK``, ``X WV``; the cheapest we know)."""
    return float(flops_per_element(n, s, d))


def bench_full_model(device, n, s, d, B, loop, min_time, ceil) -> tuple[dict, dict]:
    """(b) Full-model gradient (:func:`.backprop.grad_exact`) and gradient-flow integration, batched vs a
    per-element loop.
    Bytes: parameters read, gradient written, data read once per call: 8 (2 B P + n s d)."""
    ds = make_data(DataConfig(n, s, d, seed=0), device=device)
    p = init_params(InitConfig(d=d, eps=0.3, B=B, seed=0), device=device)
    P = 4 * d * d + d
    t_b = _time(lambda: grad(p, ds.X, ds.y), device, min_time)

    def naive():
        for b in range(loop):
            grad(p.index(slice(b, b + 1)), ds.X, ds.y)

    t_n = _time(naive, device, min_time) / loop * B
    fl = _full_model_flops(n, s, d)
    by = F64_BYTES * (2 * B * P + n * s * d)
    g_rep = {"B": B, "d": d, "n": n, "s": s, "seconds_per_call": t_b, "throughput": B / t_b,
             "unit": "grads/s", "naive_over_batched": t_n / t_b} | _ratios(t_b, by, fl * B, ceil)

    def flow(pp):
        _sync(device)
        t0 = time.perf_counter()
        sol = integrate_flow(pp, ds, 2.0, rtol=1e-9, record=lambda t, z, i: {})
        _sync(device)
        return time.perf_counter() - t0, sol

    t_f, sol = flow(p)
    steps = int(sol.n_accepted.sum())
    tries = int((sol.n_accepted + sol.n_rejected).sum())
    t_loop = sum(flow(p.index(slice(b, b + 1)))[0] for b in range(loop))
    n_loop = int(sol.n_accepted[:loop].sum())
    f_rep = {"B": B, "d": d, "n": n, "s": s, "seconds": t_f, "model_steps": steps, "throughput": steps / t_f,
             "unit": "model-steps/s", "naive_over_batched": t_loop / max(n_loop, 1) * steps / t_f}
    f_rep |= _ratios(t_f, tries * DP5_STAGES * by / B + tries * (P + 1) * F64_BYTES * DP5_STATE_RW,
                     tries * DP5_STAGES * fl, ceil)
    return g_rep, f_rep


def bench_gong_training(device, seeds: int, loop: int, steps: int, ceil: dict) -> dict:
    """gong-2025 two-stage GD (reconstructed setting, ``numerics.gong.train``; seeds run in cache-sized
    chunks) batched over ``seeds`` against a loop of single-seed runs. Throughput: seed-steps per second.
    Bytes and FLOPs per seed-step: :func:`twostage.numerics.gong.cost.step_cost` (data read once per
    pass, two passes per fused step; multiply-add FLOPs of the score and gradient contractions)."""
    from twostage.numerics.gong.cost import step_cost
    from twostage.numerics.gong.setting import GongConfig
    from twostage.numerics.gong.stages import train

    cfg = GongConfig(steps=steps)
    run = lambda S, seed=0: train(cfg, S, seed=seed, record_every=steps, device=device, spectra=False)
    run(2)  # warm-up
    t0 = time.perf_counter()
    run(seeds)
    _sync(device)
    t_b = time.perf_counter() - t0
    t0 = time.perf_counter()
    for k in range(loop):
        run(1, seed=k)
    _sync(device)
    t_n = (time.perf_counter() - t0) / loop * seeds
    c = step_cost(cfg)
    work = seeds * steps
    out = {"B": seeds, "d": cfg.d_p + cfg.d_q, "seconds": t_b, "throughput": work / t_b,
           "unit": "seed-steps/s", "naive_over_batched": t_n / t_b}
    return out | _ratios(t_b, work * c["bytes"], work * c["flops"], ceil)


def run_bench(device="cpu", size: str = "small", on_row=None) -> dict:
    """Run every hot path once on ``device`` (str or torch.device) at ``size`` ('tiny' | 'small' | 'full').

    ``on_row(report)``, if given, is called with the report so far after the ceilings and after every row (a
    caller that may be stopped part-way, like ``scripts/device-check.sh``, keeps the rows already measured).
    """
    if size not in SIZES:
        raise ValueError(f"size must be one of {sorted(SIZES)}, got {size!r}")
    device = torch.device(device)
    c = SIZES[size]
    ceil = measure_ceilings(device, c["mm"], c["copy_mib"], c["min_time"])
    dev_name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    hot: dict[str, dict] = {}
    report = {"device": str(device), "device_name": dev_name, "size": size, "dtype": "float64",
              "torch": torch.__version__, "threads": torch.get_num_threads(), "ceilings": ceil,
              "hot_paths": hot}
    done = (lambda: on_row(report)) if on_row is not None else (lambda: None)
    done()
    hot["effective_rhs"] = bench_effective_rhs(device, c["d"], c["B"], c["loop"], c["min_time"], ceil)
    done()
    hot["effective_integration"] = bench_effective_integration(device, c["d"], c["B"], c["loop"], ceil)
    done()
    hot["fullmodel_grad"], hot["fullmodel_flow"] = bench_full_model(device, *c["full"], c["min_time"], ceil)
    done()
    hot["gong_training"] = bench_gong_training(device, *c["gong"], ceil)
    done()
    return report


LABELS = {"effective_rhs": "eff. rhs (7)", "effective_integration": "eff. to blow-up",
          "fullmodel_grad": "full grad", "fullmodel_flow": "full flow", "gong_training": "gong GD",
          "verify_suite": "verify suite (ci)", "audit": "audit (ci)"}


def _fmt(x: float) -> str:
    """Three significant digits, plain notation between 0.01 and 1e5."""
    if x is None or not math.isfinite(x):
        return "-"
    if 1e-2 <= abs(x) < 1e5:
        return f"{x:.{max(0, 2 - math.floor(math.log10(abs(x))))}f}"
    return f"{x:.2e}"


def print_report(report: dict, console) -> None:
    """Rich table: one row per hot path with throughput and the ratios; ceilings in the title."""
    from rich import box
    from rich.table import Table

    c = report["ceilings"]
    t = Table(box=box.SIMPLE_HEAD, pad_edge=False,
              title=f"twostage bench ({report['size']}, {report['device_name']}, {report['dtype']})\n"
                    f"copy {_fmt(c['copy_bandwidth_GBps'])} GB/s, matmul {_fmt(c['matmul_GFLOPs'])} GFLOP/s")
    t.caption = ("ratios: naive per-initialisation loop (verify suite: one worker) / batched; time / limit "
                 "(bytes, FLOPs, the larger of the two);\nfloor: the t/FLOPs of a program running at the "
                 "roofline (> 1: memory-bound, the FLOP limit is out of reach)")
    cols = ("hot path", "B x d", "throughput", "naive/batch", "t/bytes", "t/FLOPs", "floor", "t/roofline")
    for col in cols:
        t.add_column(col, justify="left" if col == "hot path" else "right", no_wrap=True)
    for name, r in report["hot_paths"].items():
        unit = r["unit"].split("-")[-1]
        t.add_row(LABELS.get(name, name), r.get("size_label") or f"{r['B']}x{r['d']}",
                  f"{_fmt(r['throughput'])} {unit}", _fmt(r["naive_over_batched"]),
                  _fmt(r["time_over_byte_roofline"]), _fmt(r["time_over_flop_roofline"]),
                  _fmt(r.get("flop_ratio_floor")), _fmt(r["time_over_roofline"]))
    console.print(t)
