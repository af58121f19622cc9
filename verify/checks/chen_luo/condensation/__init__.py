"""chen-luo-2025 condensation checkers (Thm 2, Props 4-8, Cor 1, Ass 1, low-rank bounds): limits and bounds
along trajectories (``limits``), Assumption 1 and forward invariance (``ass1``), the exact cosine formulas
(``exact``)."""
