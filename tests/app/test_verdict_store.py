"""The verdict store cannot lose verdicts (issue 13): JSON and Parquet committed together under a lock, a
corrupt file moved aside *and reported* with the other format used to recover, result files readable by
others as the umask allows, a full disk reported in one line after everything that could be kept was kept.
"""

import json
import multiprocessing
import os
import stat
from pathlib import Path

import pytest

from twostage.cli import main
from twostage.runs.store import atomic_write_bytes, write_run
from twostage.runs.suite import load_verdicts, save_verdicts
from twostage.verify.verdict import Status, Verdict

BASE = "chen-luo-2025/demo/base"


def _verdict(cid: str, margin: float = 0.5) -> Verdict:
    return Verdict(cid, Status.HOLDS, margin, 3, {"seed": 1}, "relative slack > 1e-9", 0.1)


def _store_twelve(root: Path) -> list[str]:
    ids = [f"chen-luo-2025/demo/stored-{i}" for i in range(12)]
    save_verdicts(root, [_verdict(i) for i in ids], "ci", seed=0, device="cpu")
    return ids


def test_corrupt_json_with_intact_parquet_loses_nothing(demo_inproc, results_dir, capsys):
    """Before: ``verify --claim X`` after a corrupt verdicts.json silently renamed it and rewrote both files
    with one claim (12 stored verdicts lost)."""
    demo_inproc()
    ids = _store_twelve(results_dir)
    (results_dir / "verdicts.json").write_text('{"claims": {"x": ')
    capsys.readouterr()
    assert main(["--results", str(results_dir), "verify", "--claim", BASE]) == 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "verdicts.json is corrupt" in err[0] and "moved aside" in err[0]
    assert "recovered 12 verdicts from verdicts.parquet" in err[0]
    stored = json.loads((results_dir / "verdicts.json").read_text())["claims"]
    assert set(stored) == {*ids, BASE}
    assert stored[ids[0]]["margin"] == 0.5 and stored[ids[0]]["worst"] == {"seed": 1}  # whole records
    aside = list(results_dir.glob("verdicts.json.corrupt-*"))
    assert len(aside) == 1 and aside[0].read_text() == '{"claims": {"x": '  # kept for inspection
    import pandas as pd

    assert set(pd.read_parquet(results_dir / "verdicts.parquet")["id"]) == {*ids, BASE}  # committed together


def test_corrupt_parquet_is_reported_and_rewritten(results_dir, capsys):
    ids = _store_twelve(results_dir)
    (results_dir / "verdicts.parquet").write_bytes(b"PAR1 not really")
    save_verdicts(results_dir, [_verdict("chen-luo-2025/demo/new")], "ci")
    err = capsys.readouterr().err
    assert "verdicts.parquet" not in err  # the JSON is the source: nothing to recover, the Parquet is rebuilt
    import pandas as pd

    assert len(pd.read_parquet(results_dir / "verdicts.parquet")) == len(ids) + 1


def test_unreadable_parquet_without_json_warns(demo_inproc, results_dir, capsys):
    """Before: everything was shown as "never run" without a word."""
    demo_inproc()
    (results_dir / "verdicts.parquet").write_bytes(b"garbage")
    assert main(["--results", str(results_dir), "claims"]) == 0
    cap = capsys.readouterr()
    (line,) = cap.err.strip().splitlines()
    assert "verdicts.parquet cannot be read" in line and "verdicts.json is missing" in line
    assert "never run" in cap.out


def test_missing_json_is_recovered_from_parquet(results_dir, capsys):
    ids = _store_twelve(results_dir)
    (results_dir / "verdicts.json").unlink()
    assert set(load_verdicts(results_dir)) == set(ids)
    assert "recovered 12 verdicts" in capsys.readouterr().err


def test_invalid_status_is_flagged_alike_by_claims_and_report(demo_inproc, results_dir, capsys):
    """Before: ``claims`` showed ``bogus`` as a status, ``report`` refused to run."""
    demo_inproc()
    save_verdicts(results_dir, [_verdict(BASE)], "ci")
    data = json.loads((results_dir / "verdicts.json").read_text())
    data["claims"][BASE]["status"] = "bogus"
    (results_dir / "verdicts.json").write_text(json.dumps(data))
    for command in (["claims"], ["claims", "--json"], ["report", "--out", str(results_dir / "rep")]):
        assert main(["--results", str(results_dir), *command]) == 0
        cap = capsys.readouterr()
        (line,) = cap.err.strip().splitlines()
        assert f"claim '{BASE}' has invalid status 'bogus'" in line
        assert "bogus" not in cap.out
    assert "bogus" not in (results_dir / "rep" / "index.html").read_text()
    assert json.loads((results_dir / "verdicts.json").read_text())["claims"][BASE]["status"] == "bogus"


def _writer(root: str, tag: str, n: int, barrier) -> None:
    barrier.wait()
    for i in range(n):
        save_verdicts(Path(root), [_verdict(f"chen-luo-2025/demo/{tag}-{i}")], "ci")


def test_concurrent_writers_lose_no_update(tmp_path):
    """Two processes merging verdicts into one store at the same time: every verdict of both survives."""
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(2)
    n = 12
    procs = [ctx.Process(target=_writer, args=(str(tmp_path), tag, n, barrier)) for tag in ("a", "b")]
    for p in procs:
        p.start()
    for p in procs:
        p.join(300)
        assert p.exitcode == 0
    stored = json.loads((tmp_path / "verdicts.json").read_text())
    assert len(stored["claims"]) == 2 * n
    assert stored["generation"] == 2 * n  # one commit per save, none overwritten
    import pandas as pd

    assert len(pd.read_parquet(tmp_path / "verdicts.parquet")) == 2 * n


@pytest.fixture
def umask():
    def set_mask(mask):
        old = os.umask(mask)
        restore.append(old)

    restore: list[int] = []
    yield set_mask
    for old in reversed(restore):
        os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("mask, file_mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_result_files_follow_the_umask(tmp_path, umask, mask, file_mode):
    """Before: every atomically written file was 0600 (``mkstemp``), whatever the umask."""
    umask(mask)
    save_verdicts(tmp_path, [_verdict(BASE)], "ci")
    d = write_run(tmp_path, "demo-exp", {"a": 1}, {"t": [0.0, 1.0], "y": [1.0, 2.0]}, {},
                  extra_files={"figure.png": b"\x89PNG"})
    atomic_write_bytes(tmp_path / "report" / "index.html", b"<html></html>")
    files = [tmp_path / "verdicts.json", tmp_path / "verdicts.parquet", tmp_path / "report" / "index.html",
             *(p for p in d.iterdir())]
    assert {f.name: oct(_mode(f)) for f in files} == {f.name: oct(file_mode) for f in files}
    assert _mode(d) == 0o777 & ~mask


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_full_disk_is_one_line_exit_2_and_keeps_what_it_can(demo_inproc, results_dir, capsys, one_line_error):
    """Before: a full disk was an internal error (exit 3). ``/dev/full`` answers every write with ENOSPC."""
    demo_inproc()
    rc = main(["--results", str(results_dir), "verify", "--claim", BASE, "--json", "/dev/full"])
    cap = capsys.readouterr()
    one_line_error(rc, cap.err, 2, "cannot write to /dev/full: No space left on device", cap.out)
    assert BASE in cap.out  # the table was still printed ...
    assert load_verdicts(results_dir)[BASE]["status"] == "holds"  # ... and the store still committed


def test_full_disk_in_the_store_keeps_the_old_pair(results_dir, monkeypatch):
    from twostage.errors import StoreError
    from twostage.runs import store

    ids = _store_twelve(results_dir)
    before = {p.name: p.read_bytes() for p in results_dir.iterdir() if p.is_file()}
    real = os.fsync
    calls = []

    def full(fd):  # the second file of the commit hits a full disk
        calls.append(fd)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        return real(fd)

    monkeypatch.setattr(store.os, "fsync", full)
    with pytest.raises(StoreError, match="No space left on device"):
        save_verdicts(results_dir, [_verdict("chen-luo-2025/demo/new")], "ci")
    monkeypatch.undo()
    after = {p.name: p.read_bytes() for p in results_dir.iterdir() if p.is_file()}
    assert after == before  # neither file renamed, no temporary left behind
    assert set(load_verdicts(results_dir)) == set(ids)


def test_json_result_is_written_before_a_store_that_cannot_be(demo_inproc, results_dir, tmp_path, capsys,
                                                              one_line_error):
    """Before: a failure after the table (a huge seed then) left the ``--json`` file unwritten. Here the
    store cannot be committed (its Parquet path is a directory): the ``--json`` result is there anyway, the
    error is one line (exit 2) and the stored pair is left as it was."""
    demo_inproc()
    save_verdicts(results_dir, [_verdict("chen-luo-2025/demo/nan")], "ci")
    (results_dir / "verdicts.parquet").unlink()
    (results_dir / "verdicts.parquet").mkdir()
    before = (results_dir / "verdicts.json").read_bytes()
    out = tmp_path / "v.json"
    rc = main(["--results", str(results_dir), "verify", "--claim", BASE, "--json", str(out)])
    cap = capsys.readouterr()
    one_line_error(rc, cap.err, 2, "verdicts.parquet: it is a directory", cap.out)
    assert [c["id"] for c in json.loads(out.read_text())["claims"]] == [BASE]
    assert (results_dir / "verdicts.json").read_bytes() == before
    assert not [p for p in results_dir.iterdir() if p.name.endswith(".tmp")]
