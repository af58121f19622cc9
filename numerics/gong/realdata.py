"""The CounterFact fine-tuning pipeline of gong-2025 §7.2 [Code], batched over seeds, with syntax/semantics
metrics.

What the official script (``src/code_counterfact/gpt2_counterfact_train_original.py``) does: 3 (question,
answer) pairs per record, single-token answers, **cross-entropy of the logits at the last position** against
the answer token, AdamW over all parameters (lr 5e-6, weight decay 0.01, no scheduler), batch 32. The pairs
are visited in the **same fixed order every epoch** (no reshuffle: batch ``i`` is always pairs
``32i..32i+31`` of the pickle), and the per-epoch correct count is accumulated **online**: on each training
batch, from the logits of the forward pass that the batch's update then uses (train mode, dropout on, before
the step), not on a separate evaluation pass; there is no held-out set. The official tokenizer pads on the
**right** (pad = eos) and the forward call passes no attention mask, so for every prompt shorter than the
longest of its batch the "last position" is a pad token.

What this module does by default and why: the pairs are **reshuffled every epoch** (per seed), accuracies
come from an **evaluation pass over all pairs after the epoch** (eval mode; the same model for every pair,
and an epoch-0 value before training), and prompts are padded on the **left** (``padding="left"``) with
positions counting real tokens only, so the last position is the prompt's last token. The official
bookkeeping is an option: ``TrainConfig(shuffle=False, accuracy="online")`` (fixed order, online accuracy;
``TWOSTAGE_COUNTERFACT_OFFICIAL=1`` in ``twostage run counterfact``), and ``padding="right"`` reproduces
where the official loss is read (a pad position; here the pads are masked, not attended as eos tokens).
``tests/gong/test_realdata.py`` shows each option.

Seeds (initialisation, batch order, dropout) run as one program: the parameters are stacked on a leading
seed axis (``torch.func.stack_module_state`` layout) and the model is applied with ``torch.func.vmap`` over
``functional_call``. AdamW is elementwise, so one AdamW over the stacked tensors is exactly an independent
AdamW per seed (the summed loss gives each seed its own gradient).

Metrics per epoch (epoch 0: before training): mean loss on all pairs (eval mode), *exact* accuracy (top-1
token equals the answer, compared as strings after lower-casing and stripping, like the official code) and
*type* accuracy (top-1 token is an answer of the pair's relation: right type, RECONSTRUCTED measure of
"syntactically right", §8 item 7), both from the evaluation pass (``exact_eval``/``type_eval``) and online
(``exact_online``/``type_online``; ``nan`` at epoch 0); ``exact``/``type`` are those that
``TrainConfig.accuracy`` selects. ``T_type``/``T_exact``: first epoch with accuracy >= ``threshold``.

>>> from twostage.numerics.gong.factset import FactSetConfig, WordTokenizer, generate
>>> from twostage.numerics.gong.gpt2lite import GPT2Config
>>> recs = generate(FactSetConfig(relations=2, subjects_per_relation=3), seed=0)
>>> tok = WordTokenizer.build(recs)
>>> enc = encode(recs, tok)
>>> enc.ids.shape[0], bool((enc.mask[:, -1]).all())   # 18 pairs; left padding: last column is never a pad
(18, True)
>>> res = train(GPT2Config(vocab_size=len(tok), n_embd=16, n_layer=1, n_head=2), enc,
...             TrainConfig(epochs=2, lr=1e-3, seeds=2))
>>> res["exact"].shape, res["epoch"].tolist()
((3, 2), [0, 1, 2])
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch.func import functional_call, stack_module_state, vmap

from twostage.numerics.config import require
from twostage.numerics.gong.factset import answer_types, pairs
from twostage.numerics.gong.gpt2lite import GPT2Config, GPT2Lite

_ASS = "gong-2025/ass/factset"
PADDINGS = ("left", "right")
ACCURACIES = ("eval", "online")


@dataclass(frozen=True)
class TrainConfig:
    """Optimiser and bookkeeping. The paper fine-tunes with ``lr = 5e-6`` (§7.2); training from scratch needs
    a larger rate (the experiments use 1e-3 at small width, a documented deviation)."""

    epochs: int = 40
    lr: float = 5e-6
    weight_decay: float = 0.01
    batch_size: int = 32
    seeds: int = 1
    padding: str = "left"
    threshold: float = 0.9
    checkpoints: tuple[int, ...] = ()
    eval_batch: int = 512
    watch: int = 8  # pairs whose top-1 predictions are logged every epoch (spread over the data set)
    stop_when_exact: bool = False  # stop after the epoch at which every seed has reached T_exact
    shuffle: bool = True  # reshuffle the pairs every epoch (False: the official fixed order)
    accuracy: str = "eval"  # "eval": evaluation pass after the epoch; "online": official, on training batches

    def __post_init__(self) -> None:
        require(self.epochs >= 0 and self.batch_size >= 1 and self.seeds >= 1, _ASS,
                "epochs >= 0, batch_size >= 1 and seeds >= 1 are needed")
        require(self.lr > 0 and self.weight_decay >= 0, _ASS, "lr > 0 and weight_decay >= 0 are needed")
        require(self.padding in PADDINGS, _ASS, f"padding must be one of {PADDINGS}, got {self.padding!r}")
        require(0 < self.threshold <= 1, _ASS, f"threshold must be in (0, 1], got {self.threshold}")
        require(self.accuracy in ACCURACIES, _ASS,
                f"accuracy must be one of {ACCURACIES}, got {self.accuracy!r}")


@dataclass
class Encoded:
    """Tokenised pairs: ``ids``/``mask`` ``(N, T)`` padded to the longest prompt, ``target`` ``(N,)``, ``rel``
    relation index ``(N,)``; ``type_mask`` ``(R, V)``: token is an answer of relation r; ``norm`` ``(V,)`` and
    ``gold_norm`` ``(N,)``: class ids of lower-cased stripped strings (the official correctness test)."""

    ids: torch.Tensor
    mask: torch.Tensor
    target: torch.Tensor
    rel: torch.Tensor
    type_mask: torch.Tensor
    norm: torch.Tensor
    gold_norm: torch.Tensor
    relations: list[str]
    dropped: int = 0

    def to(self, device) -> Encoded:
        moved = {k: getattr(self, k).to(device) for k in ("ids", "mask", "target", "rel", "type_mask", "norm",
                                                           "gold_norm")}
        return Encoded(**moved, relations=self.relations, dropped=self.dropped)


def pad(seqs: list[list[int]], pad_id: int, side: str = "left") -> tuple[torch.Tensor, torch.Tensor]:
    """Pad token-id lists to a common length on ``side``; returns ``(ids, mask)``.

    >>> pad([[5, 6, 7], [8]], 0, "left")[0].tolist(), pad([[5, 6, 7], [8]], 0, "right")[0].tolist()
    ([[5, 6, 7], [0, 0, 8]], [[5, 6, 7], [8, 0, 0]])
    """
    require(side in PADDINGS, _ASS, f"padding must be one of {PADDINGS}, got {side!r}")
    T = max(len(s) for s in seqs)
    ids = torch.full((len(seqs), T), pad_id, dtype=torch.long)
    mask = torch.zeros((len(seqs), T), dtype=torch.bool)
    for i, s in enumerate(seqs):
        sl = slice(T - len(s), T) if side == "left" else slice(0, len(s))
        ids[i, sl] = torch.tensor(s, dtype=torch.long)
        mask[i, sl] = True
    return ids, mask


def encode(records: list[dict], tok, padding: str = "left") -> Encoded:
    """Tokenise the 3 pairs of every record; pairs whose answer is not one token are dropped (counted)."""
    prs = pairs(records)
    types = answer_types(records)
    rels = list(types)
    norm_of = [s.strip().lower() for s in tok.vocab]
    classes = {s: i for i, s in enumerate(dict.fromkeys(norm_of))}
    norm = torch.tensor([classes[s] for s in norm_of], dtype=torch.long)
    type_mask = torch.zeros(len(rels), len(tok.vocab), dtype=torch.bool)
    for r, rel in enumerate(rels):
        allowed = {a.lower() for a in types[rel]}
        type_mask[r] = torch.tensor([s in allowed for s in norm_of])
    seqs, target, rel_idx, gold = [], [], [], []
    for q, a, rel in prs:
        t = tok.encode(a)
        if len(t) != 1:
            continue
        seqs.append(tok.encode(q))
        target.append(t[0])
        rel_idx.append(rels.index(rel))
        gold.append(classes.get(a.strip().lower(), -1))
    require(len(seqs) > 0, _ASS, "no pair has a single-token answer")
    ids, mask = pad(seqs, tok.PAD, padding)
    return Encoded(ids, mask, torch.tensor(target), torch.tensor(rel_idx), type_mask, norm,
                   torch.tensor(gold), rels, dropped=len(prs) - len(seqs))


def _trim(ids: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Drop columns that are padding in every row (per-batch dynamic padding, as a tokenizer call does)."""
    used = mask.reshape(-1, mask.shape[-1]).any(0).nonzero()
    a, b = int(used.min()), int(used.max()) + 1
    return ids[..., a:b], mask[..., a:b]


def init_stacked(cfg: GPT2Config, seeds: int, generator: torch.Generator | None = None,
                 state: dict[str, torch.Tensor] | None = None, device="cpu") -> tuple[GPT2Lite, dict]:
    """A base module (for ``functional_call``) and parameters stacked over seeds: freshly GPT-2-initialised
    per seed, or ``state`` (e.g. a pretrained checkpoint) copied to every seed."""
    base = GPT2Lite(cfg).to(device)
    if state is not None:
        base.load_state_dict(state)
        params = {k: v.detach()[None].repeat(seeds, *([1] * v.dim())) for k, v in base.named_parameters()}
    else:
        models = []
        for _ in range(seeds):  # initialisation only; training and evaluation are batched over seeds
            m = GPT2Lite(cfg)
            m.reset_parameters(generator)
            models.append(m.to(device))
        params, _ = stack_module_state(models)
    return base, {k: v.detach().clone().requires_grad_(True) for k, v in params.items()}


def last_logits(base: GPT2Lite, params: dict, ids: torch.Tensor, mask: torch.Tensor, shared: bool = False):
    """Logits at the last position, ``(S, B, V)``; ``ids``/``mask`` are ``(S, B, T)``, or ``(B, T)`` with
    ``shared=True`` (the same inputs for every seed)."""
    f = lambda p, i, m: functional_call(base, p, (i, m), {"last_only": True})[:, -1]
    in_dims = (0, None, None) if shared else (0, 0, 0)
    return vmap(f, in_dims=in_dims, randomness="different")(params, ids, mask)


@torch.no_grad()
def evaluate(base: GPT2Lite, params: dict, enc: Encoded, batch: int = 512) -> dict[str, torch.Tensor]:
    """Per-seed mean loss, exact and type accuracy on all pairs (eval mode); predictions ``(S, N)``."""
    was = base.training
    base.eval()
    losses, preds = [], []
    for a in range(0, enc.ids.shape[0], batch):
        ids, mask = _trim(enc.ids[a:a + batch], enc.mask[a:a + batch])
        lg = last_logits(base, params, ids, mask, shared=True).float()
        tgt = enc.target[a:a + batch].expand(lg.shape[0], -1)
        losses.append(F.cross_entropy(lg.transpose(1, 2), tgt, reduction="none"))
        preds.append(lg.argmax(-1))
    base.train(was)
    loss, pred = torch.cat(losses, 1), torch.cat(preds, 1)
    return {"loss": loss.mean(1), **scores(enc, pred)}


def scores(enc: Encoded, pred: torch.Tensor) -> dict[str, torch.Tensor]:
    """Per-seed exact and type accuracy of top-1 predictions ``pred (S, N)`` of all pairs (and ``pred``)."""
    exact = enc.norm[pred] == enc.gold_norm[None]
    typed = enc.type_mask[enc.rel[None], pred]
    return {"exact": exact.double().mean(1), "type": typed.double().mean(1), "pred": pred}


def first_epoch(epochs: np.ndarray, acc: np.ndarray, threshold: float) -> np.ndarray:
    """First epoch at which ``acc (epochs, S) >= threshold``, per seed; ``nan`` if never.

    >>> first_epoch(np.arange(4), np.array([[0.1], [0.5], [0.95], [0.99]]), 0.9).tolist()
    [2.0]
    """
    hit = acc >= threshold
    return np.where(hit.any(0), epochs[hit.argmax(0)].astype(float), math.nan)


class AdamW:
    """PyTorch's AdamW update (decoupled weight decay, bias-corrected moments; defaults betas (0.9, 0.999),
    eps 1e-8), written out with ``torch._foreach`` ops. Numerically the same as ``torch.optim.AdamW``
    (``tests/gong/test_realdata.py``); it avoids importing ``torch._dynamo`` (seconds) in every process.
    """

    def __init__(self, params: list[torch.Tensor], lr: float, weight_decay: float = 0.01,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8) -> None:
        self.params, self.lr, self.wd, self.betas, self.eps = list(params), lr, weight_decay, betas, eps
        self.t = 0
        self.m = [torch.zeros_like(p) for p in self.params]
        self.v = [torch.zeros_like(p) for p in self.params]

    def zero_grad(self, set_to_none: bool = True) -> None:
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self) -> None:
        self.t += 1
        (b1, b2), lr = self.betas, self.lr
        ps = [p for p in self.params if p.grad is not None]
        idx = [i for i, p in enumerate(self.params) if p.grad is not None]
        gs, ms, vs = [p.grad for p in ps], [self.m[i] for i in idx], [self.v[i] for i in idx]
        torch._foreach_mul_(ps, 1 - lr * self.wd)
        torch._foreach_lerp_(ms, gs, 1 - b1)
        torch._foreach_mul_(vs, b2)
        torch._foreach_addcmul_(vs, gs, gs, 1 - b2)
        c1, c2 = 1 - b1 ** self.t, math.sqrt(1 - b2 ** self.t)
        denom = torch._foreach_sqrt(vs)
        torch._foreach_div_(denom, c2)
        torch._foreach_add_(denom, self.eps)
        torch._foreach_addcdiv_(ps, ms, denom, -lr / c1)


def _restore(saved: dict, params: dict, opt: AdamW, g: torch.Generator, rec: dict, ckpt: dict,
             type_ckpt: dict, device) -> tuple[int, torch.Tensor]:
    """Put a checkpoint of :func:`train` back in place; the first epoch still to run and ``reached``."""
    on = lambda d: {k: v.to(device) for k, v in d.items()}  # noqa: E731
    with torch.no_grad():
        for k, v in params.items():
            v.copy_(saved["params"][k])
        for mine, theirs in ((opt.m, saved["m"]), (opt.v, saved["v"])):
            for a, b in zip(mine, theirs):
                a.copy_(b)
    opt.t = int(saved["t"])
    g.set_state(saved["generator"])
    for k, v in saved["rec"].items():
        rec[k] = [t.numpy() for t in v]
    ckpt.update({k: on(v) for k, v in saved["checkpoints"].items()})
    type_ckpt.update(on(saved["type_ckpt"]))
    return int(saved["epoch"]) + 1, saved["reached"].to(device)


def train(cfg: GPT2Config, enc: Encoded, tc: TrainConfig, seed: int = 0, device="cpu",
          state: dict[str, torch.Tensor] | None = None, checkpoint=None) -> dict:
    """Train ``tc.seeds`` models on ``enc``; per-epoch metrics as ``(epochs + 1, S)`` numpy arrays.

    Returns ``epoch`` (``0..epochs``, shorter with ``stop_when_exact``), ``loss_train`` (mean per-pair
    training loss of the epoch, ``nan`` at epoch 0), ``loss_official`` (the official log's sum of batch
    means / N), ``loss`` (evaluation after the epoch), ``exact_eval``/``type_eval`` (evaluation after the
    epoch), ``exact_online``/``type_online`` (counted on the training batches, ``nan`` at epoch 0),
    ``exact``/``type`` (the pair ``tc.accuracy`` selects; at epoch 0 always the evaluation before training),
    ``T_type``, ``T_exact`` (per seed, from ``type``/``exact``), the final stacked ``params``, the ``base``
    module and ``checkpoints``: ``{epoch: params}`` for ``tc.checkpoints`` plus ``"T_type"``: each seed's
    parameters at its own ``T_type`` (final parameters for a seed that never reaches it); ``pred``
    ``(epochs + 1, S, tc.watch)``: top-1 token ids of the pairs ``watch`` in every epoch, from the selected
    accuracy's predictions (the official prediction log).

    ``checkpoint`` (optional; ``twostage.runs.checkpoint.Checkpointer``): an object with ``due(epoch)``,
    ``save(epoch, state)`` and ``load() -> state | None``; the loop saves its whole state (stacked weights,
    AdamW moments, its generator, the per-epoch record, the checkpoints) after every epoch ``due`` says and
    continues from a state ``load`` returns (the global generator behind dropout is the checkpointer's to
    save). A resumed run gives the same result as an uninterrupted one.
    """
    g = torch.Generator().manual_seed(seed)
    if cfg.dropout > 0:
        torch.manual_seed(seed)  # dropout masks (global RNG)
    enc = enc.to(device)
    base, params = init_stacked(cfg, tc.seeds, g, state, device)
    base.train()
    opt = AdamW(list(params.values()), lr=tc.lr, weight_decay=tc.weight_decay)
    N, S = enc.ids.shape[0], tc.seeds
    keys = ("loss_train", "loss_official", "loss", "exact_eval", "type_eval", "exact_online", "type_online",
            "exact", "type", "pred")
    rec: dict[str, list] = {k: [] for k in keys}
    watch = torch.linspace(0, N - 1, min(tc.watch, N)).round().long().to(device)
    ckpt: dict = {}
    type_ckpt = {k: v.detach().clone() for k, v in params.items()}
    reached = torch.zeros(S, dtype=torch.bool, device=device)
    nan = torch.full((S,), math.nan, dtype=torch.float64)

    def log(ev, on, lt, lo):
        nonlocal reached
        chosen = on if on is not None and tc.accuracy == "online" else ev
        for k, v in (("loss_train", lt), ("loss_official", lo), ("loss", ev["loss"]),
                     ("exact_eval", ev["exact"]), ("type_eval", ev["type"]),
                     ("exact_online", nan if on is None else on["exact"]),
                     ("type_online", nan if on is None else on["type"]),
                     ("exact", chosen["exact"]), ("type", chosen["type"])):
            rec[k].append(np.asarray(v.cpu() if torch.is_tensor(v) else v, dtype=float))
        rec["pred"].append(chosen["pred"][:, watch].cpu().numpy())
        new = (chosen["type"] >= tc.threshold) & ~reached
        for k, v in params.items():
            type_ckpt[k] = torch.where(new.view(-1, *([1] * (v.dim() - 1))), v.detach(), type_ckpt[k])
        reached = reached | new

    saved = checkpoint.load() if checkpoint is not None else None
    if saved is None:
        log(evaluate(base, params, enc, tc.eval_batch), None, np.full(S, math.nan), np.full(S, math.nan))
        first = 1
    else:
        first, reached = _restore(saved, params, opt, g, rec, ckpt, type_ckpt, device)
    fixed = torch.arange(N, device=device).expand(S, N)  # the official order: the data set's, every epoch
    for epoch in range(first, tc.epochs + 1):
        perm = torch.rand(S, N, generator=g).argsort(1).to(device) if tc.shuffle else fixed
        tot, official = torch.zeros(S, device=device), torch.zeros(S, device=device)
        online = torch.zeros(S, N, dtype=torch.long, device=device)  # top-1 of each pair when it was trained
        for a in range(0, N, tc.batch_size):
            idx = perm[:, a:a + tc.batch_size]
            ids, mask = _trim(enc.ids[idx], enc.mask[idx])
            lg = last_logits(base, params, ids, mask)
            online.scatter_(1, idx, lg.detach().argmax(-1))  # before the step, train mode (official)
            loss = F.cross_entropy(lg.float().transpose(1, 2), enc.target[idx], reduction="none").mean(1)
            opt.zero_grad(set_to_none=True)
            loss.sum().backward()
            opt.step()
            tot += loss.detach() * idx.shape[1]
            official += loss.detach()
        log(evaluate(base, params, enc, tc.eval_batch), scores(enc, online), tot / N, official / N)
        if epoch in tc.checkpoints:
            ckpt[epoch] = {k: v.detach().clone() for k, v in params.items()}
        if tc.stop_when_exact and bool((torch.as_tensor(rec["exact"][-1]) >= tc.threshold).all()):
            break
        if checkpoint is not None and epoch < tc.epochs and checkpoint.due(epoch):
            checkpoint.save(epoch, {
                "epoch": epoch, "params": params, "m": opt.m, "v": opt.v, "t": opt.t,
                "generator": g.get_state(),
                "rec": {k: [torch.from_numpy(np.asarray(a)) for a in v] for k, v in rec.items()},
                "checkpoints": ckpt, "type_ckpt": type_ckpt, "reached": reached})
    for k, v in params.items():  # seeds that never reached the type threshold: their final parameters
        type_ckpt[k] = torch.where(reached.view(-1, *([1] * (v.dim() - 1))), type_ckpt[k], v.detach())
    ckpt["T_type"] = type_ckpt
    out = {k: np.stack(v) for k, v in rec.items()}
    out["epoch"] = np.arange(len(rec["loss"]))
    out["watch"] = watch.cpu().numpy()
    out["T_type"] = first_epoch(out["epoch"], out["type"], tc.threshold)
    out["T_exact"] = first_epoch(out["epoch"], out["exact"], tc.threshold)
    out.update(params={k: v.detach() for k, v in params.items()}, base=base, checkpoints=ckpt)
    return out
