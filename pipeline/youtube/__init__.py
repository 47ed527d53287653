"""Publishing a rendered lecture to YouTube (``lecture publish youtube``).

``limits`` holds YouTube's documented rules and quota costs (pure), ``lecture`` reads
what a lecture folder says and turns it into request bodies, ``record`` keeps what was
sent beside the lecture, ``steps`` decides what a run must send, ``auth`` signs in,
``api`` talks to the Data API v3 through Google's client, ``upload`` is the resumable
upload, and ``course`` runs it all for one or more lectures.
"""
