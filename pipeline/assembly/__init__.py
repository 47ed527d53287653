"""Assembly: renders and narration become the published lecture files.

``build`` runs the stages (narration track, lecture and segment clips, texts, thumbnail)
into a staging folder and ``lecture_record`` builds the record of what was made;
``loudness`` levels the narration track, ``captions`` and ``chapters`` write the texts,
``thumbnail`` draws the thumbnail, ``parts`` keys and caches the parts.
"""
