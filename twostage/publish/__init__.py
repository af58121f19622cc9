"""Publishing verdicts for readers: the HTML report, the LaTeX/PDF companion, the claim graph and the plots.

* ``report`` / ``html``: ``twostage report``; ``paper`` / ``tex``: ``twostage paper`` (LaTeX of the claims and
  verdict tables); ``graph``: the claim dependency graph; ``plots`` / ``figures``: every figure, saved by one
  ``png_bytes``; ``mathml``: LaTeX as presentation MathML for the page; ``sections``: the page's claim
  sections and legend; ``gallery``: the experiments' own figures with captions.

Submodules are imported where used so the CLI starts fast.
"""

__all__ = ["figures", "gallery", "graph", "html", "mathml", "paper", "plots", "report", "sections", "tex"]
