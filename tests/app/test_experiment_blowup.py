"""`twostage run stage1-blowup`: stored trajectories with plot metadata, resumable, figure written."""

import json

import numpy as np
import pandas as pd

from twostage.cli import main


def test_stage1_blowup_run_writes_plot_ready_trajectories(tmp_path, capsys):
    assert main(["--results", str(tmp_path), "run", "stage1-blowup"]) == 0
    (run,) = list((tmp_path / "stage1-blowup").iterdir())
    meta = json.loads((run / "metadata.json").read_text())
    assert {p["claim"] for p in meta["plots"]} >= {"chen-luo-2025/thm1/riccati-positive",
                                                    "chen-luo-2025/thm1/upper-general"}
    assert all(meta["summary"]["reached"])
    assert all(abs(s + 1) < 1e-3 for s in meta["summary"]["final_slope_E_minus_third"])  # sharp limit
    df = pd.read_parquet(run / "trajectory.parquet")
    ok = df["E_lower"].notna()
    assert (df.loc[ok, "E"] >= df.loc[ok, "E_lower"] * (1 - 1e-9)).all()  # the stored bound is the real one
    pos = df["E_upper"].notna()
    assert np.all(df.loc[pos, "E"] <= df.loc[pos, "E_upper"] * (1 + 1e-9))
    assert (run / "blowup.png").stat().st_size > 1000
    capsys.readouterr()
    assert main(["--results", str(tmp_path), "run", "stage1-blowup"]) == 0  # resumes: nothing to redo
    assert "already complete" in capsys.readouterr().out
