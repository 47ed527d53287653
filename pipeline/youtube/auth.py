"""Signing in to YouTube as an installed app, and keeping the sign-in.

* The OAuth client file (a "Desktop app" client from the Google Cloud console) comes
  from ``--client-secrets`` or ``$LECTURE_YOUTUBE_CLIENT_SECRETS``; it is needed only to
  sign in.
* Signing in is Google's installed-app flow: a one-off local server on 127.0.0.1
  receives the redirect; the browser opens by itself, or with ``--no-browser`` the
  address is printed (open it anywhere; the redirect must reach this machine's
  127.0.0.1, e.g. through ``ssh -L``).
* The refresh token is kept in the user config folder (``platformdirs``),
  ``youtube-token.json``, mode 0600, written atomically; the access token is never
  stored and is refreshed when it expires, at ``$LECTURE_YOUTUBE_TOKEN_URL`` (default
  Google's). No token or secret is printed or logged.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pipeline import paths
from pipeline.youtube.api import PublishError

SCOPES = ("https://www.googleapis.com/auth/youtube.upload",
          "https://www.googleapis.com/auth/youtube.force-ssl")
SECRETS_ENV = "LECTURE_YOUTUBE_CLIENT_SECRETS"
TOKEN_ENV = "LECTURE_YOUTUBE_TOKEN_URL"
DEFAULT_TOKEN_URL = "https://oauth2.googleapis.com/token"
TOKEN_FILE = "youtube-token.json"
HTTP_TIMEOUT = 120  # seconds without an answer before a request counts as dropped
SIGN_IN_HINT = "give --client-secrets FILE (or set LECTURE_YOUTUBE_CLIENT_SECRETS) to sign in"


def token_url() -> str:
    return os.environ.get(TOKEN_ENV) or DEFAULT_TOKEN_URL


def token_path() -> Path:
    from platformdirs import user_config_dir

    return Path(user_config_dir(paths.APP_NAME, appauthor=False)) / TOKEN_FILE


def secrets_file(flag: Path | None) -> Path | None:
    env = os.environ.get(SECRETS_ENV)
    return flag if flag is not None else (Path(env).expanduser() if env else None)


def credentials(secrets: Path | None, *, sign_in: bool, no_browser: bool,
                say: Callable[[str], None]) -> Any:
    """Stored credentials (their scopes checked), or new ones from the sign-in flow."""
    stored = token_path()
    if stored.is_file() and not sign_in:
        return _stored(stored)
    if secrets is None:
        why = "--sign-in needs the OAuth client file" if sign_in else \
            "no YouTube sign-in is stored"
        raise PublishError(f"{why}: {SIGN_IN_HINT} once")
    creds = _flow(secrets, no_browser=no_browser, say=say)
    save(creds)
    say(f"signed in; the sign-in is kept in {stored} (mode 0600)")
    return creds


def _stored(path: Path) -> Any:
    from google.oauth2.credentials import Credentials

    try:
        info = json.loads(path.read_text(encoding="utf-8"))
        granted = set(info["scopes"])
        creds = Credentials(  # type: ignore[no-untyped-call]
            token=None, refresh_token=info["refresh_token"], token_uri=token_url(),
            client_id=info["client_id"], client_secret=info["client_secret"],
            scopes=sorted(granted))
    except (OSError, ValueError, KeyError, TypeError):
        raise PublishError(f"{path}: not a stored YouTube sign-in; sign in again with "
                           f"--sign-in ({SIGN_IN_HINT})") from None
    missing = [s.rsplit("/", 1)[-1] for s in SCOPES if s not in granted]
    if missing:
        raise PublishError(f"the stored YouTube sign-in lacks the scope {', '.join(missing)}: "
                           "sign in again with --sign-in")
    return creds


def _flow(secrets: Path, *, no_browser: bool, say: Callable[[str], None]) -> Any:
    from google_auth_oauthlib.flow import InstalledAppFlow

    try:
        config = json.loads(secrets.read_text(encoding="utf-8"))
        kind = "installed" if "installed" in config else "web"
        config[kind]["token_uri"] = token_url()
        flow = InstalledAppFlow.from_client_config(config, scopes=list(SCOPES))
    except (OSError, ValueError, KeyError, TypeError):
        raise PublishError(f"{paths.shown(secrets)}: not an OAuth client file (download a "
                           "'Desktop app' client's JSON from the Google Cloud console)") from None
    say("signing in to YouTube" + (": open the address below in a browser" if no_browser
                                   else " in your browser"))
    return flow.run_local_server(
        host="127.0.0.1", port=0, open_browser=not no_browser,
        authorization_prompt_message="{url}" if no_browser else "",
        success_message="Signed in; you may close this tab and return to the terminal.")


def save(creds: Any) -> None:
    """The refresh token and the client it belongs to, mode 0600, atomically."""
    if not creds.refresh_token:
        raise PublishError("Google returned no refresh token; sign in again with --sign-in")
    info = {"client_id": creds.client_id, "client_secret": creds.client_secret,
            "refresh_token": creds.refresh_token, "scopes": sorted(creds.granted_scopes
                                                                   or creds.scopes or SCOPES)}
    path = token_path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(info, fh)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def transport(creds: Any) -> Any:
    """An ``httplib2`` transport that signs requests and refreshes the token; it trusts
    the certificates of ``$HTTPLIB2_CA_CERTS`` when set (httplib2's own variable, read
    here, when the run starts), and leaves ``308 Resume Incomplete`` to the upload
    instead of following it as a redirect (as the client's own ``build_http`` does)."""
    import google_auth_httplib2
    import httplib2
    from httplib2 import certs

    http = httplib2.Http(timeout=HTTP_TIMEOUT, ca_certs=certs.where())
    http.redirect_codes = http.redirect_codes - {308}
    return google_auth_httplib2.AuthorizedHttp(creds, http=http)
