"""Resumable ``twostage run`` training (issue 13): a run killed mid-training resumes from its checkpoint,
says "resuming at step k", and ends with exactly the results of an uninterrupted run.

Before: only ``stage1-blowup`` resumed; a killed long run left nothing. The training loops of
``anchor-function``/``lm-text`` (``numerics/chen_luo/lmtrain.py``) and ``counterfact``/``rank-reduction``
(``numerics/gong/realdata.py``) take a :class:`~twostage.runs.checkpoint.Checkpointer`; these tests train
tiny models so that a kill, a resume and a clean run take seconds. The SIGKILL test kills a real process at
a fixed step (it kills itself: no timing race); the mutation tests show a checkpoint that leaves out a
random state does change the results, so the equality asserted here can fail.
"""

import json
import os
import signal
import subprocess
import sys

import numpy as np
import pytest
import torch

from twostage.errors import UsageError
from twostage.runs import checkpoint as ck

TRAIN_SRC = '''
import json, os, signal, sys
import torch
from twostage.numerics.chen_luo.gptlite import GPTConfig, GPTLite
from twostage.numerics.chen_luo.lmtrain import TrainConfig, train
from twostage.runs.checkpoint import Checkpointer

folder, kill_at, out, keep = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4] == "keep"
torch.manual_seed(2)
cfg = TrainConfig(steps=40, batch=16, lr=3e-3, warmup=4, t_max=40, log_every=5)
model = GPTLite(GPTConfig(vocab=20, seq_len=4, d_model=8, d_ff=16, init_std=0.3),
                torch.Generator().manual_seed(0))
bg = torch.Generator().manual_seed(1)


def batches(step):
    x = torch.randint(0, 20, (16, 4), generator=bg)
    noise = torch.rand(16)  # the global generator: the checkpointer must carry it too
    return x, (x[:, 0] + (noise > 0.5).long()) % 20


def progress(step):
    if step == kill_at:
        os.kill(os.getpid(), signal.SIGKILL)


hist, snaps = train(model, batches, cfg, progress=progress,
                    checkpoint=Checkpointer(folder, 10, {"batches": bg} if keep else {}, label="tiny"))
hist.pop("wall")
json.dump({"hist": hist, "final": {k: v.tolist() for k, v in snaps[cfg.steps].items()}}, open(out, "w"))
'''


def _train(tmp_path, folder, kill_at=-1, keep=True):
    script = tmp_path / "tiny_train.py"
    script.write_text(TRAIN_SRC)
    out = tmp_path / f"out-{folder}.json"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run([sys.executable, str(script), str(tmp_path / folder), str(kill_at), str(out),
                           "keep" if keep else "drop"],
                          capture_output=True, text=True, timeout=300, env=env)
    return proc, (json.loads(out.read_text()) if out.exists() else None)


def test_killed_training_resumes_with_identical_results(tmp_path):
    clean, want = _train(tmp_path, "clean")
    assert clean.returncode == 0, clean.stderr
    assert "resuming" not in clean.stdout
    killed, none = _train(tmp_path, "killed", kill_at=25)  # SIGKILL after the checkpoint of step 20
    assert killed.returncode == -signal.SIGKILL and none is None
    assert (tmp_path / "killed" / ck.NAME).is_file()
    resumed, got = _train(tmp_path, "killed")
    assert resumed.returncode == 0, resumed.stderr
    assert f"tiny: resuming at step 20 from {tmp_path / 'killed' / ck.NAME}" in resumed.stdout
    assert got == want  # every logged metric and the final weights, bit for bit
    # ... which can fail: a checkpoint without the batch generator resumes on other batches
    assert _train(tmp_path, "nogen", kill_at=25, keep=False)[1] is None
    other = _train(tmp_path, "nogen", keep=False)[1]
    assert other["hist"]["loss"][:5] == want["hist"]["loss"][:5] and other != want  # same up to step 20


def _counterfact(folder, kill_at=None, generators=True):
    """gong-2025 §7.2 training of two tiny GPT-2 models with dropout (global RNG) and shuffling (its own
    generator); a :class:`KeyboardInterrupt` right after the checkpoint of epoch ``kill_at``."""
    from tests.gong.test_realdata import RECS, TOK
    from twostage.numerics.gong import realdata as cf
    from twostage.numerics.gong.gpt2lite import GPT2Config

    class Interrupted(ck.Checkpointer):
        def save(self, at, state):
            super().save(at, state if generators else {**state, "generator": torch.Generator().get_state()})
            if at == kill_at:
                raise KeyboardInterrupt

    cfg = GPT2Config(vocab_size=len(TOK), n_positions=16, n_embd=16, n_layer=2, n_head=2, dropout=0.1)
    tc = cf.TrainConfig(epochs=6, lr=3e-3, seeds=2, checkpoints=(3,))
    return cf.train(cfg, cf.encode(RECS, TOK), tc, seed=4,
                    checkpoint=Interrupted(folder, 2, label="counterfact", unit="epoch"))


def _same(a, b) -> bool:
    keys = ("epoch", "loss_train", "loss_official", "loss", "exact", "type", "pred")
    return all(np.array_equal(a[k], b[k], equal_nan=True) for k in keys) and all(
        torch.equal(a["params"][k], b["params"][k]) for k in a["params"])


def test_interrupted_counterfact_training_resumes_with_identical_results(tmp_path, capsys):
    want = _counterfact(tmp_path / "clean")
    with pytest.raises(KeyboardInterrupt):
        _counterfact(tmp_path / "run", kill_at=4)
    got = _counterfact(tmp_path / "run")
    assert f"counterfact: resuming at epoch 4 from {tmp_path / 'run' / ck.NAME}" in capsys.readouterr().out
    assert _same(got, want)
    assert all(torch.equal(got["checkpoints"][3][k], want["checkpoints"][3][k]) for k in want["params"])


def test_a_checkpoint_without_the_shuffling_state_changes_the_results(tmp_path):
    """The equality above can fail: resuming with a fresh shuffling generator gives other results."""
    want = _counterfact(tmp_path / "clean")
    with pytest.raises(KeyboardInterrupt):
        _counterfact(tmp_path / "run", kill_at=2, generators=False)
    assert not _same(_counterfact(tmp_path / "run"), want)


def test_unreadable_checkpoint_starts_over_and_says_so(tmp_path, capsys):
    (tmp_path / ck.NAME).write_bytes(b"not a checkpoint")
    c = ck.Checkpointer(tmp_path, 5, label="demo")
    assert c.load() is None
    assert "cannot be read" in capsys.readouterr().err and c.resumed_at is None


@pytest.mark.parametrize("raw, want", [("7", 7), ("", 15)])
def test_interval_comes_from_the_environment_or_the_run_length(monkeypatch, raw, want):
    monkeypatch.setenv(ck.ENV_EVERY, raw)
    assert ck.interval(300, 5) == want


@pytest.mark.parametrize("raw", ["0", "-3", "often"])
def test_bad_interval_is_a_user_error(monkeypatch, raw):
    monkeypatch.setenv(ck.ENV_EVERY, raw)
    with pytest.raises(UsageError, match=ck.ENV_EVERY):
        ck.interval(300)


def _synthetic(folder, kill_at=None, sabotage=False):
    """gong-2025 synthetic GD on 5 seeds in chunks of 2; a :class:`KeyboardInterrupt` after the checkpoint
    at GD step ``kill_at`` (counted over the chunks); ``sabotage``: that checkpoint loses the stage flags."""
    from twostage.numerics.gong.setting import GongConfig
    from twostage.numerics.gong.stages import train

    class Interrupted(ck.Checkpointer):
        def save(self, at, state):
            if at == kill_at and sabotage:
                state = {**state, "inner": {**state["inner"], "in_stage1": ~state["inner"]["in_stage1"]}}
            super().save(at, state)
            if at == kill_at:
                raise KeyboardInterrupt

    return train(GongConfig(d_p=4, d_q=4, L=6, n=32, steps=40, eps1=0.1), seeds=5, seed=3, record_every=10,
                 chunk=2, checkpoint=Interrupted(folder, 7, label="gong-synthetic"))


@pytest.mark.parametrize("kill_at", [14, 49])  # inside the first chunk; inside the second
def test_interrupted_gong_synthetic_resumes_with_identical_results(tmp_path, capsys, kill_at):
    want = _synthetic(tmp_path / "clean")
    with pytest.raises(KeyboardInterrupt):
        _synthetic(tmp_path / "run", kill_at=kill_at)
    got = _synthetic(tmp_path / "run")
    assert f"gong-synthetic: resuming at step {kill_at}" in capsys.readouterr().out
    assert set(got) == set(want)
    for k in want:
        if k in ("params", "params0"):
            assert all(torch.equal(a, b) for a, b in zip(got[k], want[k]))
        else:
            assert np.array_equal(got[k], want[k], equal_nan=True), k


def test_a_gong_synthetic_checkpoint_missing_its_stage_flags_changes_the_results(tmp_path):
    """The equality above can fail: a resume from a checkpoint with the wrong stage flags differs."""
    want = _synthetic(tmp_path / "clean")
    with pytest.raises(KeyboardInterrupt):
        _synthetic(tmp_path / "run", kill_at=14, sabotage=True)
    assert not np.array_equal(_synthetic(tmp_path / "run")["K_P"], want["K_P"])
