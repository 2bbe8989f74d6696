"""Numbers for people, one way everywhere: gates, compare, the live tab, the HTML report.

num(3000) == "3000"    num(1234.5, sep=",") == "1,234"    num(12.34) == "12.3"
num(0.5124) == "0.512" ms(12.34) == "12.3 ms"             ms(None) == "-"
grouped(1234.5) == "1,234"
value(1500, TIME, "s") == "1.5 s"    value(0.0123, RATE) == "1.23%"
"""

from __future__ import annotations

from wxo_load.core.metrics import PER_S, PERCENT, RATE, TIME


def num(value: float, *, sep: str = "") -> str:
    """Up to 3 significant digits (every integer digit from 100 up), no exponent, no trailing
    zeros: 3000, 812, 12.5, 1.25, 0.512. `sep=","` groups thousands: 1,234."""
    magnitude = abs(value)
    if value == 0:
        return "0"
    if magnitude >= 100:
        return f"{value:,.0f}".replace(",", sep)
    if magnitude >= 10:
        text = f"{value:.1f}"
    elif magnitude >= 1:
        text = f"{value:.2f}"
    else:
        text = f"{value:.3g}"
        if "e" in text:
            text = f"{value:.6f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def grouped(value: float) -> str:
    """`num` with thousands grouped (1,234): the report's axes and tables."""
    return num(value, sep=",")


def table_num(value: float) -> str:
    """A number in a Markdown table (summary.md): 0, 1,234, 12.3, 1.25, 0.512 (fixed decimals by
    magnitude; trailing zeros kept so a column lines up)."""
    if value == 0:
        return "0"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.3g}" if abs(value) < 1 else f"{value:.2f}"


def short_num(value: float | None) -> str:
    """A stage's or search step's figure in summary.md: "–" when absent, whole numbers as they
    are, 1,234.5 from 100 up, else 3 significant digits."""
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.1f}" if abs(value) >= 100 else f"{value:.3g}"
    return str(value)


def ms(value: float | None, *, sep: str = ",") -> str:
    """A time in milliseconds for status lines: "-", "12.3 ms", "1,234 ms" (`sep=""`: 1234)."""
    if value is None:
        return "-"
    if value < 100:
        return f"{value:,.1f} ms".replace(",", sep)
    return f"{value:,.0f} ms".replace(",", sep)


def value(number: float, kind: str, unit: str = "") -> str:
    """A normalised gate figure: times in the unit the gate was written in (ms by default),
    rates as percentages, throughputs per second, counts whole."""
    if kind == TIME:
        if unit == "s":
            return f"{num(number / 1000.0)} s"
        if unit == "m":
            return f"{num(number / 60_000.0)} min"
        return f"{num(number)} ms"
    if kind == RATE:
        return f"{num(number * 100.0)}%"
    if kind == PER_S:
        return f"{num(number)}/s"
    if kind == PERCENT:
        return f"{num(number)}%"
    return f"{number:.0f}" if float(number).is_integer() else num(number)


def signed_delta(delta: float, kind: str) -> str:
    """`+12 ms`, `-3.5/s`-style difference; rates in percentage points (`+0.5pp`)."""
    sign = "+" if delta >= 0 else "-"
    if kind == RATE:
        return f"{sign}{num(abs(delta) * 100)}pp"
    return f"{sign}{value(abs(delta), kind, '')}"


__all__ = ["ms", "num", "short_num", "signed_delta", "table_num", "value"]
