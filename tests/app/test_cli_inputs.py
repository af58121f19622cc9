"""Exit codes and inputs (issue 13): every user mistake is exit 2 with one line, before any computation is
thrown away; 3 is for bugs; ``--json -`` is standard output; a closed pipe ends quietly; options list their
valid values; ``--claim`` selects a group by prefix; progress people can follow; claim ids intact in 80
columns.
"""

import io
import json
import os
import subprocess
import sys

import pytest

from twostage.cli import main

BASE = "chen-luo-2025/demo/base"


def _run(results, *argv):
    return main(["--results", str(results), *argv])


@pytest.mark.parametrize("argv, needle", [
    (["verify", "--seed", str(2**64)], "--seed: must be an integer in [0, 2**32), got 18446744073709551616"),
    (["verify", "--seed", "-1"], "--seed: must be an integer in [0, 2**32), got -1"),
    (["run", "stage1-blowup", "--seed", "-5"], "--seed: must be an integer in [0, 2**32), got -5"),
    (["run", "stage1-blowup", "--seed", str(2**32)], "must be an integer in [0, 2**32)"),
    (["verify", "--workers", "0"], "--workers must be a positive integer, got 0"),
    (["bench", "--workers", "0"], "--workers must be a positive integer, got 0"),
    (["run", "stage1-blowup", "--address", "tcp://127.0.0.1:8786"], "run does not use --address"),
    (["run", "stage1-blowup", "--workers", "2"], "run does not use --workers"),
    (["verify", "--claim", "chen-luo-2025/demo"], "unknown claim"),  # no such group in the real registry
    (["verify", "--claim", "x" * 100_000], "unknown claim 'xxxxxxxx"),
    (["verify", "--paper", "y" * 100_000], "unknown paper"),
    (["verify", "--seed", "9" * 100_000], "--seed: must be an integer"),
])
def test_user_mistakes_are_one_line_exit_2(argv, needle, results_dir, capsys, one_line_error):
    rc = _run(results_dir, *argv)
    cap = capsys.readouterr()
    one_line_error(rc, cap.err, 2, needle, cap.out)
    assert len(cap.err) < 300  # a 100,000-character value is not echoed whole
    assert not (results_dir / "verdicts.json").exists()


def test_output_that_is_a_directory_fails_before_the_work(demo_inproc, results_dir, tmp_path, capsys,
                                                          one_line_error):
    """Before: ``--json DIR`` failed after the computation, whose result was lost (exit 3)."""
    demo_inproc()
    for argv in (["verify", "--claim", BASE, "--json", str(tmp_path)], ["latex", "--out", str(tmp_path)],
                 ["bench", "--json", str(tmp_path)],
                 ["run", "stage1-blowup", "--out", str(results_dir / "v")]):
        if argv[0] == "run":
            (results_dir / "v").write_text("a file")
        rc = _run(results_dir, *argv)
        cap = capsys.readouterr()
        one_line_error(rc, cap.err, 2, "cannot write to", cap.out)
        assert "verdicts (profile" not in cap.out and not (results_dir / "verdicts.json").exists()


def test_json_dash_is_stdout_and_the_table_goes_to_stderr(demo_inproc, results_dir, capsys):
    """Before: ``--json -`` created a file named ``-``."""
    demo_inproc()
    assert _run(results_dir, "verify", "--claim", BASE, "--json", "-") == 0
    cap = capsys.readouterr()
    payload = json.loads(cap.out)
    assert [c["id"] for c in payload["claims"]] == [BASE] and payload["claims"][0]["status"] == "holds"
    assert "verdicts (profile ci" in cap.err and not os.path.exists("-")


def test_claim_prefix_selects_a_group(demo_inproc, results_dir, capsys):
    demo_inproc()
    assert _run(results_dir, "verify", "--claim", "chen-luo-2025/demo") == 1  # demo/nan: numerical failure
    out = capsys.readouterr().out
    for name in ("base", "nan", "slow"):
        assert f"chen-luo-2025/demo/{name}" in out
    assert _run(results_dir, "verify", "--claim", "chen-luo-2025/dem") == 2  # a prefix ends at a '/'
    assert "unknown claim 'chen-luo-2025/dem'" in capsys.readouterr().err


def test_progress_in_a_pipe_is_one_line_per_claim(demo_inproc, results_dir, capsys):
    """Before: nothing was printed until the end when stdout was not a terminal."""
    demo_inproc()
    _run(results_dir, "verify", "--claim", "chen-luo-2025/demo")
    lines = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("[")]
    assert [ln.split()[:3] for ln in lines] == [["[1/3]", "holds", BASE],
                                               ["[2/3]", "numerical-failure", "chen-luo-2025/demo/nan"],
                                               ["[3/3]", "holds", "chen-luo-2025/demo/slow"]]
    assert all(ln.endswith("s") for ln in lines)


def test_live_progress_names_the_claim_and_eta():
    from rich.console import Console

    from twostage.progress import Progress

    con = Console(file=io.StringIO(), force_terminal=True, width=120)
    with Progress(con.file, total=4, live=True, console=con) as p:
        p.start(BASE)
        p._bar.refresh()
        shown = con.file.getvalue()
    assert BASE in shown and "0/4" in shown and "ETA" in shown


def test_claim_ids_are_not_broken_in_80_columns():
    from rich.console import Console

    from twostage.progress import claim_table
    from twostage.theory.claims import load_all

    claims = load_all().claims()
    t = claim_table("claims", ["id", "ref", "provenance", "kind", "status"], [c.id for c in claims])
    for c in claims:
        t.add_row(c.id, c.ref, c.provenance.value, c.kind.value, "numerical-failure")
    con = Console(file=io.StringIO(), width=80)
    con.print(t)
    text = con.file.getvalue()
    assert max(len(ln) for ln in text.splitlines()) <= 80
    assert all(any(c.id in ln for ln in text.splitlines()) for c in claims)


def test_help_lists_valid_values(capsys):
    from twostage import PAPERS
    from twostage.experiments import MODULES
    from twostage.options import EXPERIMENTS, KINDS, PROFILES
    from twostage.runs import executor
    from twostage.verify.profiles import PROFILES as REAL_PROFILES

    assert set(PROFILES) == set(REAL_PROFILES) and KINDS == executor.KINDS
    assert set(EXPERIMENTS) == set(MODULES)
    for command, values in (("verify", [*PAPERS, *PROFILES, *KINDS, "cuda:N", "2**32", "--force"]),
                            ("run", [*EXPERIMENTS, *PROFILES, "cpu"]), ("claims", PAPERS),
                            ("bench", ["small", "full"])):
        assert main([command, "--help"]) == 0
        text = " ".join(capsys.readouterr().out.split()).replace("- ", "-")  # argparse wraps at hyphens
        for v in values:
            assert v in text, (command, v)
        assert "==SUPPRESS==" not in text
        if command == "run":  # accepted only to be refused with a reason; not offered
            assert "--address" not in text and "--workers" not in text


def test_binary_lm_text_is_refused(tmp_path, monkeypatch, capsys, one_line_error):
    """Before: a binary file as TWOSTAGE_LM_TEXT trained happily (decoded with replacement characters)."""
    blob = tmp_path / "model.bin"
    blob.write_bytes(bytes(range(256)) * 64)
    monkeypatch.setenv("TWOSTAGE_LM_TEXT", str(blob))
    rc = main(["--results", str(tmp_path / "r"), "run", "lm-text"])
    cap = capsys.readouterr()
    one_line_error(rc, cap.err, 2, "is not UTF-8 text (invalid byte at offset 128)", cap.out)
    nul = tmp_path / "nul.txt"
    nul.write_bytes(b"some words\n\0\0\0 more")
    monkeypatch.setenv("TWOSTAGE_LM_TEXT", str(nul))
    rc = main(["--results", str(tmp_path / "r"), "run", "lm-text"])
    cap = capsys.readouterr()
    one_line_error(rc, cap.err, 2, "is not text (NUL byte at offset 11)", cap.out)


def test_lm_text_hash_follows_the_corpus_content(tmp_path):
    """Before: the config hash used the corpus path, so a changed corpus overwrote the old result."""
    from twostage.experiments.chen_luo_lm import lm_config, text_digest
    from twostage.runs.store import config_hash

    corpus = tmp_path / "wiki.raw"
    corpus.write_text("the cat sat\n", encoding="utf-8")
    a = config_hash(lm_config("ci", 0, 100, str(corpus), text_digest(corpus)))
    corpus.write_text("the dog sat\n", encoding="utf-8")
    b = config_hash(lm_config("ci", 0, 100, str(corpus), text_digest(corpus)))
    assert a != b


def test_gpt2_dir_enters_the_hash_by_content(tmp_path, monkeypatch):
    from twostage.experiments import gong_realdata as gr

    d = tmp_path / "gpt2"
    d.mkdir()
    (d / "config.json").write_text("{}")
    first = gr._tree_sha(d)
    (d / "config.json").write_text('{"n_layer": 12}')
    assert gr._tree_sha(d) != first


@pytest.mark.parametrize("argv", [["claims", "--json"], ["claims"]])
def test_closed_pipe_exits_quietly(tmp_path, argv):
    """Before: ``twostage claims --json | head`` ended with a BrokenPipeError traceback and exit 3. Here the
    reader is gone before the first byte is written (as ``head`` is after its lines)."""
    r, w = os.pipe()
    proc = subprocess.Popen([sys.executable, "-m", "twostage", "--results", str(tmp_path), *argv], stdout=w,
                            stderr=subprocess.PIPE, text=True)
    os.close(w)
    os.close(r)
    _, err = proc.communicate(timeout=300)
    assert (proc.returncode, err) == (0, "")


def test_exit_codes_are_documented():
    from twostage.layout import ROOT

    readme = (ROOT / "README.md").read_text()
    para = readme[readme.index("Exit codes:"):].split("\n\n")[0]
    for code in ("`0`", "`1`", "`2`", "`3`", "`130`"):
        assert code in para


@pytest.mark.slow
def test_cached_verdicts_are_marked_and_force_judges_again(demo, tmp_path):
    """Before: a verdict reused from the task store showed its old seconds, unmarked; no ``--force``."""
    log = tmp_path / "log"
    first = demo("verify", "--paper", "chen-luo-2025", "--workers", "1", DEMO_LOG=log)
    assert first.returncode == 1 and sorted(log.read_text().split()) == ["base", "nan", "slow"]
    assert "(cached)" not in first.stdout
    log.unlink()
    again = demo("verify", "--paper", "chen-luo-2025", "--workers", "1", DEMO_LOG=log)
    assert again.returncode == 1 and not log.exists()  # nothing judged again
    lines = [ln.split() for ln in again.stdout.splitlines() if ln.startswith("[")]
    assert sorted(ln[1:4] for ln in lines) == [["holds", "(cached)", BASE],
                                              ["holds", "(cached)", "chen-luo-2025/demo/slow"],
                                              ["numerical-failure", "(cached)", "chen-luo-2025/demo/nan"]]
    rows = [ln.split() for ln in again.stdout.splitlines()
            if ln.strip().startswith("chen-luo-2025/demo/") and ln.split()[1] == "Demo"]  # table rows
    assert len(rows) == 3 and all(r[-1] == "cached" for r in rows)  # the table's seconds column
    forced = demo("verify", "--paper", "chen-luo-2025", "--workers", "1", "--force", DEMO_LOG=log)
    assert forced.returncode == 1 and sorted(log.read_text().split()) == ["base", "nan", "slow"]
    assert "cached" not in forced.stdout
