"""Device and dtype selection: ``--device auto|cpu|cuda``.

>>> from twostage.numerics.device import resolve_device
>>> resolve_device("cpu").type
'cpu'
>>> resolve_device("tpu")
Traceback (most recent call last):
...
twostage.errors.DeviceError: unknown device 'tpu' (choose auto, cpu, cuda or cuda:N)
"""

from __future__ import annotations

import torch

from twostage.errors import DeviceError


def resolve_device(name: str = "auto") -> torch.device:
    """``auto`` picks CUDA when present, else CPU; asking for CUDA without one is a one-line error."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cpu":
        return torch.device("cpu")
    if name == "cuda" or name.startswith("cuda:"):
        if not torch.cuda.is_available():
            raise DeviceError(f"device {name!r} requested but CUDA is not available on this machine")
        return torch.device(name)
    raise DeviceError(f"unknown device {name!r} (choose auto, cpu, cuda or cuda:N)")


def describe(device: torch.device) -> str:
    if device.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(device)})"
    return "cpu"
