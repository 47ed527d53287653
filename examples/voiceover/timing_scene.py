"""A manim-voiceover scene that uses every timing call the library documents, spoken by
the project's offline voice (:class:`pipeline.voiceover.service.PiperService`).

Render it on its own (offline, no Whisper)::

    manim render -ql examples/voiceover/timing_scene.py TimingTour

or as a lecture segment: ``examples/voiceover/lecture.toml``.
"""

from __future__ import annotations

from manim import BLUE, DOWN, GREEN, RED, Circle, Create, FadeIn, FadeOut, Square, Text, Triangle
from manim_voiceover import VoiceoverScene

from pipeline.voiceover.service import PiperService


class TimingTour(VoiceoverScene):
    def construct(self) -> None:
        self.set_speech_service(PiperService())
        circle, square, triangle = Circle(color=BLUE), Square(color=GREEN), Triangle(color=RED)

        # 1. one animation as long as the speech
        with self.voiceover(text="First, a circle is drawn.") as tracker:
            self.play(Create(circle), run_time=tracker.duration)

        # 2. nested bookmarks: each change waits for its word
        with self.voiceover(
            text="It turns <bookmark mark='square'/>into a square, "
                 "and then <bookmark mark='triangle'/>into a triangle."
        ) as tracker:
            self.wait_until_bookmark("square")
            self.play(circle.animate.become(square), run_time=tracker.time_until_bookmark(
                "triangle", limit=1.0))
            self.wait_until_bookmark("triangle")
            self.play(circle.animate.become(triangle), run_time=0.5)

        # 3. a block with no animation: the with-statement waits for the voice
        with self.voiceover(text="Nothing moves while I say this."):
            pass

        # 4. the rest of a block's time, and safe_wait
        text = "The label fades in, and stays for the rest of the sentence."
        with self.voiceover(text=text) as tracker:
            label = Text("3 shapes").to_edge(DOWN)
            self.play(FadeIn(label), run_time=0.5)
            self.safe_wait(tracker.get_remaining_duration(buff=-0.5))
            self.wait_for_voiceover()

        # 5. an animation longer than its speech: silence follows, nothing is cut
        with self.voiceover(text="Gone."):
            self.play(FadeOut(circle), FadeOut(label), run_time=2.5)
