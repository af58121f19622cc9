"""The judging engine and the checkers (never imported by theory or numerics).

The public surface: :func:`checker` (the one way to write a check) with its :class:`Context`, the property
runner :func:`run_property`, the judges (pure data in, :class:`Measurement` out), the verdict vocabulary and
the profiles. The checkers themselves live in :mod:`twostage.verify.checks` (``load_checkers()``).
"""

from twostage.verify.check import Check, Context, checker
from twostage.verify.judge import (
    judge_binomial,
    judge_bound,
    judge_bound_float,
    judge_limit,
    judge_ordering,
    judge_residual,
    judge_scaling,
)
from twostage.verify.profiles import Profile, get_profile
from twostage.verify.prop import run_property
from twostage.verify.verdict import Measurement, Status, Verdict, combine

__all__ = ["Check", "Context", "Measurement", "Profile", "Status", "Verdict", "checker", "combine",
           "get_profile", "judge_binomial", "judge_bound", "judge_bound_float", "judge_limit",
           "judge_ordering", "judge_residual", "judge_scaling", "run_property"]
