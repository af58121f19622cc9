"""A generated fact set in CounterFact's JSON format, the (question, answer) pairs, a word-level tokenizer.

gong-2025 §7.2 [Code] fine-tunes GPT-2 on CounterFact (``rome.baulab.info/data/dsets/counterfact.json``).
Each record ``{"case_id", "requested_rewrite": {"prompt" (with ``{}`` for the subject), "subject",
"relation_id", "target_true": {"str"}, "target_new": {"str"}}, "paraphrase_prompts": [2 full prompts]}``
gives 3 (question, answer) pairs: the rewrite prompt with the subject filled in and the 2 paraphrases, each
answered by ``" " + target_true.str`` (the real fact, not the counterfactual one).

CounterFact cannot be downloaded here, so :func:`generate` writes records of the same format (RECONSTRUCTED
data, not the paper's): invented subject names, relations with three prompt templates each
(``"The mother tongue of {} is"`` -> languages, ``"The capital of {} is"`` -> cities, ``"{} plays the sport
of"`` -> sports, ...) and a **typed answer vocabulary** per relation; each record's answer is drawn
uniformly from its relation's vocabulary. The type of an answer is its relation's vocabulary, for generated
and real records alike (:func:`answer_types`: the set of ``target_true`` strings per ``relation_id``), so a
prediction can be scored for being *of the right type* (syntax) separately from being *right* (semantics).

:class:`WordTokenizer` is built from the records: prompt words (``\\w+``, ``'s`` and single punctuation
marks) plus every answer string as one atom, so every answer is exactly one token (the official code asserts
single-token answers under GPT-2 BPE).

>>> recs = generate(FactSetConfig(subjects_per_relation=2, relations=3), seed=0)
>>> len(recs), len(pairs(recs))
(6, 18)
>>> recs[0]["requested_rewrite"]["prompt"]
'The mother tongue of {} is'
>>> q, a, rel = pairs(recs)[0]
>>> q.endswith(" is"), a.startswith(" "), rel
(True, True, 'P103')
>>> tok = WordTokenizer.build(recs)
>>> len(tok.encode(a))
1
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import torch

from twostage.numerics.config import ConfigError, require

_ASS = "gong-2025/ass/factset"

# relation id (Wikidata property, as in CounterFact), three prompt templates, typed answer vocabulary
RELATIONS: tuple[tuple[str, tuple[str, str, str], tuple[str, ...]], ...] = (
    ("P103", ("The mother tongue of {} is", "The native language of {} is", "{} was born speaking"),
     ("French", "English", "Spanish", "German", "Italian", "Dutch", "Russian", "Japanese", "Swedish",
      "Polish", "Finnish", "Greek")),
    ("P36", ("The capital of {} is", "The capital city of {} is", "{} has its capital in"),
     ("Paris", "Rome", "Berlin", "Madrid", "Vienna", "Oslo", "Lisbon", "Prague", "Dublin", "Warsaw", "Athens",
      "Cairo")),
    ("P641", ("{} plays the sport of", "{} is a professional", "The sport {} competes in is"),
     ("football", "basketball", "baseball", "hockey", "cricket", "tennis", "golf", "rugby", "volleyball",
      "handball", "badminton", "polo")),
    ("P106", ("{} works as a", "The profession of {} is", "By occupation {} is a"),
     ("lawyer", "actor", "physician", "architect", "journalist", "painter", "diplomat", "farmer", "pilot",
      "teacher", "chemist", "banker")),
    ("P1303", ("{} plays the instrument", "The instrument {} is known for is the", "{} performs on the"),
     ("piano", "guitar", "violin", "cello", "trumpet", "flute", "harp", "drums", "organ", "saxophone",
      "clarinet", "oboe")),
)
_ONSETS = ("b", "d", "k", "l", "m", "n", "r", "s", "t", "v", "z", "br", "dr", "gr", "st", "th")
_VOWELS = ("a", "e", "i", "o", "u", "ei", "ou")


@dataclass(frozen=True)
class FactSetConfig:
    """``relations`` (the first ``relations`` of :data:`RELATIONS`), subjects (records) per relation, answers
    per relation (the first ``answers_per_relation`` of each vocabulary)."""

    relations: int = 5
    subjects_per_relation: int = 24
    answers_per_relation: int = 12

    def __post_init__(self) -> None:
        require(1 <= self.relations <= len(RELATIONS), _ASS, f"relations must be in 1..{len(RELATIONS)}")
        require(self.subjects_per_relation >= 1, _ASS, "subjects_per_relation must be >= 1")
        require(2 <= self.answers_per_relation <= 12, _ASS, "answers_per_relation must be in 2..12")


def _names(n: int, g: torch.Generator) -> list[str]:
    """``n`` distinct invented two-word names (first name + surname) from random syllables."""
    names: list[str] = []
    seen: set[str] = set()

    def word(k: int) -> str:
        idx = torch.randint(0, len(_ONSETS) * len(_VOWELS), (k,), generator=g).tolist()
        return "".join(_ONSETS[i // len(_VOWELS)] + _VOWELS[i % len(_VOWELS)] for i in idx).capitalize()

    while len(names) < n:
        name = f"{word(2)} {word(3)}"
        if name not in seen:
            seen.add(name)
            names.append(name)
    return names


def generate(cfg: FactSetConfig = FactSetConfig(), seed: int = 0) -> list[dict]:
    """CounterFact-format records: for each relation, ``subjects_per_relation`` new subjects, each with a true
    answer drawn uniformly from the relation's vocabulary (and a different ``target_new``, unused here)."""
    g = torch.Generator().manual_seed(seed)
    names = _names(cfg.relations * cfg.subjects_per_relation, g)
    records = []
    for r, (rel, templates, vocab) in enumerate(RELATIONS[:cfg.relations]):
        vocab = vocab[:cfg.answers_per_relation]
        for j in range(cfg.subjects_per_relation):
            subject = names[r * cfg.subjects_per_relation + j]
            true, shift = torch.randint(0, len(vocab), (2,), generator=g).tolist()
            new = (true + 1 + shift % (len(vocab) - 1)) % len(vocab)
            records.append({
                "case_id": len(records),
                "requested_rewrite": {"prompt": templates[0], "subject": subject, "relation_id": rel,
                                      "target_true": {"str": vocab[true]}, "target_new": {"str": vocab[new]}},
                "paraphrase_prompts": [t.format(subject) for t in templates[1:]],
            })
    return records


def load_records(path: str | Path) -> list[dict]:
    """Records of a CounterFact JSON file (a list of records); a malformed file is a one-line ConfigError."""
    try:
        records = json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise ConfigError(_ASS, f"cannot read CounterFact JSON {path}: {exc}") from None
    require(isinstance(records, list) and len(records) > 0, _ASS, f"{path}: expected a non-empty JSON list")
    for i, rec in enumerate(records):
        try:
            rw = rec["requested_rewrite"]
            ok = "{}" in rw["prompt"] and isinstance(rw["subject"], str)
            ok = ok and isinstance(rw["target_true"]["str"], str)
            ok = ok and isinstance(rec["paraphrase_prompts"], list)
        except (KeyError, TypeError):
            ok = False
        require(ok, _ASS, f"{path}: record {i} lacks requested_rewrite.prompt/subject/target_true.str or "
                          "paraphrase_prompts")
    return records


def relation(rec: dict) -> str:
    """The record's relation id (``requested_rewrite.relation_id``; the prompt template if absent)."""
    rw = rec["requested_rewrite"]
    return str(rw.get("relation_id", rw["prompt"]))


def pairs(records: list[dict]) -> list[tuple[str, str, str]]:
    """(question, answer, relation id) triples, 3 per record, as in the official script (§7.2)."""
    out = []
    for rec in records:
        rw = rec["requested_rewrite"]
        answer, rel = " " + rw["target_true"]["str"], relation(rec)
        for q in [rw["prompt"].format(rw["subject"]), *rec["paraphrase_prompts"]]:
            out.append((q, answer, rel))
    return out


def answer_types(records: list[dict]) -> dict[str, list[str]]:
    """Relation id -> sorted answer strings seen for it (the answer *type* of §8 item 7; RECONSTRUCTED)."""
    types: dict[str, set[str]] = {}
    for rec in records:
        types.setdefault(relation(rec), set()).add(rec["requested_rewrite"]["target_true"]["str"].strip())
    return {k: sorted(v) for k, v in sorted(types.items())}


def answer_entropy(records: list[dict]) -> float:
    """Mean (over pairs) entropy, in nats, of the empirical answer distribution of the pair's relation: the
    loss of the best predictor that knows the relation (syntax) but not the fact (semantics). DERIVED.

    >>> round(answer_entropy(generate(FactSetConfig(relations=1, subjects_per_relation=2))), 4)  # 2 answers
    0.6931
    """
    counts: dict[str, dict[str, int]] = {}
    for rec in records:
        c = counts.setdefault(relation(rec), {})
        a = rec["requested_rewrite"]["target_true"]["str"]
        c[a] = c.get(a, 0) + 1
    tot = sum(sum(c.values()) for c in counts.values())
    h = 0.0
    for c in counts.values():
        n = sum(c.values())
        p = torch.tensor(list(c.values()), dtype=torch.float64) / n
        h += n / tot * float(-(p * p.log()).sum())
    return h


_WORD = re.compile(r"'s|\w+|[^\w\s]")


class WordTokenizer:
    """Word-level tokenizer over the records' prompts, with each answer string one atom.

    Ids: ``0 = <pad>``, ``1 = <unk>``, then answers (sorted), then prompt words (sorted). Encoding strips
    leading/trailing whitespace; a string that is a known answer atom encodes to that single id.
    """

    PAD, UNK = 0, 1

    def __init__(self, vocab: list[str]) -> None:
        self.vocab = list(vocab)
        self.index = {w: i for i, w in enumerate(self.vocab)}
        require(len(self.index) == len(self.vocab), _ASS, "duplicate tokenizer entries")

    @classmethod
    def build(cls, records: list[dict]) -> WordTokenizer:
        answers = sorted({a.strip() for rel in answer_types(records).values() for a in rel})
        words = sorted({w for q, _, _ in pairs(records) for w in _WORD.findall(q)} - set(answers))
        return cls(["<pad>", "<unk>", *answers, *words])

    def __len__(self) -> int:
        return len(self.vocab)

    def encode(self, text: str) -> list[int]:
        s = text.strip()
        if s in self.index:
            return [self.index[s]]
        return [self.index.get(w, self.UNK) for w in _WORD.findall(s)]

    def decode(self, ids: list[int]) -> str:
        return " ".join(self.vocab[i] for i in ids)


class BPETokenizer:
    """GPT-2's BPE tokenizer from a local checkpoint folder, through ``transformers`` (optional dependency).

    Answers must be one BPE token, as the official script asserts; :func:`encode_pairs` drops (and counts)
    pairs whose answer is not.
    """

    def __init__(self, directory: str | Path) -> None:
        try:
            from transformers import AutoTokenizer
        except ImportError:
            raise ConfigError(_ASS, "a GPT-2 BPE tokenizer needs the optional package 'transformers' "
                                    "(pip install transformers)") from None
        self.tok = AutoTokenizer.from_pretrained(str(directory), local_files_only=True)
        self.PAD = self.tok.eos_token_id  # GPT-2 has no pad token; the official code pads with eos
        self.vocab = [self.tok.decode([i]) for i in range(len(self.tok))]

    def __len__(self) -> int:
        return len(self.tok)

    def encode(self, text: str) -> list[int]:
        return list(self.tok.encode(text))

    def decode(self, ids: list[int]) -> str:
        return self.tok.decode(ids)
