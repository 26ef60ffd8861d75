"""Base for result objects: frozen dataclasses with ``to_frame()`` and notebook display.

Result classes are ``@dataclass(frozen=True)`` subclasses of :class:`Result`. Scalar fields
become one row of ``to_frame()``; DataFrame-valued fields are left out of that row and are
reached as attributes. Nothing is rounded here: rounding happens only when rendering.
"""

from __future__ import annotations

import dataclasses
import numbers
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["Result"]


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, (numbers.Number, str, bool, np.generic))


@dataclasses.dataclass(frozen=True)
class Result:
    """Mixin for frozen result dataclasses."""

    def scalars(self) -> dict[str, Any]:
        """Scalar fields in declaration order."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            if f.name.startswith("_"):
                continue
            value = getattr(self, f.name)
            if _is_scalar(value):
                out[f.name] = value
        return out

    def to_frame(self) -> pd.DataFrame:
        """One-row DataFrame of the scalar fields (override for tabular results)."""
        return pd.DataFrame([self.scalars()])

    def _repr_html_(self) -> str:  # pragma: no cover - display only
        return self.to_frame()._repr_html_()  # type: ignore[operator]
