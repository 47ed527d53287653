"""``lecture new NAME``: a folder ``NAME/`` holding a lecture of the author's own
scenes that renders at once: ``lecture.toml``, ``scenes.py`` (one beat-timed scene,
one plain Manim scene), an empty ``takes/`` for recorded narration and a README."""

from __future__ import annotations

import json
import re
from pathlib import Path

import cloup

from pipeline.cli import display
from pipeline.cli.options import CONTEXT, Command, state, verbose_option
from pipeline.planning.manifest import InputError

LECTURE = '''\
# A lecture made of your own Manim scenes (scenes.py beside this file).
# Render:  lecture render lecture.toml --quality tiny     Check:  lecture check lecture.toml
# Each segment names a scene as "file.py:Class" and says its narration; see
# docs/lectures.md and docs/scenes.md#your-own-scenes in the project.

id = {id}
title = {title}
summary = "What this lecture is about, in a sentence or two."
seed = 0
quality = "1080p"

# Intro is beat-timed (a TimedScene with BEATS): beats title | shape. Each beat starts
# with a sentence, or where a bookmark <mark name="..."/> names it.
[[segments]]
id = "intro"
chapter = "Introduction"
scene = "scenes.py:Intro"
params = {{ title = {title} }}
narration = """Welcome to this lecture. \\
Everything you see comes from a file of Manim scenes beside the lecture, \\
<mark name="shape"/>and this circle arrives exactly on its word."""

# Shapes is a plain Manim scene: it plays whole, at its own length, and its last
# frame holds while the narration goes on.
[[segments]]
id = "shapes"
chapter = "A plain scene"
scene = "scenes.py:Shapes"
narration = """Any Manim scene works unchanged. \\
This one turns a square into a circle, and the picture waits for the voice."""
'''

SCENES = '''\
"""The scenes of this lecture. Any Manim scene works; ``scenes.base.TimedScene``
with ``BEATS`` makes one whose steps follow the narration.

Render one segment on its own: ``lecture render lecture.toml --only shapes --quality tiny``.
(``manim render scenes.py ...`` does not work here: manim imports this file as the
module ``scenes``, which hides the project's ``scenes`` package this file imports.)
"""

from __future__ import annotations

from manim import BLUE, DOWN, YELLOW, Circle, Create, FadeIn, Scene, Square, Text, Transform
from pydantic import BaseModel

from scenes.base import TimedScene
from scenes.timing import Beat


class Intro(TimedScene):
    """Beat-timed: each ``with self.beat(...)`` block lasts as long as its part of the
    narration. ``Beat(name, seconds, minimum)``: its default and least length."""

    BEATS = (Beat("title", 2.0, 1.0), Beat("shape", 2.0, 1.0))

    class Params(BaseModel):  # the segment's params, checked before anything renders
        title: str = "My lecture"

    def construct(self) -> None:
        with self.beat("title") as b:
            title = Text(self.params["title"], font_size=56)
            self.play(FadeIn(title), run_time=b.frac(0.5))
        with self.beat("shape") as b:
            circle = Circle(radius=1.2, color=YELLOW).next_to(title, DOWN)
            self.play(Create(circle), run_time=b.frac(0.6))


class Shapes(Scene):
    """A plain Manim scene: it plays at its own length."""

    def construct(self) -> None:
        shape = Square(side_length=2.5, color=BLUE)
        self.play(Create(shape), run_time=1.5)
        self.play(Transform(shape, Circle(radius=1.4, color=BLUE)), run_time=1.5)
        self.wait(0.5)
'''

README = '''\
# {title}

A lecture made of your own Manim scenes.

- `lecture.toml`: the lecture, its segments in order; each names a scene and its narration.
- `scenes.py`: the scenes. `Intro` is beat-timed (a `TimedScene` with `BEATS`: its
  steps follow the narration's sentences and `<mark name="..."/>` bookmarks); `Shapes` is
  a plain Manim scene (it plays whole, its last frame held while the voice goes on).
- `takes/`: your recorded narration, one file per segment (see below).

## Render

```sh
lecture render lecture.toml --quality tiny    # a quick look, in output/
lecture render lecture.toml                   # the full quality in lecture.toml
```

The video, captions and chapters land in `output/{id}/`. Without recordings a
synthetic voice reads the narration.

## Check

```sh
lecture check lecture.toml
```

Checks everything a render checks before its first frame (the manifest, the scenes'
parameters, bookmarks, takes) and renders nothing.

## Add takes

Record a segment's narration and save it in `takes/` named after the segment's id
(`takes/intro.wav`; `.flac`, `.mp3`, `.m4a` and `.ogg` work too), then

```sh
lecture render lecture.toml --narration-dir takes
```

The scene's timing follows your voice; segments without a take keep the synthetic one.
'''


@cloup.command("new", cls=Command, context_settings=CONTEXT)
@cloup.argument("name", metavar="NAME")
@verbose_option
def new_command(name: str) -> int:
    """Start a lecture of your own scenes in a new folder NAME.

    Writes NAME/lecture.toml, NAME/scenes.py (a beat-timed scene and a plain Manim
    scene), an empty NAME/takes/ for recorded narration and NAME/README.md. It renders
    at once: lecture render NAME/lecture.toml. NAME must not be a file or a folder that
    holds anything.
    """
    folder = Path(name)
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        what = "a folder that is not empty" if folder.is_dir() else "a file"
        raise InputError(f"new: {folder} exists and is {what}; choose a new name")
    lecture_id = re.sub(r"[^A-Za-z0-9_.-]+", "-", folder.resolve().name).strip("-._") or "lecture"
    lecture_id = lecture_id[:80]
    title = " ".join(w.capitalize() for w in re.split(r"[-_. ]+", lecture_id) if w)[:100]
    files = {
        "lecture.toml": LECTURE.format(id=json.dumps(lecture_id), title=json.dumps(title)),
        "scenes.py": SCENES,
        "README.md": README.format(title=title, id=lecture_id),
        "takes/.gitkeep": "",
    }
    for rel, text in files.items():
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    out = display.stdout_console(state().console)
    out.print(f"wrote {folder}/: lecture.toml, scenes.py, takes/, README.md", highlight=False)
    out.print(f"next: lecture render {folder / 'lecture.toml'} --quality tiny", highlight=False)
    return 0
