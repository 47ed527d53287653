"""One look for the whole course: palette, fonts, sizes and a few styled builders.

Sizes are chosen to stay legible at 854x480 (the preview quality): no body text
below ``SIZE_SMALL`` and no line thinner than ``STROKE_THIN``.
"""

from __future__ import annotations

from manim import ManimColor

# --- palette ----------------------------------------------------------------
BG = ManimColor("#0f1420")          # deep blue-black background
FG = ManimColor("#e8ecf3")          # body text
MUTED = ManimColor("#8a94a6")       # captions, axes labels
DATA = ManimColor("#4c9be8")        # clean data (the blue dot grid)
NOISE = ManimColor("#e8574c")       # noise (red)
ACCENT = ManimColor("#f2b33d")      # highlights, trackers
GOOD = ManimColor("#5cc98b")        # checks that pass
LINEAR = ManimColor("#4c9be8")      # linear schedule curve
COSINE = ManimColor("#f2b33d")      # cosine schedule curve
PANEL = ManimColor("#1b2333")       # boxes behind readouts and code

# --- type -------------------------------------------------------------------
FONT = "DejaVu Sans"                # ships with every Debian/Ubuntu; manimpango finds it
MONO = "DejaVu Sans Mono"
SIZE_TITLE = 48
SIZE_HEADING = 36
SIZE_BODY = 28
SIZE_SMALL = 22                     # smallest size used on screen
MATH_SCALE = 1.0

# --- geometry ---------------------------------------------------------------
STROKE_THIN = 2
STROKE = 4
MARGIN = 0.4                        # manim units kept clear at the frame edge
DOT_RADIUS = 0.06
