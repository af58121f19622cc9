"""PyTorch numerics: models, integrators, observables and the results store (never imported by theory)."""
