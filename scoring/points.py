"""Points at the storage edge: scores are kept as integer tenths (R-SCORE-3: one decimal at most)."""

from __future__ import annotations

from decimal import Decimal
from typing import overload

from scoring.rubric import has_one_decimal_at_most, quantize_points


def to_tenths(points: Decimal) -> int:
    if not has_one_decimal_at_most(points):
        raise ValueError(f"{points} has more than one decimal")
    return int(quantize_points(points) * 10)


@overload
def from_tenths(tenths: int) -> Decimal: ...
@overload
def from_tenths(tenths: None) -> None: ...
@overload
def from_tenths(tenths: int | None) -> Decimal | None: ...
def from_tenths(tenths: int | None) -> Decimal | None:
    if tenths is None:
        return None
    return quantize_points(Decimal(tenths) / 10)


def show(tenths: int | None) -> float | None:
    """A JSON number with one decimal (72.5); floats print one-decimal values exactly."""
    value = from_tenths(tenths)
    return None if value is None else float(value)


def text(tenths: int | None) -> str:
    value = from_tenths(tenths)
    return "" if value is None else format(value, "f")
