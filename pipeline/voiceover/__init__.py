"""manim-voiceover scenes, offline: the project's voice as a manim-voiceover speech
service, and voiceover scenes as lecture segments.

* :mod:`pipeline.voiceover.service` (imports manim): ``PiperService``, a subclass of
  manim-voiceover's ``SpeechService``: ``self.set_speech_service(PiperService())``.
* :mod:`pipeline.voiceover.child` (imports manim): what the render child changes in a
  voiceover scene it runs as a lecture segment (records the blocks, no sound track).
* :mod:`pipeline.voiceover.job`, :mod:`~pipeline.voiceover.boundaries`,
  :mod:`~pipeline.voiceover.segment` (manim-free, used by planning): the job a render
  child gets, word boundaries in manim-voiceover's format, and a segment's narration
  built from its blocks (synthetic or a recorded take).

This ``__init__`` imports nothing, so planning stays manim-free.
"""
