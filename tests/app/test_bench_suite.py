"""The verify-suite entry of ``twostage bench`` (verify/bench_suite.py): structure, agreement check, CLI."""

import math

import pytest

from twostage.bench import suite as bench_suite
from twostage.bench.suite import bench_verify_suite, suite_claims
from twostage.cli import main
from twostage.verify.verdict import Status

pytestmark = pytest.mark.xdist_group("spawn")
CEIL = {"matmul_GFLOPs": 10.0, "copy_bandwidth_GBps": 10.0}
ONE = ("gong-2025/setting/gd-updates",)


def test_suites_name_registered_claims():
    assert [c.id for c in suite_claims("small")] == list(bench_suite.SUITES["small"])
    assert len(suite_claims("full")) > 60  # every claim of both papers


def test_one_claim_end_to_end(monkeypatch):
    monkeypatch.setitem(bench_suite.SUITES, "small", ONE)
    r = bench_verify_suite("small", "cpu", CEIL, workers=2)
    assert r["B"] == 1 and r["unit"] == "claims/s" and r["failed"] == 0
    assert r["verdicts_agree"] is True
    assert r["flops"] > 0  # the SymPy-vs-autograd check dispatches real matmuls
    for k in ("throughput", "naive_over_batched", "time_over_flop_roofline", "seconds", "seconds_naive"):
        assert math.isfinite(r[k]) and r[k] > 0, k
    assert r["time_over_byte_roofline"] is None  # no byte model claimed
    assert r["slowest"][0]["claim"] == ONE[0]


def test_disagreeing_passes_are_reported(monkeypatch):
    """Mutation: a batched pass whose verdict differs from the one-worker pass must not read as agreeing."""
    monkeypatch.setitem(bench_suite.SUITES, "small", ONE)
    real = bench_suite._timed_pass
    calls = []

    def sabotaged(claims, ctx, workers):
        sec, vs = real(claims, ctx, workers)
        calls.append(workers)
        if len(calls) == 2:
            vs = [v.__class__(v.claim_id, Status.VIOLATED, v.margin, v.examples) for v in vs]
        return sec, vs

    monkeypatch.setattr(bench_suite, "_timed_pass", sabotaged)
    monkeypatch.setattr(bench_suite, "_count_in_fresh_process", lambda *a: (0, 0.0))
    r = bench_verify_suite("small", "cpu", CEIL, workers=1)
    assert r["verdicts_agree"] is False and r["time_over_flop_roofline"] is None


def test_bench_cli_rejects_bad_workers(capsys):
    assert main(["bench", "--workers", "0"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--workers" in err[0]


def test_audit_entry_times_one_audit_pass_and_says_what_it_found(monkeypatch):
    from twostage.bench import audit as bench_audit_module
    from twostage.bench.hot_paths import LABELS

    monkeypatch.setitem(bench_audit_module.SUITES, "small", ("gong-2025/derived/init-gradient",))
    r = bench_audit_module.bench_audit("small", "cpu")
    assert r["B"] == 1 and r["unit"] == "checks/s" and r["quick"] is True
    assert r["mutations"] > 0 and 0 < r["caught"] <= r["mutations"]  # its formula's constants are caught
    assert r["flags"] == {"ok": 1} and math.isfinite(r["throughput"]) and r["throughput"] > 0
    assert r["naive_over_batched"] is None and "audit" in LABELS
