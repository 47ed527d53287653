"""Where the project's own code, lectures, outputs and caches are found.

Every other module asks here instead of walking up from its own ``__file__``, so moving a
module between packages cannot change what it finds.
"""

from __future__ import annotations

from pathlib import Path

#: The folder that holds the project's packages (``pipeline``, ``scenes``, ``audio``,
#: ``diffusion``): the checkout, or ``site-packages`` after an install.
SOURCE_ROOT = Path(__file__).resolve().parent.parent
CONFIG_DIR = SOURCE_ROOT / "config"
DEFAULT_OUT = SOURCE_ROOT / "output"
SPEECH_CACHE = SOURCE_ROOT / "audio" / "cache"
