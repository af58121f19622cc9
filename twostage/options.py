"""The ``twostage`` argument parser: every option with its help text, valid values and validation.

Every option is checked here, before any command starts computing: a malformed value is a
:class:`~twostage.errors.UsageError` (one line on stderr, exit 2). Inputs are validated alike in every
command: seeds are integers in ``[0, 2**32)``, ``--workers`` is at least 1, output files (``--json``,
``latex --out``) accept ``-`` for standard output.

>>> p = build_parser()
>>> p.parse_args(["verify", "--seed", "7", "--claim", "chen-luo-2025/prop2"]).seed
7
>>> p.parse_args(["verify", "--seed", str(2**32)])
Traceback (most recent call last):
...
twostage.errors.UsageError: argument --seed: must be an integer in [0, 2**32), got 4294967296
"""

from __future__ import annotations

import argparse

from twostage import PAPERS
from twostage.errors import UsageError

SEED_LIMIT = 2**32
PROFILES = ("ci", "quick", "full")  # twostage.verify.profiles.PROFILES (checked by a test)
DEVICES = "auto, cpu, cuda, cuda:N"
EXPERIMENTS = ("anchor-function", "lm-text", "gong-synthetic", "gong-phase", "stage1-blowup", "counterfact",
               "rank-reduction")  # twostage.experiments.MODULES (checked by a test)
KINDS = ("sequential", "process", "dask")  # twostage.runs.executor.KINDS (checked by a test)
ECHO = 80  # at most this many characters of a user's value are echoed in an error


def shorten(text: str, width: int = ECHO) -> str:
    """``text`` cut to ``width`` characters with an ellipsis and its length (for echoing user input).

    >>> shorten("x" * 100, 10)
    'xxxxxxxxx… (100 characters)'
    """
    return text if len(text) <= width else f"{text[:width - 1]}… ({len(text)} characters)"


def clip_message(message: str, width: int = ECHO) -> str:
    """The first line of ``message``, every word longer than ``2 * width`` characters cut to ``width`` (a
    100,000-character claim id is not echoed whole; paths stay whole).

    >>> clip_message("unknown claim '" + "a" * 200 + "'", 20)
    "unknown claim 'aaaaaaaaaaaaaaaaaa… (202 characters)"
    """
    first = message.splitlines()[0] if message else message
    return " ".join(shorten(w, width) if len(w) > 2 * width else w for w in first.split(" "))


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2 (argparse prints usage otherwise)
        raise UsageError(clip_message(message))


def seed(value: str) -> int:
    """A seed: an integer in ``[0, 2**32)`` (what NumPy, PyTorch and Hypothesis all accept)."""
    try:
        s = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer in [0, 2**32), got {shorten(value)!r}") \
            from None
    if not 0 <= s < SEED_LIMIT:
        raise argparse.ArgumentTypeError(f"must be an integer in [0, 2**32), got {shorten(str(s))}")
    return s


def workers(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid int value: {shorten(value)!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"--workers must be a positive integer, got {n}")
    return n


def _common(p: argparse.ArgumentParser, what: str = "claims") -> None:
    p.add_argument("--profile", default="ci", metavar="PROFILE",
                   help=f"ci (few examples, deterministic), quick, full (thousands of examples; GPU advised) "
                        f"-- one of {', '.join(PROFILES)} (default: ci)")
    p.add_argument("--device", default="cpu", metavar="DEVICE",
                   help=f"where the numerics run: {DEVICES} (default: cpu; auto picks CUDA when present)")
    p.add_argument("--seed", type=seed, default=0, metavar="SEED",
                   help=f"seed of the {what}: an integer in [0, 2**32) (default: 0)")


def paper(value: str) -> str:
    if value not in PAPERS:
        raise argparse.ArgumentTypeError(f"unknown paper {shorten(value)!r} (known: {', '.join(PAPERS)})")
    return value


def _paper(p: argparse.ArgumentParser, what: str) -> None:
    p.add_argument("--paper", type=paper, metavar="PAPER", help=f"{what}: one of {', '.join(PAPERS)}")


def _claim(p: argparse.ArgumentParser) -> None:
    p.add_argument("--claim", metavar="ID",
                   help="one claim id (twostage claims lists them), or a group prefix: chen-luo-2025/prop2 "
                        "selects every chen-luo-2025/prop2/... claim")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="twostage", description="Theorem companion for chen-luo-2025 and gong-2025.",
                epilog="exit codes: 0 nothing violated; 1 a claim violated or failed numerically; "
                       "2 bad input (one line on stderr); 3 a bug or a run that did not finish; "
                       "130 interrupted")
    p.add_argument("--results", default="results", metavar="DIR",
                   help="results directory (default: ./results)")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    c = sub.add_parser("claims", help="list claims: id, ref, provenance, kind, last status")
    _paper(c, "only this paper's claims")
    c.add_argument("--json", action="store_true", help="print JSON instead of a table")
    c.add_argument("--check", action="store_true",
                   help="check the claim graph (dangling uses/assumptions, cycles, claims without checker)")

    lx = sub.add_parser("latex", help="LaTeX of statements and bounds")
    _paper(lx, "only this paper's claims")
    _claim(lx)
    lx.add_argument("--out", metavar="FILE", help="write to this file instead of stdout ('-': stdout)")

    v = sub.add_parser("verify", help="check claims against the numerics and print verdicts")
    _paper(v, "only this paper's claims")
    _claim(v)
    _common(v, "Hypothesis draws and the numerics")
    v.add_argument("--json", dest="json_out", metavar="FILE",
                   help="write the verdicts as JSON to FILE ('-': standard output; the table then goes to "
                        "stderr)")
    v.add_argument("--force", action="store_true",
                   help="judge every claim again instead of reusing verdicts stored by an earlier "
                        "--executor process|dask run of the same code (shown as 'cached')")
    _executor_options(v, "claims as tasks of a resumable sweep (default: sequential, in this process)")

    r = sub.add_parser("run", help="run one experiment: trajectories + figures (checkpointed, resumable)")
    r.add_argument("experiment", metavar="EXPERIMENT", help=f"one of {', '.join(EXPERIMENTS)}")
    _common(r, "experiment")
    r.add_argument("--out", metavar="DIR", help="output directory (default: <results>/<experiment>)")
    for opt in ("--executor", "--workers", "--address"):  # accepted only to say why they are refused
        r.add_argument(opt, help=argparse.SUPPRESS)

    rp = sub.add_parser("report", help="static HTML report from stored results")
    rp.add_argument("--out", metavar="DIR", help="output directory (default: <results>/report)")

    pp = sub.add_parser("paper", help="regenerate paper/generated/; compile when LaTeX is present")
    pp.add_argument("--pdf", action="store_true", help="also compile paper/companion.tex (needs latexmk)")
    pp.add_argument("--dir", default="paper", help="paper directory holding companion.tex (default: ./paper)")

    a = sub.add_parser("audit", help="mutate each claim's formula, report what its checker catches")
    _paper(a, "only this paper's claims")
    _claim(a)
    _common(a, "Hypothesis draws and the numerics")
    a.add_argument("--quick", action="store_true", help="two deltas and the first few constants per formula")
    a.add_argument("--json", dest="json_out", metavar="FILE",
                   help="write the audit summaries as JSON to FILE ('-': standard output)")

    b = sub.add_parser("bench", help="throughput of the hot paths and ratios to naive loops / rooflines")
    b.add_argument("--device", default="cpu", metavar="DEVICE", help=f"{DEVICES} (default: cpu)")
    b.add_argument("--size", choices=["small", "full"], default="small", help="small (default) or full")
    b.add_argument("--json", dest="json_out", metavar="FILE",
                   help="write the numbers as JSON to FILE ('-': standard output; the table then goes to "
                        "stderr)")
    b.add_argument("--no-suite", action="store_true",
                   help="skip the verify-suite and audit end-to-end entries")
    b.add_argument("--workers", type=workers, metavar="N",
                   help="worker processes of the verify-suite entry, >= 1 (default: CPUs)")
    return p


def _executor_options(p: argparse.ArgumentParser, what: str) -> None:
    p.add_argument("--executor", choices=KINDS, metavar="EXECUTOR", help=f"{', '.join(KINDS)}: {what}")
    p.add_argument("--workers", type=workers, metavar="N",
                   help="worker processes, >= 1 (default: CPU count; alone it implies --executor process)")
    p.add_argument("--address", metavar="HOST:PORT",
                   help="dask scheduler, e.g. tcp://10.0.0.5:8786 (implies --executor dask)")
