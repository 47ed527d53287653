#!/usr/bin/env python3
"""Render a narrated lecture. Same as the ``lecture-render`` console script.

    python render.py [--lecture ID] [--quality preview|720p|1080p|4k] [--only ID ...]
                     [--narration-dir DIR] [--jobs N] [--strict] [--out DIR] [--list] [--slides]
"""

import sys

from pipeline.cli import main

if __name__ == "__main__":
    sys.exit(main())
