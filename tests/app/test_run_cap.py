"""Capped §5 training runs (issue 14: the device check samples the paper-scale anchor-function run):
``TWOSTAGE_MAX_SECONDS`` stops :func:`lmtrain.train` after the step that crosses the limit, and the run then
equals the step-capped run of the same length; the experiment's cap report and checkpoint folder follow."""

import dataclasses

import pytest
import torch

from twostage.errors import ConfigError
from twostage.experiments.capping import cap_report, capped, checkpoint_dir
from twostage.numerics.chen_luo.gptlite import GPTConfig, GPTLite
from twostage.numerics.chen_luo.lmtrain import RunCap, TrainConfig, run_cap, train

CFG = TrainConfig(steps=12, batch=8, lr=3e-3, warmup=2, t_max=12, log_every=5)


def _run(cfg: TrainConfig, max_seconds=None):
    model = GPTLite(GPTConfig(vocab=12, seq_len=4, d_model=8, d_ff=16, init_std=0.3),
                    torch.Generator().manual_seed(0))
    bg = torch.Generator().manual_seed(1)

    def batches(step):
        x = torch.randint(0, 12, (8, 4), generator=bg)
        return x, (x[:, 0] + 1) % 12

    return train(model, batches, cfg, max_seconds=max_seconds)


def test_wall_time_cap_stops_after_the_crossing_step_and_equals_the_step_capped_run():
    hist, snaps = _run(CFG, max_seconds=1e-9)  # every step ends after the limit: stop after step 1
    assert hist["step"] == [0, 1] and max(snaps) == 1
    ref_hist, ref_snaps = _run(dataclasses.replace(CFG, steps=1))
    assert hist["loss"] == ref_hist["loss"]
    assert all(torch.equal(snaps[1][k], ref_snaps[1][k]) for k in ref_snaps[1])
    full, _ = _run(CFG)
    assert full["step"] == [0, 5, 10, 12]  # uncapped: logs every 5 steps and the last
    assert full["loss"][1] != hist["loss"][1]  # the capped run's last row is step 1's loss, not a window of 5


@dataclasses.dataclass(frozen=True)
class _Cfg:
    train: TrainConfig


def test_cap_report_says_what_stopped_the_run():
    planned = _Cfg(CFG)
    cfg = capped(planned, RunCap(steps=6))
    assert cfg.train.steps == 6 and cfg.train.t_max == CFG.t_max  # the schedule is the planned one
    run, info = cap_report(planned, cfg, RunCap(steps=6), {"step": [0, 5, 6], "wall": [0.0, 1.0, 1.2]})
    assert run == cfg and (info["steps_done"], info["stopped_by"]) == (6, "step cap")
    run, info = cap_report(planned, planned, RunCap(seconds=1.0), {"step": [0, 3], "wall": [0.0, 1.5]})
    assert run.train.steps == 3 and info["stopped_by"] == "wall-time cap" and info["steps_per_second"] == 2
    run, info = cap_report(planned, planned, RunCap(), {"step": [0, 12], "wall": [0.0, 2.0]})
    assert run == planned and info["stopped_by"] is None


def test_a_wall_time_capped_run_does_not_checkpoint(tmp_path):
    assert checkpoint_dir(RunCap(seconds=60.0), tmp_path) is None
    assert checkpoint_dir(RunCap(steps=5), tmp_path) == tmp_path == checkpoint_dir(RunCap(), tmp_path)


@pytest.mark.parametrize("env", [{"TWOSTAGE_MAX_STEPS": "0"}, {"TWOSTAGE_MAX_STEPS": "x"},
                                 {"TWOSTAGE_MAX_SECONDS": "-1"}])
def test_bad_caps_are_user_errors(env):
    with pytest.raises(ConfigError):
        run_cap(env)
