"""gong-2025 theory (RECONSTRUCTED setting: the paper's body is not available): one module per topic --
``setting`` (model, data, GD updates), ``signals`` (derived initial gradient and stage-1 time), ``earlier``
(the ICLR 2025 predecessor's bound), ``realdata`` (CounterFact-format assumptions and the real-data claim),
``stages`` (stage and spectral predictions), ``growth`` (derived signal growth and Q stage time).

Importing this package registers every gong claim (``twostage.theory.claims.load_all``), in this order.
"""

# isort: off
from twostage.theory.gong import signals, earlier, realdata, setting, stages, growth  # noqa: F401
# isort: on
