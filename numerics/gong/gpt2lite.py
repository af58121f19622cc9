"""A GPT-2-architecture causal language model in plain torch, with GPT-2's parameter names and layouts.

gong-2025 §7.2 [Code] fine-tunes the Hugging Face ``gpt2`` checkpoint (12 layers, ``d_model = 768``). The
companion cannot download it, so it builds the same architecture here: token and position embeddings
``wte``/``wpe``, blocks ``h.{i}`` with ``ln_1``, ``attn.c_attn`` (fused ``W_Q|W_K|W_V``), ``attn.c_proj``,
``ln_2``, ``mlp.c_fc``, ``mlp.c_proj`` (tanh-GELU), final ``ln_f`` and an LM head tied to ``wte``. The
linear maps are GPT-2's ``Conv1D``: ``y = x @ weight + bias`` with ``weight`` of shape ``(in, out)``, so
``attn.c_attn.weight`` is ``(d, 3d)`` exactly as in a GPT-2 checkpoint (the matrices the rank-reduction
experiment of §7.4 truncates). :func:`load_checkpoint` reads a local Hugging Face GPT-2 checkpoint folder
(``config.json`` + ``model.safetensors`` or ``pytorch_model.bin``; plain torch, no ``transformers`` needed)
onto these names; nothing is ever downloaded.

Padding: :meth:`GPT2Lite.forward` takes an ``attention_mask``; padded keys are masked out and position ids
are counted over real tokens only (``cumsum(mask) - 1``), so a left-padded prompt gets exactly the logits of
the unpadded prompt at its last position (tested in ``tests/gong/test_realdata.py``).

>>> import torch
>>> cfg = GPT2Config(vocab_size=11, n_positions=8, n_embd=16, n_layer=2, n_head=2)
>>> m = GPT2Lite(cfg)
>>> tuple(m.state_dict()["h.0.attn.c_attn.weight"].shape), tuple(m.state_dict()["h.1.mlp.c_fc.weight"].shape)
((16, 48), (16, 64))
>>> m(torch.tensor([[1, 2, 3]])).shape
torch.Size([1, 3, 11])
>>> GPT2Config.gpt2_small(vocab_size=50257).n_embd
768
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from twostage.numerics.config import require

_ASS = "gong-2025/ass/gpt2-architecture"


@dataclass(frozen=True)
class GPT2Config:
    """GPT-2 hyper-parameters (Hugging Face names); ``dropout`` for embeddings, attention and residuals."""

    vocab_size: int
    n_positions: int = 64
    n_embd: int = 64
    n_layer: int = 2
    n_head: int = 4
    dropout: float = 0.0
    layer_norm_epsilon: float = 1e-5
    initializer_range: float = 0.02

    def __post_init__(self) -> None:
        require(self.vocab_size >= 2 and self.n_positions >= 1 and self.n_layer >= 1, _ASS,
                "vocab_size >= 2, n_positions >= 1 and n_layer >= 1 are needed")
        require(self.n_embd % self.n_head == 0, _ASS,
                f"n_embd ({self.n_embd}) must be a multiple of n_head ({self.n_head})")
        require(0.0 <= self.dropout < 1.0, _ASS, f"dropout must be in [0, 1), got {self.dropout}")

    @classmethod
    def gpt2_small(cls, vocab_size: int = 50257, dropout: float = 0.1) -> GPT2Config:
        """The ``gpt2`` (small) checkpoint's dimensions: 12 layers, 12 heads, d 768, 1024 positions."""
        return cls(vocab_size=vocab_size, n_positions=1024, n_embd=768, n_layer=12, n_head=12,
                   dropout=dropout)


class Conv1D(nn.Module):
    """GPT-2's linear layer: ``weight`` is ``(n_in, n_out)`` (transposed w.r.t. ``nn.Linear``)."""

    def __init__(self, n_in: int, n_out: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.empty(n_in, n_out))
        self.bias = nn.Parameter(torch.zeros(n_out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x @ self.weight + self.bias


class Attention(nn.Module):
    def __init__(self, cfg: GPT2Config) -> None:
        super().__init__()
        self.n_head, self.d = cfg.n_head, cfg.n_embd
        self.c_attn = Conv1D(cfg.n_embd, 3 * cfg.n_embd)
        self.c_proj = Conv1D(cfg.n_embd, cfg.n_embd)
        self.attn_dropout = nn.Dropout(cfg.dropout)
        self.resid_dropout = nn.Dropout(cfg.dropout)

    def forward(self, x: torch.Tensor, allowed: torch.Tensor) -> torch.Tensor:
        B, T, _ = x.shape
        q, k, v = self.c_attn(x).split(self.d, dim=-1)
        q, k, v = (t.reshape(B, T, self.n_head, -1).transpose(1, 2) for t in (q, k, v))
        scores = q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1])
        # masked entries get the most negative finite value (not -inf): a fully masked row (a left pad
        # query) then gives finite, ignored outputs instead of NaN, as in the Hugging Face implementation
        scores = scores.masked_fill(~allowed, torch.finfo(scores.dtype).min)
        att = self.attn_dropout(scores.softmax(-1))
        y = (att @ v).transpose(1, 2).reshape(B, T, self.d)
        return self.resid_dropout(self.c_proj(y))


class MLP(nn.Module):
    def __init__(self, cfg: GPT2Config) -> None:
        super().__init__()
        self.c_fc = Conv1D(cfg.n_embd, 4 * cfg.n_embd)
        self.c_proj = Conv1D(4 * cfg.n_embd, cfg.n_embd)
        self.dropout = nn.Dropout(cfg.dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.dropout(self.c_proj(F.gelu(self.c_fc(x), approximate="tanh")))


class Block(nn.Module):
    def __init__(self, cfg: GPT2Config) -> None:
        super().__init__()
        self.ln_1 = nn.LayerNorm(cfg.n_embd, eps=cfg.layer_norm_epsilon)
        self.attn = Attention(cfg)
        self.ln_2 = nn.LayerNorm(cfg.n_embd, eps=cfg.layer_norm_epsilon)
        self.mlp = MLP(cfg)

    def forward(self, x: torch.Tensor, allowed: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.ln_1(x), allowed)
        return x + self.mlp(self.ln_2(x))


class GPT2Lite(nn.Module):
    """GPT-2 (pre-LayerNorm decoder) with a tied LM head; ``forward(ids, mask) -> logits (B, T, vocab)``."""

    def __init__(self, cfg: GPT2Config) -> None:
        super().__init__()
        self.cfg = cfg
        self.wte = nn.Embedding(cfg.vocab_size, cfg.n_embd)
        self.wpe = nn.Embedding(cfg.n_positions, cfg.n_embd)
        self.drop = nn.Dropout(cfg.dropout)
        self.h = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layer))
        self.ln_f = nn.LayerNorm(cfg.n_embd, eps=cfg.layer_norm_epsilon)
        self.reset_parameters()

    def reset_parameters(self, generator: torch.Generator | None = None) -> None:
        """GPT-2 initialisation: N(0, 0.02) weights, residual projections scaled by 1/sqrt(2 n_layer)."""
        std = self.cfg.initializer_range
        with torch.no_grad():
            for name, p in self.named_parameters():
                if name.endswith("ln_1.weight") or name.endswith("ln_2.weight") or name == "ln_f.weight":
                    p.fill_(1.0)
                elif name.endswith(".bias"):
                    p.zero_()
                else:
                    s = std / math.sqrt(2 * self.cfg.n_layer) if name.endswith("c_proj.weight") else std
                    p.copy_(torch.randn(p.shape, generator=generator, dtype=p.dtype) * s)

    def forward(self, ids: torch.Tensor, attention_mask: torch.Tensor | None = None,
                last_only: bool = False) -> torch.Tensor:
        """Logits ``(B, T, vocab)``; with ``last_only`` only the last position's, ``(B, 1, vocab)``."""
        B, T = ids.shape
        require(T <= self.cfg.n_positions, _ASS,
                f"sequence length {T} exceeds n_positions {self.cfg.n_positions}")
        mask = torch.ones_like(ids, dtype=torch.bool) if attention_mask is None else attention_mask.bool()
        pos = (mask.long().cumsum(-1) - 1).clamp(min=0)  # positions count real tokens only (left padding)
        causal = torch.ones(T, T, dtype=torch.bool, device=ids.device).tril()
        allowed = (causal[None, :, :] & mask[:, None, :])[:, None]  # (B, 1, T, T): query row, key column
        x = self.drop(self.wte(ids) + self.wpe(pos))
        for block in self.h:
            x = block(x, allowed)
        if last_only:
            x = x[:, -1:]
        return self.ln_f(x) @ self.wte.weight.T  # tied LM head (GPT-2's lm_head.weight is wte.weight)


# ---- optional: a local Hugging Face GPT-2 checkpoint (weights only; the BPE tokenizer is in factset) ----

_ST_DTYPES = {"F64": torch.float64, "F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16}


def read_safetensors(path) -> dict[str, torch.Tensor]:
    """Tensors of a ``.safetensors`` file (8-byte little-endian header length, JSON header, raw data)."""
    import json
    from pathlib import Path

    raw = Path(path).read_bytes()
    n = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8:8 + n])
    data = bytearray(raw[8 + n:])
    out = {}
    for name, spec in header.items():
        if name == "__metadata__":
            continue
        require(spec["dtype"] in _ST_DTYPES, _ASS, f"{path}: unsupported safetensors dtype {spec['dtype']}")
        a, b = spec["data_offsets"]
        t = torch.frombuffer(data[a:b], dtype=_ST_DTYPES[spec["dtype"]]) if b > a else \
            torch.empty(0, dtype=_ST_DTYPES[spec["dtype"]])
        out[name] = t.reshape(spec["shape"]).clone()
    return out


def from_hf_state(sd: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Map a ``GPT2LMHeadModel``/``GPT2Model`` state dict to :class:`GPT2Lite` names.

    Drops the ``transformer.`` prefix, the causal-mask buffers ``attn.bias``/``attn.masked_bias`` and
    ``lm_head.weight`` (tied to ``wte.weight`` in GPT-2; an untied head is refused).

    >>> sd = {"transformer.wte.weight": torch.ones(3, 2), "lm_head.weight": torch.ones(3, 2),
    ...       "transformer.h.0.attn.bias": torch.ones(1, 1, 4, 4)}
    >>> sorted(from_hf_state(sd))
    ['wte.weight']
    """
    out = {}
    for name, t in sd.items():
        key = name.removeprefix("transformer.")
        if key.endswith(("attn.bias", "attn.masked_bias")) and t.dim() != 1:
            continue
        if key == "lm_head.weight":
            wte = sd.get("transformer.wte.weight", sd.get("wte.weight"))
            require(wte is not None and torch.equal(t, wte), _ASS, "lm_head.weight is not tied to wte.weight")
            continue
        out[key] = t
    return out


def load_checkpoint(directory, dropout: float | None = None) -> GPT2Lite:
    """A :class:`GPT2Lite` holding the weights of a local GPT-2 checkpoint folder (e.g. ``gpt2`` saved with
    ``save_pretrained``). ``dropout`` defaults to the checkpoint's ``resid_pdrop`` (0.1 for ``gpt2``)."""
    import json
    from pathlib import Path

    d = Path(directory)
    require((d / "config.json").is_file(), _ASS, f"{d}: no config.json (expected a GPT-2 checkpoint folder)")
    hc = json.loads((d / "config.json").read_text())
    if (d / "model.safetensors").is_file():
        sd = read_safetensors(d / "model.safetensors")
    elif (d / "pytorch_model.bin").is_file():
        sd = torch.load(d / "pytorch_model.bin", map_location="cpu", weights_only=True)
    else:
        require(False, _ASS, f"{d}: neither model.safetensors nor pytorch_model.bin found")
    cfg = GPT2Config(vocab_size=hc["vocab_size"], n_positions=hc.get("n_positions", 1024),
                     n_embd=hc["n_embd"], n_layer=hc["n_layer"], n_head=hc["n_head"],
                     dropout=hc.get("resid_pdrop", 0.1) if dropout is None else dropout,
                     layer_norm_epsilon=hc.get("layer_norm_epsilon", 1e-5))
    model = GPT2Lite(cfg)
    state = {k: v.to(torch.float32) for k, v in from_hf_state(sd).items()}
    missing, unexpected = model.load_state_dict(state, strict=False)
    require(not missing and not unexpected, _ASS,
            f"{d}: checkpoint does not match GPT-2 names (missing {missing[:3]}, "
            f"unexpected {unexpected[:3]})")
    return model
