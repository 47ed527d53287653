"""``lecture studio``: a local web page that previews a lecture while its author edits it.

The studio watches the lecture's sources (the TOML, its own scene files and their local
imports, the takes folder), rebuilds the preview through the ordinary build
(:func:`pipeline.lecture.build_lecture`: same planning, render cache, lock and atomic
publish) and streams the progress to the page over server-sent events.

* :mod:`pipeline.studio.guard`: who may ask (token, ``Host``, ``Origin``) and which files
  may be served.
* :mod:`pipeline.studio.events`: the event hub the pages listen to, and the reporter that
  feeds it (and stops a cancelled build at a safe point).
* :mod:`pipeline.studio.view`: what the page shows, made from the lecture's record.
* :mod:`pipeline.studio.sources`: the files a lecture is made from (what to watch).
* :mod:`pipeline.studio.session`: the one worker that builds, one job at a time.
* :mod:`pipeline.studio.server`: the HTTP server (stdlib), the page's assets in ``page/``.
* :mod:`pipeline.studio.watch`: the file watcher (``watchfiles``).
"""
