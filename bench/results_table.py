"""Write a benchmark's figures as a two-column table to ``bench/results/<name>.md`` (with
the time it was measured) and as JSON to ``<name>.json``; print the table."""

from __future__ import annotations

import json
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def publish(name: str, title: str, figures: dict) -> str:
    text = "| figure | value |\n|---|---|\n" + "\n".join(
        f"| {k} | {v} |" for k, v in figures.items())
    print(text)
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    (RESULTS / f"{name}.md").write_text(f"# {title}, {stamp}\n\n{text}\n", encoding="utf-8")
    (RESULTS / f"{name}.json").write_text(json.dumps(figures, indent=1) + "\n", encoding="utf-8")
    return text
