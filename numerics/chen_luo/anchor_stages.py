"""Automatic stage detection on a logged anchor-function run (chen-luo-2025 §5.1, Figs. 1-2).

The paper reads its three stages off the figures: Stage 1 (condensation) -- the loss drops quickly and the
outer weights change far more than the attention weights; a loss **plateau** marks the start of Stage 2
(key-query rank collapse: attention updates dominate); then further training. It gives no algorithm; the
companion's (RECONSTRUCTED) definitions, on the training loss smoothed by a centred moving average of
``2k+1`` logs:

* normalised loss ``l = (L - L_final) / (L_0 - L_final)`` (1 at the start, 0 at the end);
* **plateau** ``[t_P, t_P']``: the first stretch of at least ``MIN_LOGS`` consecutive logs on which ``l``
  varies by at most ``band``, with ``floor <= l <= ceil`` (above the final level, below the initial one),
  extended as far as it goes (the paper's plateau follows the Stage-1 drop; a later slow descent is
  "further training");
* **exit** ``t_E``: the first log after the plateau with ``l <= min_plateau(l) - band`` (the loss left it);
* **switch** ``t_S``: :func:`.metrics.detect_switch` on the groups' windowed relative changes (attention
  dominates outer);
* the run **learned** when its final held-out accuracy is at least ``LEARNED_ACC`` (0.9); a final smoothed
  loss above ``STAYED`` (1/2) of the initial one means the loss never left its plateau, whatever the accuracy.

A boundary is a number only where it was observed: in a run that did not learn, or whose loss never left its
plateau, every boundary is ``None`` with its reason in ``Stages.undecided`` (a number read off such a run
would describe a failure, not a stage).

>>> steps = list(range(0, 300, 10))
>>> loss = [2.6, 2.2, 1.9, 1.7] + [1.6] * 14 + [1.6 - 0.13 * i for i in range(1, 13)]
>>> acc = [0.1] * 29 + [0.97]
>>> st = detect_stages({"step": steps, "loss": loss, "test_acc": acc}, k=0)
>>> st.plateau, st.exit, st.learned
((30, 170), 190, True)
>>> detect_stages({"step": steps, "loss": loss[:18] + [1.6] * 12, "test_acc": [0.1] * 30}, k=0).undecided
{'plateau': 'the run did not learn (final test accuracy 0.100 < 0.9)'}
"""

from __future__ import annotations

from dataclasses import dataclass, field

from twostage.numerics.chen_luo import metrics as MT

LEARNED_ACC = 0.9
BAND = 0.08  # normalised loss band of a plateau
FLOOR, CEIL = 0.1, 0.97  # a plateau lies above the final level and below the initial one
SMOOTH = 2  # half-width of the moving average (logs)
MIN_LOGS = 5  # a plateau spans at least this many logs
STAYED = 0.5  # a final smoothed loss above this fraction of the initial one is a plateau never left


@dataclass(frozen=True)
class Stages:
    """Detected boundaries (steps) of one run; ``None`` where undecided (reason in ``undecided``)."""

    learned: bool
    final_acc: float
    plateau: tuple[int, int] | None = None
    exit: int | None = None
    switch: int | None = None
    plateau_level: float | None = None  # mean normalised loss on the plateau
    loss_range: tuple[float, float] = (float("nan"), float("nan"))  # smoothed (L_0, L_final)
    undecided: dict[str, str] = field(default_factory=dict)
    no_plateau: bool = False  # the loss fell to its final level without any plateau (a learned run)

    def as_dict(self) -> dict:
        return {"learned": self.learned, "final_test_acc": self.final_acc,
                "plateau_start": None if self.plateau is None else self.plateau[0],
                "plateau_end": None if self.plateau is None else self.plateau[1],
                "exit": self.exit, "switch": self.switch, "plateau_level": self.plateau_level,
                "no_plateau": self.no_plateau, "undecided": dict(self.undecided)}


def first_flat(level: list[float], lo: float, hi: float, band: float, min_logs: int = MIN_LOGS
               ) -> tuple[int, int] | None:
    """Indices ``(a, b)`` of the first maximal run of at least ``min_logs`` logs with ``lo <= level <= hi``
    and ``max - min <= band``."""
    n = len(level)
    for a in range(n):
        if not lo <= level[a] <= hi:
            continue
        mn = mx = level[a]
        b = a
        while b + 1 < n and lo <= level[b + 1] <= hi:
            mn, mx = min(mn, level[b + 1]), max(mx, level[b + 1])
            if mx - mn > band:
                break
            b += 1
        if b - a + 1 >= min_logs:
            return a, b
    return None


def detect_stages(hist: dict, k: int = SMOOTH, band: float = BAND) -> Stages:
    """Stage boundaries of the logged run ``hist`` (columns ``step``, ``loss``, ``test_acc``, and for the
    switch ``rate/outer``, ``rate/attention``); see the module docstring for the definitions."""
    steps = [int(s) for s in hist["step"]]
    acc = float(hist["test_acc"][-1])
    learned = acc >= LEARNED_ACC
    if not learned:
        reason = f"the run did not learn (final test accuracy {acc:.3f} < {LEARNED_ACC})"
        return Stages(False, acc, undecided={"plateau": reason})
    ls = MT.smooth(list(hist["loss"]), k)
    l0, lf = ls[0], ls[-1]
    if not l0 - lf > 0:
        return Stages(True, acc, undecided={"plateau": "the smoothed loss never decreased"})
    if lf > STAYED * l0:  # the last level is still high: a plateau that was never left, not a final level
        why = f"the loss never left its plateau (final loss {lf:.3g} > {STAYED} x initial {l0:.3g})"
        return Stages(True, acc, loss_range=(l0, lf), undecided={"plateau": why})
    level = [(x - lf) / (l0 - lf) for x in ls]
    win = first_flat(level, FLOOR, CEIL, band)
    if win is None:
        return Stages(True, acc, loss_range=(l0, lf), no_plateau=True,
                      undecided={"plateau": "no stretch of logs stays within the plateau band"})
    a, b = win
    low = min(level[a : b + 1])
    exit_ = next((steps[i] for i in range(b + 1, len(level)) if level[i] <= low - band), None)
    plateau_level = sum(level[a : b + 1]) / (b - a + 1)
    if exit_ is None:
        return Stages(True, acc, loss_range=(l0, lf), plateau_level=plateau_level,
                      undecided={"plateau": "the loss never left its plateau"})
    switch = None
    und: dict[str, str] = {}
    if "rate/outer" in hist and "rate/attention" in hist:
        switch = MT.detect_switch(MT.smooth(list(hist["rate/outer"]), 1),
                                  MT.smooth(list(hist["rate/attention"]), 1), steps, sustain=3)
        if switch is None:
            und["switch"] = "the attention group's relative change never dominates"
    return Stages(True, acc, (steps[a], steps[b]), exit_, switch, plateau_level, (l0, lf), und)


def first_step(steps, values, threshold: float) -> int | None:
    """First logged step with ``value >= threshold`` (``None`` if never)."""
    return next((int(s) for s, v in zip(steps, values) if v >= threshold), None)
