r"""The experiments' own figures for the report: every PNG a complete run wrote beside its trajectory
(``results/<experiment>/<config-hash>/*.png``, written by ``twostage run``), with a caption.

Captions say what is drawn and which statement it speaks to (:data:`CAPTIONS`, by experiment and file
name; inline ``$...$`` is rendered as math by the report). A figure without a caption entry gets a
plain one naming its file. Each figure also records its run (config hash, seed, device, code version)
so that it can be traced and reproduced (``twostage run EXPERIMENT``). Only complete runs count (see
:func:`twostage.runs.store.is_complete`).
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from twostage.runs.store import is_complete
from twostage.runs.tables import run_dirs

MAX_HEIGHT = 720  # px: a tall figure (a grid of heat maps) is shown smaller, not the page width
EXPERIMENT_PAPER = {
    "stage1-blowup": "chen-luo-2025", "anchor-function": "chen-luo-2025", "lm-text": "chen-luo-2025",
    "gong-synthetic": "gong-2025", "counterfact": "gong-2025", "rank-reduction": "gong-2025",
}
_STAGES = ("vertical lines: the detected switch to attention-dominated relative change (solid) and the loss "
           "plateau (dashed)")
_CL5 = "chen-luo-2025 §5 companion run ({what}); " + _STAGES + "."
_GONG = (" This is the companion's reconstructed model (the paper's configuration is not available), "
         "not the paper's experiment.")

CAPTIONS: dict[tuple[str, str], str] = {
    ("stage1-blowup", "blowup.png"):
        r"chen-luo-2025 Thm 1 on the effective dynamics (7), one curve per seed. Left: the energy "
        r"$E(\bar t)$ on a log axis between the Riccati lower bound (11) (dashed) and $(T^*-\bar t)^{-3}$ "
        r"(dotted), on the judged domain $E>0$. Right: $E^{-1/3}$, whose slope tends to $-1$ at the blow-up "
        r"time $T^*$ (§4.3 of docs/papers/chen_luo_2025.md).",
    ("gong-synthetic", "signals.png"):
        r"gong-2025: growth of the P-block signal $w^{\star\top}W_Pw^\star$ and of the Q-block signal "
        r"(median over seeds) against the derived first-order estimate $\eta_1m_1^2t/4$ (dashed); dotted: "
        r"the end of stage 1, $t_1$." + _GONG,
    ("gong-synthetic", "losses.png"):
        r"gong-2025: P-only loss $K_P$, Q-only loss $K_Q$ and the full loss (median over seeds, log axis), "
        r"with the stage boundary $t_1$; the thin line is $\log 2$, the loss at margin 0." + _GONG,
    ("gong-synthetic", "spectra.png"):
        "gong-2025: top singular values of the P and Q blocks over training (median over seeds); the "
        "reconstructed spectral statement (§8 item 5 of docs/papers/gong_2025.md) compares them at the end "
        "of stage 2." + _GONG,
    ("counterfact", "loss.png"):
        "gong-2025 §7.2, reconstructed setting (a small GPT-2-architecture model trained from scratch on a "
        "generated CounterFact-format fact set): last-token cross-entropy per epoch, one line per seed, with "
        "the best loss reachable from the answer type alone and the uniform-guess level.",
    ("counterfact", "accuracy.png"):
        "gong-2025 §7.2, reconstructed setting: type accuracy (an answer of the right kind) and exact "
        "accuracy (the right answer) per epoch; dotted: the median epochs $T_{type}$ and $T_{exact}$ at "
        "which each reaches 0.9. The paper reads this transition by eye on fine-tuned GPT-2.",
    ("rank-reduction", "rank_reduction.png"):
        "gong-2025 §7.4, reconstructed setting: accuracy kept when the attention matrices of the truncated "
        "blocks are cut to their largest (solid) or smallest (dashed) singular values, against the rank "
        "preservation $x$ (exact SVD; median over seeds).",
}
for _exp, _what in (("anchor-function", "anchor-function task, §5.1"), ("lm-text", "language model, §5.2")):
    CAPTIONS[(_exp, "training.png")] = (
        "Loss, relative change $\\|W-W_0\\|/\\|W_0\\|$ of the outer and attention groups, windowed rates, "
        "effective ranks, Frobenius norms and Assumption-1 satisfaction rates. " + _CL5.format(what=_what))
    CAPTIONS[(_exp, "singular_vectors.png")] = (
        "Stability of the singular vectors between consecutive logs (all, and the leading one). "
        + _CL5.format(what=_what))
    CAPTIONS[(_exp, "heatmaps.png")] = (
        f"chen-luo-2025 §5 companion run ({_what}): cosine similarity between the neurons of each weight "
        "matrix (rows) at logged steps around the detected stage boundaries (columns), reordered by the "
        "leading eigenvector as in Figs. 1-3 of the paper; blocks appear as the weights condense.")
    CAPTIONS[(_exp, "stage2_probe.png")] = (
        r"Stage-2 probe (Prop. 3, Thm 3): $\log\|W_Q\|_F$ under key-query-only gradient descent against the "
        r"predicted slope from $\sigma_1(F)$. " + _CL5.format(what=_what))


@dataclass(frozen=True)
class Figure:
    experiment: str
    run: Path
    name: str
    caption: str
    paper: str | None
    meta: dict[str, Any]

    def display_width(self, max_height: int = MAX_HEIGHT) -> int | None:
        """Width to show the PNG at: its natural width (from its header), reduced so that it is at most
        ``max_height`` pixels tall; ``None`` if the header cannot be read."""
        try:
            with open(self.run / self.name, "rb") as fh:
                head = fh.read(24)
        except OSError:
            return None
        if head[:8] != b"\x89PNG\r\n\x1a\n":
            return None
        w, h = int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")
        return max(1, min(w, round(w * max_height / h))) if h else w

    @property
    def label(self) -> str:
        """A unique file name for the copy beside the report."""
        return f"{self.experiment}-{self.run.name[:12]}-{self.name}"

    def provenance(self) -> str:
        """One line: run, seed, device, code version and when the run was written."""
        m = self.meta
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime((self.run / "metadata.json").stat().st_mtime))
        parts = [f"run {self.experiment}/{self.run.name}"]
        parts += [f"{k} {m[k]}" for k in ("seed", "device") if m.get(k) is not None]
        if m.get("git_sha"):
            parts.append(f"code {str(m['git_sha'])[:12]}")
        return ", ".join(parts) + f", written {when}"


def caption_for(experiment: str, name: str) -> str:
    return CAPTIONS.get((experiment, name)) or f"{name} of the {experiment} experiment."


def find_figures(results: Path) -> list[Figure]:
    """The PNG files of every complete run under ``results``, in experiment/run/name order."""
    found = []
    for d in run_dirs(Path(results)):
        if not is_complete(d):
            continue
        try:
            meta = json.loads((d / "metadata.json").read_text())
        except (OSError, ValueError):
            continue
        exp = d.parent.name
        for png in sorted(d.glob("*.png")):
            found.append(Figure(exp, d, png.name, caption_for(exp, png.name), EXPERIMENT_PAPER.get(exp),
                                meta if isinstance(meta, dict) else {}))
    return found


def copy_figures(figures: list[Figure], out: Path, folder: str = "figures") -> dict[str, str]:
    """Copy the figures beside the report (so it is self-contained); figure label -> relative path."""
    rel = {}
    (Path(out) / folder).mkdir(parents=True, exist_ok=True)
    for f in figures:
        target = Path(out) / folder / f.label
        shutil.copyfile(f.run / f.name, target)
        rel[f.label] = f"{folder}/{f.label}"
    return rel
