"""Command line: ``lecture`` (console script), ``python -m pipeline``, ``python render.py``.

Commands: ``new``, ``render`` (the default), ``check``, ``slides``, ``list``, ``cache
info`` and ``cache prune``; ``docs/commands.md`` is the reference. One file per command; the
options they share are decorators in :mod:`pipeline.cli.options`; what they do, with
typed arguments, is :mod:`pipeline.cli.run` (which ``pipeline.api`` calls too); exit
codes are decided in one place, :func:`pipeline.cli.app.main`.

With ``LECTURE_STATUS_FILE`` set, each stage a run enters is appended to that file as
one line (``<stage>``), for monitoring and for the tests that interrupt runs.
"""

from __future__ import annotations

from pipeline.cli.app import (
    EXIT_BUSY,
    EXIT_FAIL,
    EXIT_INPUT,
    EXIT_INTERRUPT,
    EXIT_OK,
    cli,
    main,
)

__all__ = ["EXIT_BUSY", "EXIT_FAIL", "EXIT_INPUT", "EXIT_INTERRUPT", "EXIT_OK", "cli", "main"]
