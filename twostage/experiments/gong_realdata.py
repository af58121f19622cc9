"""``twostage run counterfact`` and ``twostage run rank-reduction``: gong-2025 §7.2 and §7.4 (§8 items 7-8).

Without outside files both run the pipeline on the generated CounterFact-format fact set
(:mod:`twostage.numerics.gong.factset`) with a GPT-2-architecture model trained **from scratch**
(:mod:`twostage.numerics.gong.gpt2lite`): profile ``ci`` is a tiny model (seconds on a CPU), ``quick`` a
larger one, ``full`` the paper's GPT-2 small dimensions (12 layers, d 768; meant for a GPU).

With real files (nothing is downloaded; see README "gong-2025 real-data experiments"):

* ``TWOSTAGE_COUNTERFACT_JSON``: path of CounterFact's ``counterfact.json`` (replaces the generated set);
* ``TWOSTAGE_GPT2_DIR``: a local GPT-2 checkpoint folder (``config.json``, weights, tokenizer files); the
  model starts from these weights, tokenises with GPT-2's BPE (needs the optional ``transformers``) and
  trains with the paper's AdamW lr 5e-6 -- the paper's fine-tuning run;
* ``TWOSTAGE_COUNTERFACT_EPOCHS``: number of epochs (default: profile; 300 for a pretrained ``full`` run);
* ``TWOSTAGE_COUNTERFACT_OFFICIAL=1``: the official script's bookkeeping -- the pairs in one fixed order
  every epoch (no reshuffle) and accuracies counted online on the training batches, before each update
  (default ``0``: reshuffled every epoch, accuracies from an evaluation pass after the epoch; both are
  recorded either way, this selects which defines ``exact``/``type``, ``T_type``/``T_exact`` and the gap);
* ``TWOSTAGE_RANK_CHECKPOINTS``: comma-separated fine-tuned state dicts (``torch.save(model.state_dict())``
  of a ``GPT2LMHeadModel``, e.g. the official ``gpt2_counterfact_epoch_5.pt``): ``rank-reduction`` then
  evaluates these instead of training (needs ``TWOSTAGE_GPT2_DIR`` for the architecture and tokenizer).

Results go through :func:`twostage.runs.store.write_run` (``<out>/<experiment>/<config-hash>/``):
``trajectory.parquet`` (per-epoch metrics per seed, or the rank-reduction curves), ``stages.json`` /
``curves.json`` and PNG figures.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch

from twostage.experiments import experiment
from twostage.numerics.config import ConfigError, require
from twostage.numerics.device import describe
from twostage.numerics.gong import factset as fs
from twostage.numerics.gong import realdata as cf
from twostage.numerics.gong.gpt2lite import GPT2Config, from_hf_state, load_checkpoint
from twostage.numerics.gong.rank_reduction import KEEPS, PAPER_LAYERS, curve, decompose
from twostage.publish.figures import png_bytes
from twostage.runs.checkpoint import Checkpointer, interval
from twostage.runs.store import is_complete, run_dir, write_run
from twostage.theory.gong.realdata import TYPE_GAP, gap_constants

ENV_JSON, ENV_GPT2 = "TWOSTAGE_COUNTERFACT_JSON", "TWOSTAGE_GPT2_DIR"
ENV_EPOCHS, ENV_CKPTS = "TWOSTAGE_COUNTERFACT_EPOCHS", "TWOSTAGE_RANK_CHECKPOINTS"
ENV_OFFICIAL = "TWOSTAGE_COUNTERFACT_OFFICIAL"
PAPER_LR = 5e-6  # §7.2: AdamW, fine-tuning pretrained GPT-2

# profile -> (fact set, model dims {counterfact, rank-reduction}, from-scratch training); rank reduction
# truncates blocks 1-6, so its model has 8 blocks at every profile
SIZES = {
    "ci": (fs.FactSetConfig(5, 12, 12), {"counterfact": (2, 32, 4), "rank-reduction": (8, 32, 4)},
           cf.TrainConfig(epochs=30, lr=3e-3, seeds=4)),
    "quick": (fs.FactSetConfig(5, 24, 12), {"counterfact": (4, 64, 4), "rank-reduction": (8, 64, 4)},
              cf.TrainConfig(epochs=40, lr=2e-3, seeds=4)),
    "full": (fs.FactSetConfig(5, 400, 12), {"counterfact": (12, 768, 12), "rank-reduction": (12, 768, 12)},
             cf.TrainConfig(epochs=100, lr=1e-4, seeds=2)),
}
RANK_SEEDS = {"ci": 2, "quick": 2, "full": 1}


@dataclass(frozen=True)
class RealDataRun:
    """Everything that determines a run (hashed by the store)."""

    experiment: str
    profile: str
    data: str  # "generated" or the JSON path
    data_sha256: str
    facts: fs.FactSetConfig | None
    fact_seed: int
    tokenizer: str  # "word" or "gpt2-bpe"
    gpt2_dir: str
    model: GPT2Config
    train: cf.TrainConfig
    layers: tuple[int, ...] = PAPER_LAYERS
    rank_checkpoints: tuple[str, ...] = ()
    gpt2_sha256: str = ""  # content digests: changed weights or checkpoints are a new run
    rank_sha256: tuple[str, ...] = ()


def _sha(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _tree_sha(folder: Path) -> str:
    """SHA-256 over the names and contents of every file under ``folder`` (a GPT-2 checkpoint folder)."""
    h = hashlib.sha256()
    for f in sorted(p for p in Path(folder).rglob("*") if p.is_file()):
        h.update(str(f.relative_to(folder)).encode() + b"\0" + _sha(f).encode())
    return h.hexdigest()


def _env_path(name: str) -> Path | None:
    v = os.environ.get(name, "").strip()
    if not v:
        return None
    require(Path(v).exists(), "gong-2025/ass/factset", f"{name}={v}: no such file or folder")
    return Path(v)


def setup(name: str, profile: str, seed: int) -> tuple[RealDataRun, list[dict], cf.Encoded, dict | None]:
    """The run configuration, the records, the encoded pairs and (pretrained) initial weights, from the
    profile and the environment variables."""
    facts, dims, tc = SIZES[profile]
    jpath, gdir = _env_path(ENV_JSON), _env_path(ENV_GPT2)
    if jpath is not None:
        records, data, sha, facts = fs.load_records(jpath), str(jpath), _sha(jpath), None
    else:
        records = fs.generate(facts, seed=seed)
        data, sha = "generated", hashlib.sha256(json.dumps(records).encode()).hexdigest()
    state = None
    if gdir is not None:
        tok, tname = fs.BPETokenizer(gdir), "gpt2-bpe"
        pre = load_checkpoint(gdir)
        model, state = pre.cfg, {k: v.detach() for k, v in pre.state_dict().items()}
        tc = replace(tc, lr=PAPER_LR, seeds=1, epochs=300 if name == "counterfact" else 100,
                     checkpoints=(5, 100))
    else:
        tok, tname = fs.WordTokenizer.build(records), "word"
    enc = cf.encode(records, tok)
    if gdir is None:
        n_layer, d, heads = dims[name]
        model = GPT2Config(vocab_size=len(tok), n_positions=max(16, enc.ids.shape[1]), n_embd=d,
                           n_layer=n_layer, n_head=heads, dropout=0.1 if profile == "full" else 0.0)
    if os.environ.get(ENV_EPOCHS, "").strip():
        try:
            tc = replace(tc, epochs=int(os.environ[ENV_EPOCHS]))
        except ValueError:
            raise ConfigError("gong-2025/ass/factset", f"{ENV_EPOCHS} must be an integer") from None
    official = os.environ.get(ENV_OFFICIAL, "").strip()
    require(official in ("", "0", "1"), "gong-2025/ass/factset",
            f"{ENV_OFFICIAL} must be 0 or 1, got {official!r}")
    if official == "1":
        tc = replace(tc, shuffle=False, accuracy="online")
    if name == "rank-reduction" and gdir is None:
        tc = replace(tc, seeds=RANK_SEEDS[profile])
    ckpts = tuple(p.strip() for p in os.environ.get(ENV_CKPTS, "").split(",") if p.strip())
    require(not ckpts or gdir is not None, "gong-2025/ass/rank-reduction",
            f"{ENV_CKPTS} needs {ENV_GPT2} (architecture and tokenizer of the checkpoints)")
    ckpts = ckpts if name == "rank-reduction" else ()
    for c in ckpts:
        require(Path(c).is_file(), "gong-2025/ass/rank-reduction", f"{ENV_CKPTS}: {c}: no such file")
    run = RealDataRun(name, profile, data, sha, facts, seed, tname, str(gdir or ""), model, tc,
                      rank_checkpoints=ckpts, gpt2_sha256=_tree_sha(gdir) if gdir is not None else "",
                      rank_sha256=tuple(_sha(Path(c)) for c in ckpts))
    return run, records, enc, state


def _root(out: Path, name: str) -> Path:
    return Path(out).parent if Path(out).name == name else Path(out)


def _train(run: RealDataRun, enc: cf.Encoded, seed: int, device, state, out: Path) -> tuple:
    """:func:`realdata.train`, checkpointed in the run's config-hash folder (resumed from there)."""
    ck = Checkpointer(run_dir(_root(out, run.experiment), run.experiment, run), interval(run.train.epochs),
                      label=run.experiment, unit="epoch")
    return cf.train(run.model, enc, run.train, seed=seed, device=device, state=state, checkpoint=ck), ck


def _complete(run: RealDataRun, out: Path) -> Path | None:
    d = run_dir(_root(out, run.experiment), run.experiment, run)
    return d if is_complete(d) else None



def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def counterfact_figures(res: dict, h_syntax: float, vocab: int, accuracy: str = "eval") -> dict[str, bytes]:
    plt = _plt()
    e = res["epoch"]
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(e, res["loss"], color="C0", lw=0.8)
    ax.plot(e[1:], res["loss_train"][1:], color="C1", lw=0.8, ls="--")
    ax.axhline(h_syntax, color="k", ls=":", label=f"syntax-only optimum H(answer|relation) = {h_syntax:.2f}")
    ax.axhline(np.log(vocab), color="gray", ls=":", label=f"uniform guess, log V = {np.log(vocab):.2f}")
    ax.plot([], [], color="C0", label="loss after epoch (eval)")
    ax.plot([], [], color="C1", ls="--", label="mean training loss of the epoch")
    ax.set_xlabel("epoch")
    ax.set_ylabel("last-token cross-entropy")
    ax.legend(fontsize=7)
    ax.set_title("counterfact: loss per epoch (one line per seed)")
    out = {"loss.png": png_bytes(fig)}
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(e, res["type"], color="C2", lw=0.8)
    ax.plot(e, res["exact"], color="C3", lw=0.8)
    ax.plot([], [], color="C2", label="type accuracy (answer of the right type)")
    ax.plot([], [], color="C3", label="exact accuracy (right answer)")
    for t, c, lab in ((res["T_type"], "C2", "T_type"), (res["T_exact"], "C3", "T_exact")):
        if np.isfinite(t).any():
            ax.axvline(float(np.nanmedian(t)), color=c, ls=":", label=f"{lab} (median)")
    theta_type, theta_exact, _ = gap_constants(TYPE_GAP.formula)
    ax.axhspan(theta_type, 1.0, color="C2", alpha=0.08, label=f"gap: type >= {theta_type} ...")
    ax.axhspan(0.0, theta_exact, color="C3", alpha=0.08, label=f"... while exact <= {theta_exact}")
    ax.set_xlabel("epoch")
    ax.set_ylabel("top-1 accuracy (" + ("online, on training batches" if accuracy == "online"
                                        else "evaluation after the epoch") + ")")
    ax.legend(fontsize=7)
    ax.set_title("counterfact: syntax (type) vs semantics (exact)")
    out["accuracy.png"] = png_bytes(fig)
    plt.close(fig)
    return out


def _prediction_log(res: dict, enc: cf.Encoded, tok) -> list[dict]:
    """The official script's prediction log for the watched pairs of seed 0: top-1 token after every epoch."""
    rows = []
    for j, i in enumerate(res["watch"]):
        prompt = [int(t) for t, m in zip(enc.ids[i], enc.mask[i]) if m]
        rows.append({"pair": int(i), "prompt": tok.decode(prompt),
                     "answer": tok.decode([int(enc.target[i])]),
                     "top1_by_epoch": [tok.decode([int(p)]) for p in res["pred"][:, 0, j]]})
    return rows


@experiment("counterfact")
def counterfact(profile, device, seed: int, out: Path) -> str:
    run, records, enc, state = setup("counterfact", profile.name, seed)
    if (done := _complete(run, out)) is not None:
        return f"counterfact ({profile.name}): already complete -> {done}"
    tok = fs.BPETokenizer(run.gpt2_dir) if run.tokenizer == "gpt2-bpe" else fs.WordTokenizer.build(records)
    t0 = time.perf_counter()
    res, ck = _train(run, enc, seed, device, state, out)
    wall = time.perf_counter() - t0
    S, h = run.train.seeds, fs.answer_entropy(records)
    table = {"epoch": np.repeat(res["epoch"], S), "seed": np.tile(np.arange(S), len(res["epoch"]))}
    for k in ("loss_train", "loss_official", "loss", "exact", "type", "exact_eval", "type_eval",
              "exact_online", "type_online"):
        table[k] = res[k].reshape(-1)
    theta_type, theta_exact, _ = gap_constants(TYPE_GAP.formula)
    gap = ((res["type"] >= theta_type) & (res["exact"] <= theta_exact)).any(0)
    stages = {"T_type": res["T_type"].tolist(), "T_exact": res["T_exact"].tolist(),
              "threshold": run.train.threshold, "accuracy": run.train.accuracy,
              "order": "reshuffled every epoch" if run.train.shuffle else "fixed (official)",
              "gap": {"claim": TYPE_GAP.id, "theta_type": theta_type, "theta_exact": theta_exact,
                      "seeds_with_gap": gap.tolist()},
              "pairs": int(enc.ids.shape[0]), "dropped_pairs": enc.dropped,
              "syntax_only_loss": h, "log_vocab": float(np.log(len(tok))),
              "answer_types": {r: len(v) for r, v in fs.answer_types(records).items()},
              "predictions_seed0": _prediction_log(res, enc, tok)}
    files = counterfact_figures(res, h, len(tok), run.train.accuracy)
    files["stages.json"] = (json.dumps(stages, indent=2, default=float) + "\n").encode()
    meta = {"seed": seed, "seeds": S, "device": describe(device), "wall_s": wall, "profile": profile.name,
            "provenance": ("reconstructed: pretrained GPT-2 fine-tuning (paper)" if state is not None
                           else "reconstructed: GPT-2 architecture from scratch") + f" on {run.data} data"}
    d = write_run(_root(out, "counterfact"), "counterfact", run, table, meta, extra_files=files)
    ck.clear()
    fin = {k: np.round(res[k][-1], 3).tolist() for k in ("loss", "type", "exact")}
    return (f"counterfact: {enc.ids.shape[0]} pairs ({run.data}), {run.model.n_layer} layers "
            f"d={run.model.n_embd}, {S} seeds x {len(res['epoch']) - 1} epochs on {describe(device)} in "
            f"{wall:.1f}s -> {d}\n"
            f"  {run.train.accuracy} accuracy: T_type = {res['T_type'].tolist()}, T_exact = "
            f"{res['T_exact'].tolist()} (threshold {run.train.threshold}); an epoch with type >= "
            f"{theta_type} and exact <= {theta_exact} for {int(gap.sum())}/{S} seeds\n"
            f"  final loss {fin['loss']}, type accuracy {fin['type']}, exact accuracy {fin['exact']}; "
            f"syntax-only loss H(answer|relation) = {h:.3f}")


def _load_state_dicts(paths: tuple[str, ...], device) -> dict[str, dict[str, torch.Tensor]]:
    """Fine-tuned ``GPT2LMHeadModel`` state dicts (one seed each), renamed to GPT2Lite's parameters."""
    out = {}
    for p in paths:
        try:
            sd = torch.load(p, map_location="cpu", weights_only=True)
        except Exception as exc:  # noqa: BLE001 - any unreadable file is a one-line bad input
            raise ConfigError("gong-2025/ass/rank-reduction", f"cannot read state dict {p}: {exc}") from None
        out[Path(p).stem] = {k: v.float()[None].to(device) for k, v in from_hf_state(sd).items()}
    return out


def rank_figure(curves: dict) -> bytes:
    plt = _plt()
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for i, ((ck, keep), c) in enumerate(sorted(curves.items())):
        style = dict(color=f"C{i}", ls="-" if keep == "largest" else "--", marker="o", ms=3,
                     label=f"{ck}, keep {keep}")
        share = c["exact"] / np.maximum(c["exact"][0:1], 1e-12)
        axes[0].plot(c["x"], np.median(share, 1), **style)
        axes[1].plot(c["x"], np.median(c["type"], 1), **style)
    axes[0].set_ylabel("share of exact-correct kept (vs x = 1)")
    axes[1].set_ylabel("type accuracy")
    for ax in axes:
        ax.set_xlabel("rank preservation x = (10 - r)/10")
        ax.invert_xaxis()
        ax.legend(fontsize=7)
    fig.suptitle("rank reduction of c_attn and c_proj in the truncated blocks (exact SVD; median over seeds)")
    png = png_bytes(fig)
    plt.close(fig)
    return png


@experiment("rank-reduction")
def rank_reduction(profile, device, seed: int, out: Path) -> str:
    run, records, enc, state = setup("rank-reduction", profile.name, seed)
    if (done := _complete(run, out)) is not None:
        return f"rank-reduction ({profile.name}): already complete -> {done}"
    t0 = time.perf_counter()
    saver = None
    enc_d = enc.to(device)
    if run.rank_checkpoints:
        from twostage.numerics.gong.gpt2lite import GPT2Lite

        base, states, trained = GPT2Lite(run.model).to(device).eval(), _load_state_dicts(run.rank_checkpoints,
                                                                                           device), None
    else:
        trained, saver = _train(run, enc, seed, device, state, out)
        base = trained["base"]
        states = {"T_type": trained["checkpoints"]["T_type"], "final": trained["params"]}
        last = int(trained["epoch"][-1])  # an epoch checkpoint at the last epoch is "final" already
        states.update({f"epoch_{e}": p for e, p in trained["checkpoints"].items()
                       if e not in ("T_type", last)})
    curves = {}
    for ck, p in states.items():
        svds = decompose(p, run.layers)  # one exact SVD per matrix, shared by the 10 rates and both variants
        curves.update({(ck, keep): curve(base, p, enc_d, keep, run.layers, svds=svds) for keep in KEEPS})
    wall = time.perf_counter() - t0
    table: dict[str, list] = {k: [] for k in ("checkpoint", "keep", "r", "x", "seed", "exact", "type", "loss",
                                              "correct", "share", "truncation_ok")}
    for (ck, keep), c in curves.items():
        R, S = c["exact"].shape
        share = c["exact"] / np.maximum(c["exact"][0:1], 1e-12)
        for i in range(R):
            for s in range(S):
                row = (("checkpoint", ck), ("keep", keep), ("r", 10 - round(10 * c["x"][i])),
                       ("x", c["x"][i]), ("seed", s), ("exact", c["exact"][i, s]), ("type", c["type"][i, s]),
                       ("loss", c["loss"][i, s]), ("correct", c["correct"][i, s]), ("share", share[i, s]),
                       ("truncation_ok", c["reports"][i]["ok"]))
                for k, v in row:
                    table[k].append(v)
    all_ok = all(rep["ok"] for c in curves.values() for rep in c["reports"])
    payload = {f"{ck}/{keep}": {"x": c["x"].tolist(), "exact": c["exact"].tolist(),
                                "type": c["type"].tolist(), "correct": c["correct"].tolist(),
                                "reports": c["reports"]}
               for (ck, keep), c in curves.items()}
    if trained is not None:
        payload["T_type"], payload["T_exact"] = trained["T_type"].tolist(), trained["T_exact"].tolist()
    files = {"rank_reduction.png": rank_figure(curves),
             "curves.json": (json.dumps(payload, indent=2, default=str) + "\n").encode()}
    meta = {"seed": seed, "device": describe(device), "wall_s": wall, "profile": profile.name,
            "layers": list(run.layers), "provenance": "§7.4 procedure with exact SVD; model "
            + ("from checkpoints" if run.rank_checkpoints else "trained here") + f" on {run.data} data"}
    d = write_run(_root(out, "rank-reduction"), "rank-reduction", run, table, meta, extra_files=files)
    if saver is not None:
        saver.clear()
    lines = [f"rank-reduction: blocks {list(run.layers)} of a {run.model.n_layer}-layer d={run.model.n_embd} "
             f"model, {len(states)} checkpoints x {len(KEEPS)} variants x 10 rates on {describe(device)} in "
             f"{wall:.1f}s -> {d}",
             f"  every truncation has rank k and the selected singular values: {all_ok}"]
    for (ck, keep), c in sorted(curves.items()):
        ex, ty = np.median(c["exact"], 1), np.median(c["type"], 1)
        lines.append(f"  {ck:>8} keep {keep:<8} exact at x=1.0/0.5/0.1: {ex[0]:.3f}/{ex[5]:.3f}/{ex[9]:.3f}; "
                     f"type: {ty[0]:.3f}/{ty[5]:.3f}/{ty[9]:.3f}")
    return "\n".join(lines)
