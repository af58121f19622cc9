"""Publishing verdicts for readers: the HTML report, the LaTeX/PDF companion, the claim graph and the plots.

* ``report`` / ``html``: ``twostage report``; ``paper`` / ``tex``: ``twostage paper`` (LaTeX of the claims and
  verdict tables); ``graph``: the claim dependency graph; ``plots`` / ``figures``: every figure, saved by one
  ``png_bytes``.

Submodules are imported where used so the CLI starts fast.
"""

__all__ = ["figures", "graph", "html", "paper", "plots", "report", "tex"]
