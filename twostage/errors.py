"""Every error twostage raises on purpose, in one module, with its exit code.

All of them derive from :class:`TwostageError`. A :class:`BadInput` is a user mistake (an unknown paper,
claim, experiment, profile or device; a configuration outside a theorem's assumptions; an output path that
cannot be written; a corrupt results file): the CLI prints its one-line message and exits with code 2,
*before* any work is thrown away. Anything else that reaches the CLI is a bug (exit 3), except an interrupt
(130). The exit-code map is :func:`exit_code`; the CLI is the only caller.

This module imports nothing from the package, so every layer (theory, numerics, verify and the application)
may raise these errors without importing upwards.

>>> from twostage.errors import ConfigError, UnknownClaimError, exit_code
>>> exit_code(ConfigError("chen-luo-2025/ass/eps-small", "eps must be in (0, 1), got 2"))
2
>>> str(UnknownClaimError("unknown claim 'x'"))
"unknown claim 'x'"
>>> exit_code(RuntimeError("bug"))
3
"""

from __future__ import annotations

import errno

EXIT_OK, EXIT_VIOLATED, EXIT_BAD_INPUT, EXIT_INTERNAL, EXIT_INTERRUPTED = 0, 1, 2, 3, 130


class TwostageError(Exception):
    """Base of every error raised on purpose by twostage; ``str()`` is a one-line message."""

    exit_code = EXIT_INTERNAL

    def __str__(self) -> str:  # KeyError-style quoting of LookupErrors would break the one-line message
        return str(self.args[0]) if self.args else type(self).__name__


class BadInput(TwostageError):
    """A user mistake: one line on stderr, exit code 2."""

    exit_code = EXIT_BAD_INPUT


# --- input: names and options --------------------------------------------------------------------
class UsageError(BadInput):
    """A malformed command line (argparse's message, one line)."""


class UnknownPaperError(BadInput, LookupError):
    """A paper name that is not ``chen-luo-2025`` or ``gong-2025``."""


class UnknownClaimError(BadInput, LookupError):
    """A claim or assumption id that is not registered (the message suggests close ids)."""


class NoCheckerError(BadInput, LookupError):
    """A selected claim has no checker, or belongs to another paper than the one asked for."""


class UnknownExperimentError(BadInput, LookupError):
    """``twostage run NAME`` with an unknown ``NAME``."""


class ProfileError(BadInput, ValueError):
    """An unknown verification profile."""


class DeviceError(BadInput, ValueError):
    """An unknown device, or CUDA asked for where none is present."""


class ExecutorError(BadInput, ValueError):
    """An invalid executor, worker count or scheduler address (or an unreachable scheduler)."""


class ConfigError(BadInput, ValueError):
    """A configuration outside a claim's assumptions (or otherwise invalid); names the assumption."""

    def __init__(self, assumption: str, message: str) -> None:
        self.assumption = assumption
        super().__init__(f"configuration outside assumption {assumption}: {message}")


class GraphError(BadInput, ValueError):
    """The claim graph is unsound (dangling id, cycle, claim without checker)."""


class ToolchainMissing(BadInput, RuntimeError):
    """No ``latexmk``/``pdflatex`` on PATH for ``twostage paper --pdf``."""


# --- input: files ----------------------------------------------------------------------------------
class StoreError(BadInput, OSError):
    """A results path that cannot be written (or read)."""

    def __str__(self) -> str:  # OSError's str() would show the errno tuple
        return str(self.args[0]) if self.args else type(self).__name__


class CorruptResultsError(BadInput, ValueError):
    """A results file exists but cannot be read; the message names it."""


# --- not the user's fault: bugs or failed computations (exit 3 if they reach the CLI) --------------
class IntegrationError(TwostageError, RuntimeError):
    """An integrated element failed (non-finite value or step-size underflow); names element, step, time."""


class UnsupportedExpression(TwostageError, TypeError):
    """An expression has a node the ball evaluator does not handle."""


class LatexReadError(TwostageError, ValueError):
    """Printed LaTeX that cannot be parsed back."""


class MacroNameError(TwostageError, ValueError):
    """Two claim ids map to the same paper macro key."""


class CompileError(TwostageError, RuntimeError):
    """``latexmk`` failed on the companion PDF."""


# the machine's, not the program's: a full disk, a quota, a read-only file system (exit 2, one line)
ENVIRONMENT_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS})


def exit_code(exc: BaseException) -> int:
    """The CLI's exit code for an exception that reached it (2 user mistake, 130 interrupt, 3 bug).

    >>> exit_code(OSError(errno.ENOSPC, "No space left on device"))
    2
    """
    if isinstance(exc, KeyboardInterrupt):
        return EXIT_INTERRUPTED
    if isinstance(exc, TwostageError):
        return exc.exit_code
    if isinstance(exc, OSError) and exc.errno in ENVIRONMENT_ERRNOS:
        return EXIT_BAD_INPUT
    return EXIT_INTERNAL
