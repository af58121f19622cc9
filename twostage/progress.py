"""Output people can follow: progress of ``twostage verify`` in a terminal and in a CI log, claim tables
that fit 80 columns without breaking a claim id, and a quiet end when the reader of stdout goes away.

* In a terminal: one live line (rich) with the claim being checked, ``done/total``, elapsed time and ETA;
  it disappears when the table is printed.
* Anywhere else (a pipe, a CI log): one plain line per finished claim, flushed at once::

      [ 3/12] holds              chen-luo-2025/thm1/riccati-positive  4.2s
      [ 4/12] holds (cached)     chen-luo-2025/thm1/upper-general     0.0s

  ``cached``: the verdict was reused from the store of an earlier ``--executor process|dask`` run of the
  same code (``--force`` judges again).

>>> import io
>>> buf = io.StringIO()
>>> with Progress(buf, total=2, live=False) as p:
...     p.done("x/y/z", "holds", 1.25)
...     p.done("x/y/w", "holds", 0.0, cached=True)
>>> print(buf.getvalue(), end="")
[1/2] holds              x/y/z  1.2s
[2/2] holds (cached)     x/y/w  0.0s
"""

from __future__ import annotations

from typing import IO, Any


class Progress:
    """Report claims as they start and finish; ``live`` picks the terminal line over plain lines."""

    def __init__(self, stream: IO[str], total: int, live: bool, console: Any = None) -> None:
        self.stream, self.total, self.live, self.console = stream, total, live, console
        self.count = 0
        self.width = len(str(total))
        self._bar: Any = None
        self._task: Any = None

    def __enter__(self) -> Progress:
        if self.live:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                SpinnerColumn,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )
            from rich.progress import Progress as Bar

            self._bar = Bar(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(bar_width=20),
                            MofNCompleteColumn(), TimeElapsedColumn(), TextColumn("ETA"),
                            TimeRemainingColumn(), console=self.console, transient=True)
            self._bar.__enter__()
            self._task = self._bar.add_task("verifying", total=self.total)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)

    def start(self, claim_id: str) -> None:
        """A claim starts (sequential runs: the live line names it)."""
        if self._bar is not None:
            self._bar.update(self._task, description=f"checking {claim_id}")

    def done(self, claim_id: str, status: str, seconds: float, cached: bool = False) -> None:
        """A claim finished with ``status`` (or ``error``/``crashed`` when no verdict came back)."""
        self.count += 1
        label = f"{status} (cached)" if cached else status
        if self._bar is not None:
            self._bar.update(self._task, advance=1, description=f"last: {claim_id} {label}")
            return
        try:
            print(f"[{self.count:>{self.width}}/{self.total}] {label:<18} {claim_id}  {seconds:.1f}s",
                  file=self.stream, flush=True)
        except BrokenPipeError:  # the reader went away (| head): the run goes on, quietly
            self.stream = _Null()


def human_console(stderr: bool = False):
    """The human stream as a rich console: stdout, or stderr when stdout carries JSON (``--json -``)."""
    import sys

    from rich.console import Console

    class _Console(Console):
        def on_broken_pipe(self) -> None:  # rich exits 1; the reader going away is no failure
            self.quiet = True
            raise BrokenPipeError

    stream = sys.stderr if stderr else sys.stdout
    # rich folds tables to 80 columns when the stream is not a terminal (CI logs, pipes): give it room
    return _Console(file=stream, highlight=False, width=None if stream.isatty() else 180)


def claim_table(title: str, columns: list[str], ids: list[str]):
    """A rich table of claims that fits narrow terminals: the first column (claim ids) is never broken
    (no wrap, as wide as the longest id); the others wrap at spaces and fold only a word wider than
    their column; a light frame (no vertical rules) leaves them the room."""
    from rich import box
    from rich.table import Table

    t = Table(title=title, box=box.SIMPLE_HEAD, padding=(0, 1), pad_edge=False)
    t.add_column(columns[0], no_wrap=True, min_width=max((len(i) for i in ids), default=5))
    for col in columns[1:]:
        t.add_column(col, overflow="fold")
    return t


def print_paper_notes(console, claims) -> None:
    """The opening line of each listed paper whose body is not available (what RECONSTRUCTED means)."""
    from twostage.publish.reading import paper_notes

    for note in paper_notes(claims):
        console.print(note, markup=False, soft_wrap=True)  # one line, however wide


def print_readings(console, verdicts) -> None:
    """After a table: how to read each ``(id, provenance, status)`` that is not a verdict on the paper's own
    statement and not ``holds`` (a failing reconstruction is not a finding about the paper)."""
    from twostage.publish.reading import needs_reading, reading

    for cid, prov, status in verdicts:
        if needs_reading(prov, status):
            console.print(f"  {cid} ({prov}, {status}): {reading(prov, status)}", markup=False,
                          soft_wrap=True)


def stdout_gone() -> None:
    """The reader of stdout went away (``| head``): send the rest of stdout nowhere, quietly."""
    import os
    import sys

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # no real file descriptor (tests)
        pass


class _Null:
    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        pass
