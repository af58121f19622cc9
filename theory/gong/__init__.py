"""gong-2025 theory: reconstructed setting, derived updates and consequences, earlier-version bound, stage
claims, real-data (CounterFact-format) assumptions and the syntax-before-semantics claim.

Importing this package registers every gong claim (``twostage.theory.claims.load_all``).
"""

from twostage.theory.gong import derived, earlier, realdata, setting, stages  # noqa: F401
