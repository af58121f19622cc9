"""PyTorch numerics for chen-luo-2025 (mirrors ``theory/chen_luo``). Stage 1 API, all batched over ``B``:

* :mod:`.data`: ``DataConfig``, ``make_data`` -> ``Dataset`` (``X`` (n,s,d) row tokens, ``y``, ``Z``, ``v``,
  ``tbar``/``t_of_tbar`` of Prop. 1 (6)); ``Z != 0`` is validated (``chen-luo-2025/ass/Z-nonzero``).
* :mod:`.init`: ``InitConfig`` (0 < eps < 1), ``init_params`` (eq. (4)), ``init_normalised``, ``normalised``.
* :mod:`.model`: ``Params`` (WQ, WK, WV, W1 (B,d,d), W2 (B,d)), ``forward``, ``output_last``, ``loss`` (3),
  ``grad`` (autograd of the summed loss = per-element gradients).
* :mod:`.effective`: the effective ODE (7) (``field``, ``rhs``, ``rhs_full``), ``integrate`` (fixed tbar
  points).
* :mod:`.blowup` (Thm 1): ``integrate_to_blowup`` (reparametrised time, event ``E >= E_max``, ``T*``
  bracket), ``blowup_time``, ``dm1_blowup_time``, ``gaussian_state``, ``escape_time`` of the full flow.
* :mod:`.fullflow`: gradient flow of the full model (``integrate_flow``), ``relative_changes``,
  ``full_invariants``; :mod:`.prop1`: ``compare_with_effective`` (Prop. 1, O(eps^2)).
* :mod:`.nondegeneracy` (Def. 4), :mod:`.condensation` (§4.4), :mod:`.stage2` (Prop. 3), :mod:`.collapse`
  (Thm 3): the computations those topics' claims are judged on.
* :mod:`.observables`: E, Edot (16), invariants (Prop. 2 and matrix forms) and their drift, D1/D2 (Def. 4),
  norms, singular values, relative change, Assumption-1 fractions, column cosines (Thm. 2).

The generic integrator is :mod:`twostage.numerics.integrate`; the benchmark :mod:`twostage.bench.hot_paths`.
"""
