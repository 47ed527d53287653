"""Start the studio, serve until Ctrl-C, and stop it cleanly.

On the way out the running job is stopped (its render children ended, the orchestrator
cleans its staging folder and releases the lecture's lock), the pages' event streams are
closed and the watcher ends.
"""

from __future__ import annotations

import webbrowser
from collections.abc import Callable

from pipeline.studio.events import Hub
from pipeline.studio.server import StudioServer
from pipeline.studio.session import Session, Setup
from pipeline.studio.watch import Watcher


def serve(setup: Setup, *, port: int = 0, open_browser: bool = True,
          say: Callable[[str], None] = print) -> None:
    """Run the studio in this thread until KeyboardInterrupt (which is re-raised)."""
    hub = Hub()

    def changed(paths: list[str], at: float) -> None:
        hub.publish("change", {"paths": paths, "at": at})
        session.request("preview")

    watcher = Watcher(changed)
    session = Session(setup, hub, on_sources=watcher.update)
    server = StudioServer(port, session, hub)  # a port in use fails here, one line
    url = server.guard.url()
    say(f"studio: {url}")
    takes = f" and the takes in {setup.takes}" if setup.takes is not None else ""
    say(f"studio: watching {setup.toml}, its scenes{takes}; Ctrl-C stops")
    try:
        if open_browser:
            webbrowser.open(url)
        watcher.start()
        session.start()
        server.serve_forever(poll_interval=0.2)
    finally:
        server.closing.set()
        hub.close()
        if not session.shutdown():
            say("studio: the running job did not stop in time")
        watcher.stop()
        server.server_close()
