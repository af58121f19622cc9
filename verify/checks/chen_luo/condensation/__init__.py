"""chen-luo-2025 condensation checks (Thm 2, Props 4-8, Cor 1, Ass 1, low-rank bounds, the §4.3 sharp limit):
the shared draws and trajectories (``trajectory``), limits (``limits``), bounds (``bounds``), Assumption 1
and forward invariance (``ass1``), the exact cosine formulas and Prop 4's identities (``exact``), the
Prop 5 (i) split (``split``)."""
