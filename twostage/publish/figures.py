"""Figures as files: every PNG the project writes goes through :func:`png_bytes` (one size, one crop).

>>> import matplotlib
>>> matplotlib.use("Agg")
>>> import matplotlib.pyplot as plt
>>> fig, ax = plt.subplots(figsize=(2, 2)); _ = ax.plot([0, 1], [0, 1])
>>> png_bytes(fig)[:8] == b"\\x89PNG\\r\\n\\x1a\\n"
True
"""

from __future__ import annotations

import io

DPI = 110


def png_bytes(fig, close: bool = True) -> bytes:
    """The figure as PNG bytes (``DPI``, cropped to its content); closes it unless ``close=False``."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, bbox_inches="tight")
    if close:
        import matplotlib.pyplot as plt

        plt.close(fig)
    return buf.getvalue()
