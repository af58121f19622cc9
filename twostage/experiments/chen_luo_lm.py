"""chen-luo-2025 experiments: ``twostage run anchor-function`` (§5.1) and ``twostage run lm-text`` (§5.2).

Profiles: ``full`` is the paper's scale (Tables 1-2; GPU advised); for the anchor function ``ci`` and
``quick`` run the CPU-scale configuration of :func:`twostage.numerics.chen_luo.anchor.cpu_config` (a run
that learns the task in a few minutes on 2 cores), for lm-text they are scaled down. Each run writes
``<out>/<experiment>/<config-hash>/`` through :func:`twostage.runs.store.write_run`: the metric trajectory
(``trajectory.parquet``, one row per log), ``summary.json`` and the PNG figures.

Anchor-function stages come from :func:`twostage.numerics.chen_luo.anchor_stages.detect_stages` (plateau, the
step the loss leaves it, the switch to attention-dominated change; undecided in a run that did not learn).
lm-text reports ``switch`` = first step after the outer group's peak where the attention group's windowed
relative change dominates, and ``plateau`` = first step after the peak loss-decrease rate where that rate is
below 10% of its peak (:mod:`twostage.numerics.chen_luo.metrics`). For the anchor task the stage-2 probe
(:mod:`twostage.numerics.chen_luo.stage2_probe`) freezes the outer weights of the plateau checkpoint and
measures the Q/K growth rate of the last block under plain gradient descent against ``sigma_1(F)`` -- the only
setting where that comparison is meaningful (AdamW has no gradient-flow time).

``TWOSTAGE_MAX_STEPS`` / ``TWOSTAGE_MAX_SECONDS`` cap the training (:func:`.lmtrain.run_cap`): the run is then
the first steps of the profile's run with its optimiser and schedule unchanged, stored under the configuration
of the steps actually done (so a wall-time-capped run is the step-capped run of the same length), and the
summary's ``cap`` says what was planned, what was done and why it stopped.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from twostage.errors import ConfigError
from twostage.experiments import chen_luo_plots as PL
from twostage.experiments import experiment
from twostage.experiments.capping import cap_report, capped, checkpoint_dir
from twostage.numerics.chen_luo import lmtext
from twostage.numerics.chen_luo import metrics as MT
from twostage.numerics.chen_luo.anchor import (
    AnchorRunConfig,
    cpu_config,
    make_anchor_data,
    paper_config,
    run_anchor,
)
from twostage.numerics.chen_luo.anchor_stages import detect_stages
from twostage.numerics.chen_luo.gptlite import GPTConfig, GPTLite
from twostage.numerics.chen_luo.lmtrain import TrainConfig, run_cap, train
from twostage.numerics.chen_luo.stage2_probe import probe
from twostage.numerics.config import require
from twostage.runs.checkpoint import NAME, Checkpointer, interval
from twostage.runs.store import is_complete, run_dir, write_run


@dataclass(frozen=True)
class RunConfig:
    """Everything that determines one run (hashed for the results directory)."""

    experiment: str
    profile: str
    seed: int
    model: GPTConfig
    train: TrainConfig
    n_train: int
    n_eval: int
    snapshot_every: int = 1  # keep weights every k-th log (heat maps, probe)
    data: str = "anchor eq. (60)"
    data_sha256: str = ""  # content digest of the corpus (lm-text): a changed corpus is a new run

    def __post_init__(self) -> None:
        require(
            self.n_train >= self.train.batch or self.experiment == "lm-text",
            "chen-luo-2025/exp/training",
            "n_train must cover one batch",
        )


def anchor_run_config(profile: str, seed: int) -> AnchorRunConfig:
    """``full``: the paper's Table 1 (one block, ``d = 640``; GPU advised). ``ci``/``quick``: the CPU-scale
    run of :func:`twostage.numerics.chen_luo.anchor.cpu_config` (two blocks, small vocabulary, short
    sequences; it learns the task), 1000 resp. 2000 steps; weights are kept every 40 steps for the heat maps
    and the probe."""
    if profile == "full":
        return paper_config(seed)
    cfg = cpu_config(seed, steps=1000 if profile == "ci" else 2000)
    return dataclasses.replace(cfg, snapshot_every=4)


def lm_config(profile: str, seed: int, vocab: int, data: str, data_sha256: str = "") -> RunConfig:
    """Table 2 (full: seq 2048, batch 500, AdamW 2e-4, warmup + cosine); the paper's "5 epochs" cannot be
    matched to its 12,000-step loss axis without knowing the split and the windowing, so full runs 12,000
    steps on windows
    at random offsets (RECONSTRUCTED); ci/quick are scaled down."""
    if profile == "full":
        seq, d, f, steps, batch, log, snap = 2048, 64, 800, 12_000, 500, 50, 10
    elif profile == "quick":
        seq, d, f, steps, batch, log, snap = 128, 64, 800, 2000, 128, 20, 2
    else:
        seq, d, f, steps, batch, log, snap = 32, 32, 128, 300, 64, 10, 1
    model = GPTConfig(
        vocab=vocab,
        seq_len=seq,
        d_model=d,
        d_ff=f,
        init_std=d**-1.2,
        n_layers=2,
        activation="gelu",
        residual=True,
        freeze_embeddings=False,
        learned_positions=True,
    )
    lr = 2e-4 if profile == "full" else 2e-3
    tr = TrainConfig(
        steps=steps, batch=batch, lr=lr, lr_min=1e-5, warmup=steps // 10, t_max=steps, log_every=log
    )
    return RunConfig(
        "lm-text", profile, seed, model, tr, n_train=0, n_eval=256, snapshot_every=snap, data=data,
        data_sha256=data_sha256,
    )


def _root(out: Path, name: str) -> Path:
    return Path(out).parent if Path(out).name == name else Path(out)


def _table(hist: dict) -> dict:
    return {k: v for k, v in hist.items() if isinstance(v, list)}


def _growth_per_step(hist: dict, a: int | None, b: int | None, name: str) -> float | None:
    """Least-squares slope of ``log ||W||_F`` against the step on ``[a, b]`` (AdamW units: per step)."""
    if a is None or b is None or b <= a:
        return None
    pts = [(s, math.log(v)) for s, v in zip(hist["step"], hist[f"norm/{name}"]) if a <= s <= b]
    if len(pts) < 3:
        return None
    ms = sum(p[0] for p in pts) / len(pts)
    ml = sum(p[1] for p in pts) / len(pts)
    return sum((s - ms) * (v - ml) for s, v in pts) / sum((s - ms) ** 2 for s, _ in pts)


def _snapshot_steps(snaps: dict, bounds: dict) -> list[int]:
    keys = sorted(snaps)
    sw = bounds.get("switch")
    want = [0, None if sw is None else sw // 2, sw, bounds.get("plateau"), keys[-1]]
    pick = []
    for w in want:
        if w is None:
            continue
        s = min(keys, key=lambda k: abs(k - w))
        if s not in pick:
            pick.append(s)
    return pick


def run_training(cfg: RunConfig, X, Y, Xe, Ye, device, sampler=None, directory: Path | None = None,
                 max_seconds: float | None = None) -> tuple:
    """Train on batches drawn from ``(X, Y)`` (or from ``sampler(generator) -> (x, y)``), evaluate on ``Xe,
    Ye``; with ``directory`` (the run's config-hash folder) checkpointed there and resumed from there;
    ``max_seconds`` caps the training's wall time (:func:`.lmtrain.train`)."""
    g = torch.Generator().manual_seed(cfg.seed)
    model = GPTLite(cfg.model, g).to(device)
    bg = torch.Generator().manual_seed(cfg.seed + 1)
    ckpt = None
    if directory is not None:
        ckpt = Checkpointer(directory, interval(cfg.train.steps, cfg.train.log_every), {"batches": bg},
                            label=cfg.experiment)
    Xe, Ye = Xe.to(device), Ye.to(device)
    if sampler is None:
        X, Y = X.to(device), Y.to(device)

    def batches(step: int):
        if sampler is not None:
            x, y = sampler(bg)
            return x.to(device), y.to(device)
        idx = torch.randint(0, X.shape[0], (cfg.train.batch,), generator=bg).to(device)
        return X[idx], Y[idx]

    @torch.no_grad()
    def evaluate(m):
        logits = m(Xe)
        return {
            "test_loss": float(torch.nn.functional.cross_entropy(logits, Ye)),
            "test_acc": float((logits.argmax(-1) == Ye).float().mean()),
        }

    every = cfg.snapshot_every * cfg.train.log_every
    hist, snaps = train(model, batches, cfg.train, evaluate, snapshot_at=lambda s: s % every == 0,
                        checkpoint=ckpt, max_seconds=max_seconds)
    bounds = {
        "switch": MT.detect_switch(
            MT.smooth(hist["rate/outer"], 1), MT.smooth(hist["rate/attention"], 1), hist["step"], sustain=3
        ),
        "plateau": MT.detect_plateau(hist["loss"], hist["step"]),
    }
    return model, hist, snaps, bounds


def _finish(
    cfg: RunConfig, out: Path, hist: dict, snaps: dict, bounds: dict, summary: dict, extra: dict[str, bytes]
) -> Path:
    names = [n for n in snaps[0]]
    files = PL.training_figures(hist, names, cfg.model.n_layers, bounds)
    files["heatmaps.png"] = PL.heatmaps(snaps, _snapshot_steps(snaps, bounds), names)
    files.update(extra)
    files["summary.json"] = (json.dumps(summary, indent=2, default=str) + "\n").encode()
    meta = {"profile": cfg.profile, "seed": cfg.seed, "summary": summary, "time_unit": "optimizer step"}
    d = write_run(_root(out, cfg.experiment), cfg.experiment, cfg, _table(hist), meta, extra_files=files)
    (d / NAME).unlink(missing_ok=True)  # complete: the checkpoint has served
    return d


def _dir(cfg: RunConfig, out: Path) -> Path:
    """The run's config-hash folder (results, and its checkpoint while it trains)."""
    return run_dir(_root(out, cfg.experiment), cfg.experiment, cfg)


def _done(cfg: RunConfig, out: Path) -> Path | None:
    """The run's folder if it is complete (then nothing is recomputed)."""
    d = _dir(cfg, out)
    return d if is_complete(d) else None


@experiment("anchor-function")
def anchor_function(profile, device, seed: int, out: Path) -> str:
    """§5.1: GPT-style model with frozen embeddings on the anchor function (eq. (60)); stages detected by
    :func:`twostage.numerics.chen_luo.anchor_stages.detect_stages` (undecided where the run did not learn).
    Checkpointed in its config-hash folder and resumed from there; ``TWOSTAGE_MAX_STEPS`` /
    ``TWOSTAGE_MAX_SECONDS`` cap it (module docstring)."""
    planned, cap = anchor_run_config(profile.name, seed), run_cap()
    cfg = capped(planned, cap)
    root = _root(out, "anchor-function")
    folder = run_dir(root, "anchor-function", cfg)
    if is_complete(folder):
        return f"anchor-function ({profile.name}): already complete -> {folder}"
    where = checkpoint_dir(cap, folder)
    make_ckpt = None if where is None else (lambda gens: Checkpointer(
        where, interval(cfg.train.steps, cfg.train.log_every), gens, label="anchor-function"))
    hist, snaps, model = run_anchor(cfg, str(device), checkpoint=make_ckpt, max_seconds=cap.seconds)
    cfg, cap_info = cap_report(planned, cfg, cap, hist)
    st = detect_stages(hist)
    bounds = {"switch": st.switch, "plateau": None if st.plateau is None else st.plateau[0],
              "plateau_end": None if st.plateau is None else st.plateau[1], "exit": st.exit}
    extra, probe_res = {}, None
    layer = cfg.model.n_layers - 1
    if bounds["plateau"] is not None:  # stage-2 probe at the plateau checkpoint (outer weights quasi-static)
        step = min(snaps, key=lambda k: abs(k - bounds["plateau"]))
        with torch.no_grad():
            for n, W in snaps[step].items():
                model.named_weights()[n].copy_(W)
        xp, yp = make_anchor_data(dataclasses.replace(cfg.task, n=1000 if profile.name == "ci" else 4000))
        xp, yp = xp.to(device), yp.to(device)
        probe_res = probe(model, xp, yp, seed=seed, layer=layer)
        extra["stage2_probe.png"] = PL.probe_figure(probe_res)
        probe_res["checkpoint_step"] = step
    names = list(snaps[0])
    why = "; ".join(st.undecided.values()) or "stages detected"
    extra["stages.png"] = PL.stage_figure(hist, cfg.model.n_layers, bounds, f"anchor-function ({cfg.name} "
                                          f"config, seed {seed}): test acc {st.final_acc:.3f}; {why}")
    summary = {
        "config": dataclasses.asdict(cfg),
        "stages": st.as_dict(),
        "boundaries": bounds,
        "final_loss": hist["loss"][-1],
        "final_test_acc": hist["test_acc"][-1],
        "wall_s": hist["wall_total"][-1],
        "cap": cap_info,
        "probe": None if probe_res is None
        else {k: v for k, v in probe_res.items() if k not in ("times", "log_norm")},
        "definitions": {"stages": detect_stages.__doc__.split("\n")[0].strip(),
                        "switch": MT.detect_switch.__doc__.split("\n")[0].strip()},
    }
    files = PL.training_figures(hist, names, cfg.model.n_layers, bounds)
    files["heatmaps.png"] = PL.heatmaps(snaps, _snapshot_steps(snaps, bounds), names)
    files.update(extra)
    files["summary.json"] = (json.dumps(summary, indent=2, default=str) + "\n").encode()
    meta = {"profile": profile.name, "seed": seed, "summary": summary, "time_unit": "optimizer step"}
    d = write_run(_root(out, "anchor-function"), "anchor-function", cfg, _table(hist), meta,
                  extra_files=files)
    p = summary["probe"]
    probe_txt = "no plateau detected, no probe" if p is None else (
        f"stage-2 probe (block {layer}) at step {p['checkpoint_step']}: d/dt log||W_Q|| = "
        f"{p['rate_measured']:.4g} vs log(1+eta s1)/eta = {p['rate_predicted']:.4g}")
    if st.exit is None:
        stages_txt = f"stages undecided ({'; '.join(st.undecided.values())})"
    else:
        stages_txt = (f"stage boundaries: switch at step {st.switch}, loss plateau {st.plateau[0]}-"
                      f"{st.plateau[1]}, left at step {st.exit}")
    capped_txt = "" if cap_info["stopped_by"] is None else (
        f" [{cap_info['steps_done']} of {cap_info['planned_steps']} steps: {cap_info['stopped_by']}]")
    return (f"anchor-function ({profile.name}, {cfg.name} config){capped_txt}: loss {hist['loss'][0]:.3f} -> "
            f"{hist['loss'][-1]:.3f}, test acc {hist['test_acc'][-1]:.3f}, {hist['wall_total'][-1]:.0f} s; "
            f"{stages_txt}; {probe_txt}. Results in {d}")


def text_digest(path: str | Path) -> str:
    """SHA-256 of a text corpus, after checking it is text: UTF-8 without NUL bytes (a binary file given as
    ``TWOSTAGE_LM_TEXT`` is a one-line error, not a corpus of replacement characters)."""
    import hashlib

    a = "chen-luo-2025/exp/lm-text"
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise ConfigError(a, f"{lmtext.ENV}={path} is not a readable file ({exc.strerror})") from None
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(a, f"{lmtext.ENV}={path} is not UTF-8 text (invalid byte at offset "
                             f"{exc.start})") from None
    if b"\0" in data:
        raise ConfigError(a, f"{lmtext.ENV}={path} is not text (NUL byte at offset {data.index(0)})")
    return hashlib.sha256(data).hexdigest()


@experiment("lm-text")
def lm_text(profile, device, seed: int, out: Path) -> str:
    """§5.2: two-layer residual GeLU model without LayerNorm, next-token loss on the last token of WikiText
    windows.

    Data: ``$TWOSTAGE_LM_TEXT`` (a raw WikiText file). Without it the ci/quick profiles generate WikiText-like
    text into the output directory and train on that (said so in the summary); the full profile requires it.
    """
    path = os.environ.get(lmtext.ENV)
    if path is None:
        require(
            profile.name != "full",
            "chen-luo-2025/exp/lm-text",
            f"the full profile needs real data: set {lmtext.ENV} to a WikiText raw file (e.g. "
            f"wiki.train.raw)",
        )
        n_tok = 60_000 if profile.name == "ci" else 400_000
        synth = Path(out) / "synthetic-wikitext.raw"
        synth.parent.mkdir(parents=True, exist_ok=True)
        synth.write_text(lmtext.synthetic_wikitext(n_tok, vocab=400, seed=seed), encoding="utf-8")
        path, source = synth, "synthetic WikiText-like text (set TWOSTAGE_LM_TEXT for real data)"
    else:
        source = path
    sha = text_digest(path)
    max_vocab = 31_999 if profile.name == "full" else 1000
    probe_cfg = lm_config(profile.name, seed, 2, "")
    tok, X, Y, _, ids = lmtext.load_corpus(path, max_vocab, probe_cfg.model.seq_len)
    planned, cap = lm_config(profile.name, seed, len(tok.words), source, sha), run_cap()
    cfg = capped(planned, cap)
    if (done := _done(cfg, out)) is not None:
        return f"lm-text ({profile.name}): already complete -> {done}"
    # the first 90% of the stream for training (windows at random offsets), held-out windows from the rest
    cut = int(0.9 * ids.numel())
    seq = cfg.model.seq_len
    Xe, Ye = lmtext.random_windows(ids[cut:], seq, cfg.n_eval, torch.Generator().manual_seed(seed + 7))
    train_ids = ids[:cut]

    def sampler(gen):
        return lmtext.random_windows(train_ids, seq, cfg.train.batch, gen)

    model, hist, snaps, bounds = run_training(cfg, None, None, Xe, Ye, device, sampler=sampler,
                                              directory=checkpoint_dir(cap, _dir(cfg, out)),
                                              max_seconds=cap.seconds)
    cfg, cap_info = cap_report(planned, cfg, cap, hist)
    summary = {
        "config": asdict(cfg),
        "data": source,
        "vocab": len(tok.words),
        "tokens": int(ids.numel()),
        "non_overlapping_windows": int(X.shape[0]),
        "boundaries": bounds,
        "final_loss": hist["loss"][-1],
        "final_test_loss": hist["test_loss"][-1],
        "cap": cap_info,
        "adamw_growth_per_step_WQ": {
            f"l{k}": _growth_per_step(hist, bounds["switch"], bounds["plateau"], f"l{k}.WQ") for k in range(2)
        },
    }
    d = _finish(cfg, out, hist, snaps, bounds, summary, {})
    return (
        f"lm-text ({profile.name}, {source}): {ids.numel()} tokens, vocab {len(tok.words)}; loss "
        f"{hist['loss'][0]:.3f} -> {hist['loss'][-1]:.3f}; stage boundary: switch at step "
        f"{bounds['switch']}, "
        f"loss plateau at step {bounds['plateau']}. Results in {d}"
    )
