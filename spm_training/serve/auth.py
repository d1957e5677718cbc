"""Local mode's sign-in, as Jupyter's: a token in the printed URL, then a cookie.

``spm serve`` prints ``http://127.0.0.1:8765/?token=...``. Opening it sets a signed, HttpOnly,
SameSite=Strict cookie (Secure when the request came over HTTPS or to a loopback address, which
browsers treat as secure) and redirects to the same URL without the token, so the token does not stay
in the address bar or the history. Scripts may send ``Authorization: token ...`` instead. Without the
token or the cookie, every page but ``/healthz`` is a 401 page that shows no data.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from tornado.web import RequestHandler

if TYPE_CHECKING:
    from .app import Service

COOKIE = "spm-serve"
#: The cookie's signed value: "signed in" (the secret is derived from the token, so a new token
#: signs every earlier cookie out).
SIGNED_IN = "1"
TOKEN_ENV = "SPM_SERVE_TOKEN"

SIGN_IN_MESSAGE = "This page needs the link with a token that spm serve printed when it started."
SIGN_IN_FIX = ("Open the http://127.0.0.1:8765/?token=... line from the terminal where spm serve runs "
               "(or ask the person who started it); the browser keeps you signed in after that.")


def new_token() -> str:
    return secrets.token_urlsafe(32)


def cookie_secret(token: str) -> bytes:
    """The cookies' signing key, derived from the token: the same token keeps browsers signed in
    across restarts; a new one signs them all out."""
    return hashlib.sha256(b"spm-serve cookie\0" + token.encode()).digest()


def is_loopback(host: str) -> bool:
    """``host`` is this machine only (127.0.0.0/8, ::1 or localhost)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _matches(given: str | None, token: str) -> bool:
    return bool(given) and bool(token) and hmac.compare_digest(given.encode(), token.encode())  # type: ignore[union-attr]


def local_user(handler: RequestHandler, service: Service) -> dict | None:
    """The person at the terminal (``--as LOGIN``: that roster login), or None when the request
    carries neither the cookie nor the token."""
    token = service.config.token
    header = handler.request.headers.get("Authorization", "")
    signed_in = (handler.get_signed_cookie(COOKIE, max_age_days=31) == SIGNED_IN.encode()
                 or (header.lower().startswith("token ") and _matches(header[6:].strip(), token)))
    if not signed_in:
        return None
    if service.config.as_login:
        return {"name": service.config.as_login, "groups": [], "scopes": []}
    return {"name": service.terminal_user, "terminal": True}


def token_in_url(handler: RequestHandler) -> bool:
    """A ``?token=`` in the URL: the right one sets the cookie and redirects to the URL without it
    (True: the request is answered); a wrong one leaves the request to be refused as anonymous."""
    given = handler.get_query_argument("token", None)
    service: Service = handler.service  # type: ignore[attr-defined]
    if given is None or not _matches(given, service.config.token):
        return False
    host = handler.request.host_name
    handler.set_signed_cookie(COOKIE, SIGNED_IN, expires_days=31, httponly=True, samesite="Strict",
                              secure=handler.request.protocol == "https" or is_loopback(host),
                              path=service.site.prefix)
    rest = [(k, v) for k, values in handler.request.query_arguments.items() if k != "token"
            for v in (x.decode("utf-8", "replace") for x in values)]
    handler.redirect(handler.request.path + (f"?{urlencode(rest)}" if rest else ""))
    return True
