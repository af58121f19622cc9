"""SymPy encodings of both papers (no torch here; numerics may lambdify what theory builds)."""
