"""Batched adaptive Dormand–Prince 5(4) integration with per-element steps, events and failure reports.

* :func:`solve` (``solve.py``): the driver loop, one trial step per iteration for every running element;
* :func:`rk_step`, :class:`Tableau` (``tableau.py``): the pure step function and its coefficients;
* ``dense.py``: the step's interpolant (event location, ``t_eval``);
* :class:`Solution`, :class:`Outcome` (``solution.py``): what ``solve`` returns, how each element ended;
* :func:`time_reparametrised` (``reparam.py``): the time change that tames finite-time blow-up.
"""

from twostage.errors import IntegrationError
from twostage.numerics.integrate.reparam import time_reparametrised
from twostage.numerics.integrate.solution import FAILURES, Outcome, Solution
from twostage.numerics.integrate.solve import solve
from twostage.numerics.integrate.tableau import Rhs, Tableau, rk_step

__all__ = ["FAILURES", "IntegrationError", "Outcome", "Rhs", "Solution", "Tableau", "rk_step", "solve",
           "time_reparametrised"]
