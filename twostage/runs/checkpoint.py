"""Checkpoints of ``twostage run`` training loops: a run killed (Ctrl-C, ``kill -9``, a lost machine)
resumes where it stopped and ends with the same results as an uninterrupted run.

A :class:`Checkpointer` keeps one file, ``checkpoint.pt``, in the run's config-hash folder
(``results/<experiment>/<config-hash>/``). The training loop (``twostage.numerics.chen_luo.lmtrain.train``,
``twostage.numerics.gong.realdata.train``) hands it its whole state every ``every`` steps (or epochs) --
weights, optimiser moments, metric history, snapshots -- and the checkpointer adds the random state the
loop does not own: the named ``torch.Generator`` objects of the caller (batch order) and PyTorch's global
generators (dropout, CPU and CUDA). The file is written atomically (a kill while saving leaves the
previous checkpoint), loaded with ``weights_only=True`` (tensors and plain containers, no code), and
removed once the run is complete (``metadata.json`` written).

Interval: about 20 checkpoints per run (:func:`interval`, at a logging step), or every
``TWOSTAGE_CHECKPOINT_EVERY`` steps/epochs. Any interval gives the same final results.
"""

from __future__ import annotations

import io
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from twostage.errors import UsageError
from twostage.runs.store import atomic_write_bytes, warn

ENV_EVERY = "TWOSTAGE_CHECKPOINT_EVERY"
NAME = "checkpoint.pt"


def interval(total: int, align: int = 1) -> int:
    """Checkpoint every this many steps: ``$TWOSTAGE_CHECKPOINT_EVERY``, else about ``total / 20`` rounded
    to a multiple of ``align`` (the logging interval), at least ``align``.

    >>> interval(300, 10), interval(4000, 20), interval(30), interval(5)
    (20, 200, 2, 1)
    """
    raw = os.environ.get(ENV_EVERY, "").strip()
    if raw:
        try:
            n = int(raw)
        except ValueError:
            n = 0
        if n < 1:
            raise UsageError(f"{ENV_EVERY} must be a positive integer, got {raw[:40]!r}")
        return n
    return align * max(1, round(total / 20 / align))


class Checkpointer:
    """Save and restore one run's training state in ``directory/checkpoint.pt``.

    ``generators``: the caller's random generators to save with the loop's state; ``label`` names the run
    in the "resuming at step k" line; ``unit``: ``step`` or ``epoch``.
    """

    def __init__(self, directory: Path, every: int, generators: Mapping[str, torch.Generator] | None = None,
                 label: str = "run", unit: str = "step") -> None:
        self.path = Path(directory) / NAME
        self.every = int(every)
        self.generators = dict(generators or {})
        self.label, self.unit = label, unit
        self.resumed_at: int | None = None

    def due(self, at: int) -> bool:
        return at % self.every == 0

    def save(self, at: int, state: dict[str, Any]) -> None:
        """Store the loop's ``state`` after step (epoch) ``at``, with every random state it depends on."""
        blob = {"at": int(at), "state": state, "torch_rng": torch.get_rng_state(),
                "generators": {name: g.get_state() for name, g in self.generators.items()}}
        if torch.cuda.is_available() and torch.cuda.is_initialized():
            blob["cuda_rng"] = torch.cuda.get_rng_state_all()
        buf = io.BytesIO()
        torch.save(blob, buf)
        atomic_write_bytes(self.path, buf.getvalue())

    def load(self) -> dict[str, Any] | None:
        """The saved state (random states restored, "resuming at step k" printed), or ``None``."""
        if not self.path.is_file():
            return None
        try:
            blob = torch.load(self.path, map_location="cpu", weights_only=True)
            at, state = int(blob["at"]), blob["state"]
            for name, g in self.generators.items():
                g.set_state(blob["generators"][name])
            torch.set_rng_state(blob["torch_rng"])
        except Exception as exc:  # noqa: BLE001 - any unreadable checkpoint: start again, and say so
            warn(f"{self.path} cannot be read ({type(exc).__name__}); starting {self.label} from the "
                 "beginning")
            return None
        if "cuda_rng" in blob and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(blob["cuda_rng"])
        self.resumed_at = at
        print(f"{self.label}: resuming at {self.unit} {at} from {self.path}", flush=True)
        return state

    def clear(self) -> None:
        """Remove the checkpoint (the run is complete)."""
        self.path.unlink(missing_ok=True)
