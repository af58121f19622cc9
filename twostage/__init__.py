"""twostage: a theorem companion for chen-luo-2025 and gong-2025.

Layers (dependencies point one way, ``verify -> numerics -> theory``):

* :mod:`twostage.theory`   SymPy encodings of models, dynamics, bounds, with provenance.
* :mod:`twostage.numerics` PyTorch training / integration, batched over initialisations.
* :mod:`twostage.verify`   Hypothesis-driven checks producing verdicts; the CLI.
"""

__version__ = "0.1.0"
PAPERS = ("chen-luo-2025", "gong-2025")
