"""chen-luo-2025 experiments (§5): data, model, metrics, stage detection, probe, and the ci runs end to
end."""

from __future__ import annotations

import json
import math

import pytest
import torch

from twostage.cli import main
from twostage.numerics.chen_luo import lmtext
from twostage.numerics.chen_luo import metrics as MT
from twostage.numerics.chen_luo.anchor import AnchorConfig, check_targets, make_anchor_data
from twostage.numerics.chen_luo.gptlite import GPTConfig, GPTLite
from twostage.numerics.chen_luo.stage2 import F_from_u
from twostage.numerics.chen_luo.stage2_probe import general_F, probe
from twostage.numerics.config import ConfigError


def test_anchor_data_follows_eq60_and_its_synonym_pairs():
    x, y = make_anchor_data(AnchorConfig(n=4000, seed=1))
    is_anchor = (x >= 1) & (x <= 4)
    assert bool(is_anchor.sum(1).eq(1).all()) and not bool(is_anchor[:, -1].any())
    assert bool(check_targets(x, y)) and int(y.min()) >= 5 and int(y.max()) <= 101
    pos = is_anchor.int().argmax(1)
    rows = torch.arange(x.shape[0])
    shift = y - x[rows, pos + 1]
    a = x[rows, pos]
    # eq. (60): anchors {1, 3} shift by 1 and {2, 4} by 0 (not {1, 2} / {3, 4} as B.1's text says)
    assert set(shift[(a == 1) | (a == 3)].tolist()) == {1} and set(shift[(a == 2) | (a == 4)].tolist()) == {0}
    y_bad = y.clone()
    y_bad[0] += 1
    assert not bool(check_targets(x, y_bad))


def test_assumption1_rates_adaptation():
    g = torch.Generator().manual_seed(0)
    d, f = 6, 10
    v, a, b = (torch.randn(k, generator=g, dtype=torch.float64) for k in (d, d, d))
    w = torch.randn(f, generator=g, dtype=torch.float64).abs()
    # condensed weights: W_V = v a^T, W1 = a w^T (positive w), W2 = w b^T: every condition holds
    r = MT.assumption1_rates(torch.outer(v, a), torch.outer(a, w), torch.outer(w, b))
    assert r["A1"] == 1.0 and r["A2"] == 1.0
    r0 = MT.assumption1_rates(*(torch.randn(*s, generator=g) for s in ((d, d), (d, f), (f, d))))
    assert 0.0 < r0["A1"] < 1.0 and 0.0 < r0["A2"] < 1.0


def test_stage_detection_definitions():
    steps = list(range(0, 200, 10))
    outer = [0.0, 0.5, 0.9, 0.7, 0.4, 0.2, 0.1] + [0.05] * 13
    attn = [0.0, 0.0, 0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.25, 0.2] + [0.1] * 10
    assert MT.detect_switch(outer, attn, steps, sustain=3) == 60
    assert MT.detect_switch(outer, [0.0] * 20, steps) is None
    loss = [5.0, 5.0, 4.8, 4.0, 3.5, 3.3, 3.25] + [3.24] * 13
    plateau = MT.detect_plateau(loss, steps, k=0)
    assert plateau is not None and 40 <= plateau <= 70
    assert MT.detect_plateau([1.0] * 10, steps[:10]) is None


def test_general_F_is_eq15_for_the_binary_model():
    """The probe's F = -dL/dM at M = 0 equals eq. (15) when the loss is Def. 3's (checked through the autograd
    identity of the Stage-2 numerics: one sample, scalar output, exponential loss)."""
    g = torch.Generator().manual_seed(0)
    X = torch.randn(1, 5, 4, 3, generator=g, dtype=torch.float64)
    y = torch.tensor([[1.0, -1.0, 1.0, 1.0, -1.0]], dtype=torch.float64)
    u = torch.randn(1, 3, generator=g, dtype=torch.float64)
    M = torch.zeros(3, 3, dtype=torch.float64, requires_grad=True)
    z = torch.einsum("nd,de,nse->ns", X[0, :, -1], M, X[0]) / 3**0.5
    f = (torch.softmax(z, -1) * (X[0] @ u[0])).sum(-1)
    (gM,) = torch.autograd.grad(torch.exp(-y[0] * f).mean(), M)
    assert torch.allclose(-gM, F_from_u(X, y, u)[0], rtol=1e-12, atol=1e-15)


def test_probe_growth_rate_is_sigma1_and_wrong_rate_is_rejected():
    g = torch.Generator().manual_seed(0)
    m = GPTLite(GPTConfig(vocab=9, seq_len=5, d_model=6, d_ff=8, init_std=0.3), g, dtype=torch.float64)
    x, y = torch.randint(0, 9, (60, 5), generator=g), torch.randint(0, 9, (60,), generator=g)
    r = probe(m, x, y)
    assert abs(r["rate_measured"] / r["rate_predicted"] - 1) < 1e-3
    assert r["alignment_final"] > 0.999
    s = torch.linalg.svdvals(general_F(m.double(), x, y))
    assert abs(r["sigma1"] - float(s[0])) < 1e-12
    wrong = math.log1p(r["eta"] * float(s[1])) / r["eta"]  # the rate sigma_2 would give
    assert abs(r["rate_measured"] - wrong) > 100 * abs(r["rate_measured"] - r["rate_predicted"])


def test_wikitext_loader_tokenizer_and_errors(tmp_path, monkeypatch):
    p = tmp_path / "wiki.train.raw"
    p.write_text(lmtext.synthetic_wikitext(3000, vocab=60, seed=2), encoding="utf-8")
    monkeypatch.setenv(lmtext.ENV, str(p))
    tok, X, Y, src, ids = lmtext.load_corpus(None, max_vocab=50, seq_len=16)
    xr, yr = lmtext.random_windows(ids, 16, 7, torch.Generator().manual_seed(0))
    assert xr.shape == (7, 16) and yr.shape == (7,)
    assert src == str(p) and len(tok.words) == 50 and tok.words[0] == "<unk>"
    assert X.shape[1] == 16 and X.shape[0] == Y.shape[0] and int(X.max()) < 50
    assert "<eos>" in tok.words  # every line ends with <eos>
    with pytest.raises(ConfigError, match="not a readable file"):
        lmtext.load_corpus(tmp_path / "missing.raw", 50, 16)
    with pytest.raises(ConfigError, match="too short"):
        lmtext.windows(torch.arange(5), 16)


def _summary(run_root):
    (d,) = [p for p in run_root.iterdir() if p.is_dir()]
    for f in (
        "trajectory.parquet",
        "metadata.json",
        "config.json",
        "training.png",
        "heatmaps.png",
        "singular_vectors.png",
        "summary.json",
    ):
        assert (d / f).is_file(), f
    return d, json.loads((d / "summary.json").read_text())


@pytest.mark.slow
def test_anchor_function_ci_end_to_end(tmp_path, capsys):
    out = tmp_path / "anchor-function"
    assert main(["run", "anchor-function", "--profile", "ci", "--out", str(out)]) == 0
    d, s = _summary(out)
    assert (d / "stage2_probe.png").is_file() and (d / "stages.png").is_file()
    st = s["stages"]
    # the CPU-scale run learns the task and shows the paper's stages (chen-luo-2025 §5.1)
    assert s["final_test_acc"] >= 0.9 and st["learned"] and not st["undecided"]
    assert st["plateau_start"] < st["plateau_end"] < st["exit"] and st["switch"] is not None
    b = s["boundaries"]
    assert b["plateau"] == st["plateau_start"] and b["exit"] == st["exit"]
    import pyarrow.parquet as pq

    t = pq.read_table(d / "trajectory.parquet").to_pydict()
    k = t["step"].index(st["plateau_start"])
    # Stage 1: the outer group moved more than the attention group before the plateau
    assert t["rd/outer"][k] > t["rd/attention"][k]
    # Stage 2: the output block's key-query product collapses in rank by the time the loss leaves the plateau
    e = t["step"].index(st["exit"])
    assert t["qk_ratio/l1"][e] < 0.2 * t["qk_ratio/l1"][0]
    assert "stage boundaries" in capsys.readouterr().out


@pytest.mark.slow
def test_lm_text_ci_end_to_end_on_generated_wikitext(tmp_path, monkeypatch):
    p = tmp_path / "wiki.train.raw"
    p.write_text(lmtext.synthetic_wikitext(60_000, vocab=400, seed=5), encoding="utf-8")
    monkeypatch.setenv(lmtext.ENV, str(p))
    out = tmp_path / "lm-text"
    assert main(["run", "lm-text", "--profile", "ci", "--out", str(out)]) == 0
    _, s = _summary(out)
    assert s["data"] == str(p) and s["boundaries"]["switch"] is not None
    assert s["final_loss"] < 0.8 * math.log(s["vocab"])  # well below the uniform-prediction loss


def test_lm_text_full_profile_needs_real_data(monkeypatch, tmp_path, capsys):
    monkeypatch.delenv(lmtext.ENV, raising=False)
    assert main(["run", "lm-text", "--profile", "full", "--out", str(tmp_path / "x")]) == 2
    assert lmtext.ENV in capsys.readouterr().err
