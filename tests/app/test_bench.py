"""The 'small' benchmark runs and reports ratios with the documented structure (no timing assertions)."""

import io
import json
import math

import pytest
from rich.console import Console

from twostage.bench.hot_paths import LABELS, print_report, run_bench

HOT = ("effective_rhs", "effective_integration", "fullmodel_grad", "fullmodel_flow")
RATIOS = ("naive_over_batched", "time_over_byte_roofline", "time_over_flop_roofline", "time_over_roofline")


SEEN: list[list[str]] = []  # the rows present at each on_row call of the module's bench run


@pytest.fixture(scope="module")
def report():
    return run_bench("cpu", size="small", on_row=lambda rep: SEEN.append(list(rep["hot_paths"])))


def test_report_structure_and_ratios(report):
    assert report["size"] == "small" and report["device"] == "cpu" and report["dtype"] == "float64"
    c = report["ceilings"]
    assert c["copy_bandwidth_GBps"] > 0 and c["matmul_GFLOPs"] > 0
    assert set(report["hot_paths"]) == set(HOT) | {"gong_training"}
    for name in (*HOT, "gong_training"):
        r = report["hot_paths"][name]
        for k in (*RATIOS, "throughput", "bytes", "flops"):
            assert isinstance(r[k], float | int) and math.isfinite(r[k]) and r[k] > 0, (name, k, r[k])
        # the roofline uses the larger of the two limits, so its ratio is the smaller one
        assert r["time_over_roofline"] == pytest.approx(min(r["time_over_byte_roofline"],
                                                            r["time_over_flop_roofline"]))
    assert report["hot_paths"]["effective_integration"]["model_steps"] > 0
    json.dumps(report)  # serialisable for --json


def test_print_report_renders_every_hot_path(report):
    buf = io.StringIO()
    print_report(report, Console(file=buf, width=200))
    out = buf.getvalue()
    for name in (*HOT, "gong_training"):
        assert LABELS[name] in out
        r = report["hot_paths"][name]
        assert f"{r['B']}x{r['d']}" in out
    assert "GB/s" in out and "GFLOP/s" in out


def test_bad_size():
    with pytest.raises(ValueError, match="size"):
        run_bench("cpu", size="huge")


def test_flop_floor_is_the_roofline_programs_flop_ratio(report):
    """t/FLOPs = t/roofline x floor; floor >= 1; for the matrix-vector field (7) it is the intensity gap."""
    c = report["ceilings"]
    for name in (*HOT, "gong_training"):
        r = report["hot_paths"][name]
        assert r["flop_ratio_floor"] >= 1.0
        assert r["time_over_flop_roofline"] == pytest.approx(r["time_over_roofline"] * r["flop_ratio_floor"])
    r = report["hot_paths"]["effective_rhs"]
    d = r["d"]
    gap = (16 * (d * d + 2 * d) / c["copy_bandwidth_GBps"]) / (5 * d * d / c["matmul_GFLOPs"])
    assert r["flop_ratio_floor"] == pytest.approx(max(1.0, gap))


def test_ratios_by_hand():
    from twostage.bench.hot_paths import _ratios

    ceil = {"copy_bandwidth_GBps": 10.0, "matmul_GFLOPs": 40.0}
    r = _ratios(2e-3, 1e7, 4e7, ceil)  # byte limit 1 ms, FLOP limit 1 ms
    assert r["time_over_byte_roofline"] == pytest.approx(2.0) and r["flop_ratio_floor"] == pytest.approx(1.0)
    r = _ratios(2e-3, 4e7, 4e7, ceil)  # byte limit 4 ms: memory-bound, floor 4
    assert r["time_over_roofline"] == pytest.approx(0.5) and r["flop_ratio_floor"] == pytest.approx(4.0)


def test_on_row_reports_every_row_as_soon_as_it_is_measured(report):
    """scripts/device-check.sh keeps the rows of a bench stopped part-way: on_row sees them one by one."""
    assert SEEN[0] == [] and SEEN[-1] == list(report["hot_paths"])
    assert [len(s) for s in SEEN] == [0, 1, 2, 4, 5]  # ceilings, rhs, integration, grad + flow, gong
