"""What the integrator returns: the per-element :class:`Outcome` and the :class:`Solution` record."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

import torch

from twostage.errors import IntegrationError


class Outcome(IntEnum):
    """How an element's integration ended (the solver's vocabulary, not a verdict).

    ``DONE``: reached t1; ``EVENT``: g >= 0; ``MAX_STEPS``: step budget spent; failures: the last two.
    """

    RUNNING = 0
    DONE = 1
    EVENT = 2
    MAX_STEPS = 3
    NONFINITE = 4
    STEP_UNDERFLOW = 5


FAILURES = (Outcome.NONFINITE, Outcome.STEP_UNDERFLOW)


@dataclass
class Solution:
    """Result of :func:`solve`. Recorded series are padded to (B, K) with NaN; ``mask`` marks valid entries.

    ``t`` (B, K) holds the independent variable at the recorded accepted steps (the initial state is
    record 0), ``records[name]`` (B, K, ...) what the ``record`` function returned there.
    ``y_eval`` (B, M, N) holds the dense-output states at ``t_eval`` (NaN where not reached).
    """

    t: torch.Tensor
    records: dict[str, torch.Tensor]
    mask: torch.Tensor
    t_final: torch.Tensor
    y_final: torch.Tensor
    status: torch.Tensor
    n_accepted: torch.Tensor
    n_rejected: torch.Tensor
    fail_step: torch.Tensor
    fail_time: torch.Tensor
    t_eval: torch.Tensor | None = None
    y_eval: torch.Tensor | None = None
    eval_mask: torch.Tensor | None = None
    extra: dict = field(default_factory=dict)

    def failures(self, include_max_steps: bool = False) -> list[dict]:
        """One dict per failed element: element index, status name, accepted steps so far, time."""
        bad = set(FAILURES) | ({Outcome.MAX_STEPS} if include_max_steps else set())
        out = []
        for b, s in enumerate(self.status.tolist()):
            if Outcome(s) in bad:
                step = int(self.fail_step[b]) if Outcome(s) in FAILURES else int(self.n_accepted[b])
                time = float(self.fail_time[b]) if Outcome(s) in FAILURES else float(self.t_final[b])
                out.append({"element": b, "status": Outcome(s).name, "step": step, "t": time})
        return out

    def raise_on_failure(self, include_max_steps: bool = False) -> Solution:
        fails = self.failures(include_max_steps)
        if fails:
            head = "; ".join(f"element {f['element']}: {f['status']} at accepted step {f['step']}, "
                             f"t={f['t']:.6g}" for f in fails[:5])
            more = f" (+{len(fails) - 5} more)" if len(fails) > 5 else ""
            raise IntegrationError(f"{len(fails)} of {len(self.status)} elements failed: {head}{more}")
        return self

    def last(self, name: str) -> torch.Tensor:
        """The last valid record of ``name`` for every element, shape (B, ...)."""
        k = self.mask.sum(1) - 1
        src = self.t if name == "t" else self.records[name]
        return src[torch.arange(src.shape[0], device=src.device), k]

    def series(self, name: str, b: int) -> torch.Tensor:
        """The valid recorded series of ``name`` for element ``b`` (1-D in the step index)."""
        src = self.t if name == "t" else self.records[name]
        return src[b][self.mask[b]]
