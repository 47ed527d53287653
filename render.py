#!/usr/bin/env python3
"""Render a narrated lecture: the ``lecture`` command line (docs/commands.md).

    python render.py [--lecture ID] [--quality tiny|preview|720p|1080p|4k] [--only ID ...]
    python render.py check|slides|list|cache ...      (python render.py --help)

Without a command, ``render`` runs, so ``python render.py --lecture X`` renders X.
"""

import sys

from pipeline.cli import main

if __name__ == "__main__":
    sys.exit(main())
