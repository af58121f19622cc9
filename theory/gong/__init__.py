"""gong-2025 theory: reconstructed setting, derived updates and consequences, earlier-version bound, stage claims.

Importing this package registers every gong claim (``twostage.theory.claims.load_all``).
"""

from twostage.theory.gong import derived, earlier, setting, stages  # noqa: F401
