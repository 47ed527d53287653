"""Numbers on screen that follow a value (the t counter, the alpha-bar readout).

``DecimalNumber.set_value`` rebuilds every glyph by deep-copying it, whether or not the
digits changed; at 60 fps a readout is redrawn every frame although it shows the same
text most of the time. ``follow`` rebuilds only when the shown text changes: the
frames are the same, the Python time is not (measured: set_value was 35 % of a
ForwardDotGrid frame at 1080p60).
"""

from __future__ import annotations

from collections.abc import Callable

from manim import DecimalNumber


def shown_text(number: DecimalNumber, value: float) -> str:
    """What ``number`` would show for ``value`` (its decimal places and sign)."""
    places = int(getattr(number, "num_decimal_places", 0))
    return f"{float(value):.{places}f}"  # manim formats with the same spec


def follow(number: DecimalNumber, value: Callable[[], float]) -> DecimalNumber:
    """Keep ``number`` showing ``value()``; glyphs are rebuilt only when the text changes."""
    last = {"text": shown_text(number, number.get_value())}

    def update(m: DecimalNumber) -> None:
        v = value()
        text = shown_text(m, v)
        if text != last["text"]:
            m.set_value(v)
            last["text"] = text
        else:
            m.number = v  # same digits on screen; the value read back stays exact

    number.add_updater(update)
    return number
