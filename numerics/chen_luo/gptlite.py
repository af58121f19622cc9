"""A small decoder-only transformer for the chen-luo-2025 experiments (§5, App. B), weights in the paper's
convention (tokens are rows: ``X W_V``, ``softmax(X W_Q W_K^T X^T / sqrt(d)) X W_V``, ``act(H W^{[1]})
W^{[2]}``).

* anchor function (§5.1): 1 layer, 1 head, tanh FFN, frozen token embedding and unembedding (PAPER); no
residual
  connection and no LayerNorm, i.e. Def. 3 itself, plus frozen random positional embeddings (RECONSTRUCTED:
  the paper does not say whether its GPT-style block keeps residuals; positions are needed to tell tokens
  apart).
* WikiText (§5.2): 2 layers, residual after attention and after the FFN, GeLU, no LayerNorm, 1 head, learned
  positional embeddings, everything trainable (PAPER).

Every trainable weight ~ N(0, init_std^2) (paper: ``d^{-0.85}`` resp. ``d^{-1.2}``); frozen embeddings get
rows of unit expected norm (N(0, 1/d) entries, RECONSTRUCTED). Only the last position's logits are computed
(the loss is on the last token only, PAPER), so the last layer evaluates one attention row.

>>> cfg = GPTConfig(vocab=11, seq_len=4, d_model=8, d_ff=16, init_std=0.1)
>>> m = GPTLite(cfg, torch.Generator().manual_seed(0))
>>> tuple(m(torch.randint(0, 11, (3, 4))).shape)
(3, 11)
>>> sorted(m.groups()["attention"]), sorted(m.groups()["outer"])
(['l0.WK', 'l0.WQ'], ['l0.W1', 'l0.W2', 'l0.WV'])
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from twostage.numerics.config import require

ACTIVATIONS = {"tanh": torch.tanh, "gelu": nn.functional.gelu, "identity": lambda x: x}


@dataclass(frozen=True)
class GPTConfig:
    vocab: int
    seq_len: int
    d_model: int
    d_ff: int
    init_std: float
    n_layers: int = 1
    activation: str = "tanh"
    residual: bool = False
    freeze_embeddings: bool = True
    learned_positions: bool = False

    def __post_init__(self) -> None:
        a = "chen-luo-2025/exp/model"
        require(
            self.vocab >= 2 and self.seq_len >= 1 and self.d_model >= 1 and self.d_ff >= 1, a, "bad sizes"
        )
        require(self.n_layers >= 1, a, f"n_layers must be >= 1, got {self.n_layers}")
        require(self.activation in ACTIVATIONS, a, f"activation must be one of {sorted(ACTIVATIONS)}")
        require(0 < self.init_std < 1, a, f"init_std must be in (0, 1), got {self.init_std}")


class GPTLite(nn.Module):
    """Parameters ``l{k}.WQ, l{k}.WK, l{k}.WV`` (d x d), ``l{k}.W1`` (d x d_ff), ``l{k}.W2`` (d_ff x d), plus
    ``embed`` (V x d), ``pos`` (s x d), ``unembed`` (d x V)."""

    def __init__(self, cfg: GPTConfig, gen: torch.Generator, dtype=torch.float32) -> None:
        super().__init__()
        self.cfg = cfg
        d, f, V, s, sd = cfg.d_model, cfg.d_ff, cfg.vocab, cfg.seq_len, cfg.init_std

        def param(*shape, std, trainable=True):
            return nn.Parameter(
                std * torch.randn(*shape, generator=gen, dtype=dtype), requires_grad=trainable
            )

        frozen = cfg.freeze_embeddings
        emb_std = 1 / math.sqrt(d) if frozen else sd
        self.embed = param(V, d, std=emb_std, trainable=not frozen)
        self.unembed = param(d, V, std=emb_std, trainable=not frozen)
        self.pos = param(s, d, std=sd if cfg.learned_positions else emb_std, trainable=cfg.learned_positions)
        self.layers = nn.ParameterDict()
        for k in range(cfg.n_layers):
            for name, shape in (
                ("WQ", (d, d)),
                ("WK", (d, d)),
                ("WV", (d, d)),
                ("W1", (d, f)),
                ("W2", (f, d)),
            ):
                self.layers[f"l{k}_{name}"] = param(*shape, std=sd)
        self.act = ACTIVATIONS[cfg.activation]

    def w(self, layer: int, name: str) -> torch.Tensor:
        return self.layers[f"l{layer}_{name}"]

    def named_weights(self) -> dict[str, torch.Tensor]:
        """Trainable block weights by display name ``l{k}.{WQ,WK,WV,W1,W2}``."""
        return {k.replace("_", "."): v for k, v in self.layers.items()}

    def groups(self) -> dict[str, list[str]]:
        """``attention`` (W_Q, W_K) and ``outer`` (W_V, W^{[1]}, W^{[2]}) as in Fig. 1 of the paper."""
        names = list(self.named_weights())
        return {
            "attention": [n for n in names if n.split(".")[1] in ("WQ", "WK")],
            "outer": [n for n in names if n.split(".")[1] in ("WV", "W1", "W2")],
        }

    def attention_logits(
        self, h: torch.Tensor, layer: int, M: torch.Tensor | None = None, last_only: bool = False
    ) -> torch.Tensor:
        """``h W_Q W_K^T h^T / sqrt(d)`` (or with a given ``M`` in place of ``W_Q W_K^T``), causal."""
        q = h[:, -1:] if last_only else h
        if M is None:
            z = (q @ self.w(layer, "WQ")) @ (h @ self.w(layer, "WK")).transpose(-1, -2)
        else:
            z = q @ M @ h.transpose(-1, -2)
        z = z / math.sqrt(self.cfg.d_model)
        if not last_only:
            s = h.shape[1]
            mask = torch.ones(s, s, dtype=torch.bool, device=h.device).triu(1)
            z = z.masked_fill(mask, float("-inf"))
        return z

    def forward(self, x: torch.Tensor, M: dict[int, torch.Tensor] | None = None) -> torch.Tensor:
        """Logits of the last position (B, V); ``M`` optionally replaces ``W_Q W_K^T`` per layer."""
        h = self.embed[x] + self.pos[: x.shape[1]]
        L = self.cfg.n_layers
        for k in range(L):
            last = k == L - 1
            z = self.attention_logits(h, k, None if M is None else M.get(k), last_only=last)
            a = torch.softmax(z, dim=-1) @ (h @ self.w(k, "WV"))
            hk = h[:, -1:] if last else h
            h = hk + a if self.cfg.residual else a
            f = self.act(h @ self.w(k, "W1")) @ self.w(k, "W2")
            h = h + f if self.cfg.residual else f
        return h[:, -1] @ self.unembed


def last_token_loss(model: GPTLite, x: torch.Tensor, y: torch.Tensor, **kw) -> torch.Tensor:
    """Cross-entropy on the last token only (PAPER §5)."""
    return nn.functional.cross_entropy(model(x, **kw), y)
