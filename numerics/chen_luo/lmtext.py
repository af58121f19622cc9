"""WikiText-style raw text for the chen-luo-2025 §5.2 experiment: loader, word-level tokenizer, windows, and a
generator of WikiText-like text for tests.

**Real data.** Point ``TWOSTAGE_LM_TEXT`` at a raw WikiText file (e.g. ``wikitext-2-raw/wiki.train.raw`` or
``wikitext-103-raw/wiki.train.raw``; the paper does not say which). The file is read as UTF-8; every non-empty
line becomes its whitespace-separated words followed by ``<eos>`` (the usual word-level WikiText convention).
The vocabulary keeps the ``max_vocab - 1`` most frequent words plus ``<unk>`` (paper: 31,999 tokens;
RECONSTRUCTED: the paper's tokenizer is not specified). The token stream is cut into non-overlapping windows
of ``seq_len + 1`` tokens: the first ``seq_len`` are the input, the last is the target (loss on the last token
only).

>>> text = synthetic_wikitext(n_tokens=2000, vocab=50, seed=0)
>>> text.startswith(" = ")
True
>>> tok = Tokenizer.fit(text, max_vocab=40)
>>> len(tok.words), tok.words[0]
(40, '<unk>')
>>> ids = tok.encode(text)
>>> X, Y = windows(ids, seq_len=8)
>>> X.shape[1], Y.shape[0] == X.shape[0], tok.decode(X[0, :3]).count(" ")
(8, True, 2)
"""

from __future__ import annotations

import os
import random
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import torch

from twostage.numerics.config import require

ENV = "TWOSTAGE_LM_TEXT"
UNK, EOS = "<unk>", "<eos>"


def read_lines(path: str | Path) -> list[str]:
    p = Path(path)
    require(p.is_file(), "chen-luo-2025/exp/lm-text", f"{ENV}={path} is not a readable file")
    return p.read_text(encoding="utf-8", errors="replace").splitlines()


def words_of(text_or_lines) -> list[str]:
    lines = text_or_lines.splitlines() if isinstance(text_or_lines, str) else text_or_lines
    out: list[str] = []
    for ln in lines:
        w = ln.split()
        if w:
            out.extend(w)
            out.append(EOS)
    return out


@dataclass(frozen=True)
class Tokenizer:
    """Word-level vocabulary: ``<unk>`` first, then words by decreasing frequency (ties alphabetical)."""

    words: tuple[str, ...]

    @classmethod
    def fit(cls, text_or_lines, max_vocab: int) -> Tokenizer:
        require(max_vocab >= 2, "chen-luo-2025/exp/lm-text", "max_vocab must be >= 2")
        counts = Counter(words_of(text_or_lines))
        counts.pop(UNK, None)
        ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[: max_vocab - 1]
        return cls((UNK, *[w for w, _ in ranked]))

    def encode(self, text_or_lines) -> torch.Tensor:
        index = {w: i for i, w in enumerate(self.words)}
        return torch.tensor([index.get(w, 0) for w in words_of(text_or_lines)], dtype=torch.long)

    def decode(self, ids) -> str:
        return " ".join(self.words[int(i)] for i in ids)


def windows(ids: torch.Tensor, seq_len: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Non-overlapping windows of ``seq_len + 1`` tokens: inputs (N, seq_len) and last-token targets (N,)."""
    n = ids.numel() // (seq_len + 1)
    require(n >= 1, "chen-luo-2025/exp/lm-text", f"text too short for one window of {seq_len + 1} tokens")
    w = ids[: n * (seq_len + 1)].view(n, seq_len + 1)
    return w[:, :-1].contiguous(), w[:, -1].contiguous()


def random_windows(ids: torch.Tensor, seq_len: int, n: int, gen: torch.Generator) -> tuple[torch.Tensor, ...]:
    """``n`` windows at uniformly random offsets (stride-1 sampling of the stream): inputs (n, seq_len) and
    last-token targets (n,)."""
    require(ids.numel() > seq_len + 1, "chen-luo-2025/exp/lm-text",
            f"text too short for {seq_len + 1} tokens")
    start = torch.randint(0, ids.numel() - seq_len, (n,), generator=gen)
    w = ids[start.unsqueeze(1) + torch.arange(seq_len + 1)]
    return w[:, :-1], w[:, -1]


def load_corpus(path: str | Path | None, max_vocab: int, seq_len: int):
    """``(tokenizer, X, Y, source, ids)`` from ``path`` (or ``$TWOSTAGE_LM_TEXT``): non-overlapping windows
    and the
    whole token stream."""
    path = path or os.environ.get(ENV)
    require(path is not None, "chen-luo-2025/exp/lm-text", f"set {ENV} to a WikiText raw file")
    lines = read_lines(path)
    tok = Tokenizer.fit(lines, max_vocab)
    ids = tok.encode(lines)
    X, Y = windows(ids, seq_len)
    return tok, X, Y, str(path), ids


def synthetic_wikitext(n_tokens: int, vocab: int = 500, seed: int = 0, branching: int = 4) -> str:
    """WikiText-like raw text (for tests and the ci profile; not a substitute for WikiText): `` = Title = ``
    headings and `` = = Section = = `` subheadings, paragraphs of sentences from a sparse bigram chain over a
    Zipf-distributed vocabulary of made-up words, WikiText's `` @-@ `` / `` @,@ `` joiners, numbers and
    ``<unk>``. The bigram structure makes next-word prediction learnable."""
    rng = random.Random(seed)
    syll = ["ka", "lo", "mi", "ren", "to", "sa", "vel", "un", "dor", "ia", "pe", "qu", "zo", "an", "es"]
    lex = sorted({"".join(rng.choice(syll) for _ in range(rng.randint(1, 3))) for _ in range(3 * vocab)})[
        :vocab
    ]
    weights = [1.0 / (k + 1) for k in range(len(lex))]
    succ = {w: rng.choices(lex, weights, k=branching) for w in lex}
    out, count = [], 0
    while count < n_tokens:
        title = " ".join(rng.choices(lex, weights, k=rng.randint(1, 3))).title()
        out.append(f" = {title} = ")
        out.append("")
        for _ in range(rng.randint(1, 3)):
            words, w = [], rng.choices(lex, weights)[0]
            for _ in range(rng.randint(40, 120)):
                r = rng.random()
                if r < 0.02:
                    words.append(UNK)
                elif r < 0.04:
                    words += [str(rng.randint(1, 1999)), "@,@", str(rng.randint(100, 999))]
                elif r < 0.06:
                    words += [w, "@-@"]
                elif r < 0.12:
                    words.append("," if rng.random() < 0.6 else ".")
                w = rng.choice(succ[w]) if rng.random() < 0.85 else rng.choices(lex, weights)[0]
                words.append(w)
            words.append(".")
            out.append(" " + " ".join(words) + " ")
            count += len(words)
        sec = " ".join(rng.choices(lex, weights, k=2)).title()
        out += ["", f" = = {sec} = = ", ""]
    return "\n".join(out) + "\n"
