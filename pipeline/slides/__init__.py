"""Slides: a rendered lecture becomes a deck (HTML, PPTX) of its segment clips (``build``)."""
