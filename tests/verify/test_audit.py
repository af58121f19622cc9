"""``twostage audit`` and its formula mutations (issue 12, item 2): the mutations are the edits they say, the
audit catches a wrong formula on a checker that reads it, flags a checker that does not, resumes, and puts
``sensitivity`` beside ``margin`` in ``verify --json``. The whole audit is a command
(``twostage audit --paper P``), too slow for the suite; here a few cheap claims and synthetic checks."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
import sympy as sp

from twostage.runs import audit as audit_module
from twostage.runs.audit import AuditSettings, audit_claim, run_audit, summarise
from twostage.theory.claims import Claim, Kind, Provenance, load_all
from twostage.verify.check import Check, Context
from twostage.verify.judge import judge_bound
from twostage.verify.mutate import FormulaSpy, mutations, reads_formula, replace_at, sites
from twostage.verify.profiles import get_profile
from twostage.verify.verdict import Measurement, Status

E, E0, t = sp.symbols("E E0 t")
RICCATI = sp.Ge(E, (E0 ** sp.Rational(-1, 3) - t) ** -3)  # chen-luo-2025 Thm 1, eq. (11)
P = "chen-luo-2025"


def _claim(formula=RICCATI) -> Claim:
    return Claim(id=f"{P}/demo/riccati", paper=P, ref="Thm 1, eq. (11)", provenance=Provenance.PAPER,
                 kind=Kind.BOUND, statement="E(t) >= (E0^(-1/3) - t)^(-3)", formula=formula)


def _simulate(draw, ctx):
    """The exact solution of the balanced case with 20% room above the bound (E0 = 1)."""
    ts = np.linspace(0.0, 0.5, 11)
    return ts, 1.2 * (1.0 - ts) ** -3


def _reads(claim, draw, data):
    ts, e = data
    return judge_bound(claim.formula, {E: e, E0: 1, t: ts}, tol=1e-9, exact=(t, E0))


def _blind(claim, draw, data):
    return Measurement(Status.HOLDS, 0.2)


READS = Check(f"{P}/demo/riccati", _reads, [0], _simulate)
BLIND = Check(f"{P}/demo/riccati", _blind, [0], _simulate)
CTX = Context(get_profile("ci"))


def test_mutations_are_the_stated_edits():
    consts, exps, terms = sites(RICCATI)
    assert sorted(str(replace_at(RICCATI, p, sp.Integer(7)).rhs) for p in exps) == \
        sorted(["(-t + E0**(-1/3))**7", "(E0**7 - t)**(-3)"])
    ms = mutations(RICCATI, ladder=(sp.Rational(1, 10),))
    labels = {m.label for m in ms}
    assert {"relation reversed <=", "relation negated <", "shift exponent -3 +0.1", "drop term -t"} <= labels
    scaled = next(m for m in ms if m.kind == "scale" and m.sign > 0)
    assert scaled.formula == sp.Ge(E, (E0 ** sp.Rational(-1, 3) - sp.Rational(11, 10) * t) ** -3)
    assert all(m.formula != RICCATI for m in ms)
    assert mutations(None) == [] and mutations(sp.Eq(E, 1))[0].label == "relation negated !="


def test_each_relation_of_a_conjunction_is_edited_on_its_own():
    both = sp.And(RICCATI, sp.Eq(t, 0))
    edits = {m.label: m.formula for m in mutations(both, ladder=()) if m.kind in ("relation", "weaken")}
    k = list(both.args).index(RICCATI) + 1
    assert edits[f"relation [{k}] reversed <="] == sp.And(sp.Le(RICCATI.lhs, RICCATI.rhs), sp.Eq(t, 0))
    assert edits[f"relation [{3 - k}] negated !="] == sp.And(RICCATI, sp.Ne(t, 0))
    assert len(edits) == 3 + 1 + 2  # >=: reversed, negated, equality; ==: negated, weakened both ways


def test_audit_catches_mutations_of_a_checker_that_reads_its_formula(tmp_path):
    s = summarise(_claim(), _state(READS, tmp_path))
    assert s["flag"] == "ok" and s["status"] == "holds"
    assert "relation reversed <=" in s["caught"] and s["sensitivity"] is not None
    # 20% room above the bound at t = 1/2: the coefficient of t scaled by 1.1 crosses it, by 1.01 does not
    assert s["sensitivity"] == 0.1
    assert not s["inconsistent"]


def test_audit_flags_a_formula_blind_checker(tmp_path):
    s = summarise(_claim(), _state(BLIND, tmp_path))
    assert s["flag"] == "formula-blind" and s["caught"] == [] and s["sensitivity"] is None


def _state(check, folder):
    settings = AuditSettings("ci", 0, quick=False)
    audit_claim(_claim(), check, CTX, settings, folder)
    return json.loads((folder / "chen-luo-2025__demo__riccati.json").read_text())


def test_audit_resumes_from_its_file(tmp_path, monkeypatch):
    calls = []

    def counting(claim, draw, data):
        calls.append(claim.formula)
        return _reads(claim, draw, data)

    check = Check(f"{P}/demo/riccati", counting, [0], _simulate)
    settings = AuditSettings("ci", 0, quick=True)
    first = audit_claim(_claim(), check, CTX, settings, tmp_path)
    n = len(calls)
    assert audit_claim(_claim(), check, CTX, settings, tmp_path) == first and len(calls) == n  # nothing rerun
    changed = _claim(sp.Ge(E, (E0 ** sp.Rational(-1, 3) - t) ** -2))
    audit_claim(changed, check, CTX, settings, tmp_path)
    assert len(calls) > n  # a changed formula is audited afresh
    n = len(calls)
    monkeypatch.setattr(audit_module, "_code", lambda: "another-version")
    audit_claim(changed, check, CTX, settings, tmp_path)
    assert len(calls) > n  # so is one measured by other code


def test_a_dropped_term_is_judged_not_a_key_error():
    """A judge addresses the formula's symbols by name; a mutation that drops a term (and its symbol) is
    judged on the edited formula (measured: thm1/tstar-upper gave KeyError 'E_t0' before)."""
    from twostage.verify.checks.chen_luo.elements import symbols_of

    def judge(claim, draw, data):
        ts, e = data
        s = symbols_of(claim)
        return judge_bound(claim.formula, {s["E"]: e, s["E0"]: 1, s["t"]: ts}, tol=1e-9,
                           exact=(s["t"], s["E0"]))

    check = Check(f"{P}/demo/riccati", judge, [0], _simulate)
    assert check(CTX, _claim()).status is Status.HOLDS
    for m in mutations(RICCATI):
        if m.kind == "drop":
            assert check(CTX, _claim(m.formula)).status.value in ("holds", "violated", "undecided"), m.label
    # E >= (E0^(-1/3) - t)^(-3) without E0 (its symbol gone) and with E far below it: judged, violated
    no_e0 = sp.Ge(E, (2 - t) ** -3)
    assert check(CTX, _claim(no_e0)).status is Status.HOLDS
    assert check(CTX, _claim(sp.Ge(E, 8 * (1 - t) ** -3))).status is Status.VIOLATED


def test_spy_tells_whether_a_checker_reads_the_formula():
    assert reads_formula(READS, CTX, _claim()) and not reads_formula(BLIND, CTX, _claim())
    assert FormulaSpy(_claim()).id == f"{P}/demo/riccati"


def test_audit_of_real_claims_and_sensitivity_in_verify_json(tmp_path):
    """The CI subset: two cheap real claims, through ``run_audit`` and the ``verify --json`` field."""
    from twostage.cli import main
    from twostage.verify.checks import load_checkers

    ids = [f"{P}/thm1/tstar-upper", "gong-2025/earlier/K1-bound"]
    reg, checks = load_all(), load_checkers()
    claims = [reg.get(i) for i in ids]
    ctx = Context(dataclasses.replace(get_profile("ci"), examples=2))
    rows, folder = run_audit(claims, checks, ctx, AuditSettings("ci", 0, quick=True), tmp_path)
    by = {r["id"]: r for r in rows}
    assert by[ids[0]]["caught"], by[ids[0]]  # a flipped relation of a bound judged in ball arithmetic
    assert (folder / "audit.txt").read_text().count("\n") == len(ids) + 2
    out = tmp_path / "v.json"
    assert main(["--results", str(tmp_path), "verify", "--claim", ids[1], "--json", str(out)]) in (0, 1)
    rec = json.loads(out.read_text())["claims"][0]
    assert rec["flag"] == by[ids[1]]["flag"] and "sensitivity" in rec and "margin" in rec


@pytest.mark.parametrize("bad", [sp.true, sp.false, E + t])
def test_a_check_given_an_odd_formula_gives_a_verdict(bad):
    m = READS(CTX, _claim(bad))
    assert m.status in (Status.UNDECIDED, Status.VIOLATED)


EDITED_SHAPES = ["chen-luo-2025/def4/nondegenerate-as",   # was ValueError: the formula must define D1 and D2
                 "chen-luo-2025/prop8/energy-upper-38",   # was StopIteration: no cos Theta_2 left
                 "chen-luo-2025/prop8/upper-after-T3"]    # was KeyError: 't' dropped


@pytest.mark.slow
@pytest.mark.parametrize("claim_id", EDITED_SHAPES)
def test_every_edit_of_these_formulas_gets_a_verdict_not_an_error(claim_id):
    """The quick audit of every claim found checkers that raised on an edited formula they could not read
    (13 claims, 69 edits); such a formula is ``undecided`` with the reason, never an internal error."""
    from twostage.verify.checks import load_checkers

    claim = load_all().get(claim_id)
    check = load_checkers()[claim_id]
    ctx = Context(dataclasses.replace(get_profile("ci"), examples=2, shrink=False))
    for m in mutations(claim.formula, ladder=()):
        r = check(ctx, dataclasses.replace(claim, formula=m.formula))
        assert r.status.value in ("holds", "violated", "undecided", "not-applicable"), m.label
