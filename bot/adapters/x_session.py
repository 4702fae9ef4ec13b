"""Point tweepy at another X API base URL (a proxy or the local stand-in) without patching tweepy.

tweepy.Client always builds URLs on https://api.twitter.com; a transport adapter mounted on that prefix
moves each prepared request onto the configured base, keeping path and query. OAuth 1.0a signatures are
computed on the original URL before the move, which is what a stand-in or a transparent proxy expects.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests
import tweepy
from requests.adapters import HTTPAdapter
from requests.utils import get_environ_proxies

log = logging.getLogger(__name__)

X_HOSTS = ("https://api.twitter.com/", "https://api.x.com/")


TIMEOUT = (5.0, 20.0)  # connect, read: tweepy sets none, and a hung request would hold a worker forever


class _TimeoutAdapter(HTTPAdapter):
    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = TIMEOUT
        return super().send(request, **kwargs)


class _RedirectingAdapter(_TimeoutAdapter):
    def __init__(self, base_url: str, trust_env: bool = True) -> None:
        super().__init__()
        base = urlsplit(base_url)
        self._scheme, self._netloc = base.scheme, base.netloc
        self._prefix = base.path.rstrip("/")
        self._trust_env = trust_env

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        original = urlsplit(request.url or "")
        path = self._prefix + original.path
        request.url = urlunsplit((self._scheme, self._netloc, path, original.query, ""))
        # proxies were chosen for the original host; choose again for the new one (honours NO_PROXY)
        kwargs["proxies"] = get_environ_proxies(request.url) if self._trust_env else {}
        return super().send(request, **kwargs)


def is_real_x(base_url: str) -> bool:
    return any(base_url.rstrip("/") + "/" == host for host in X_HOSTS)


def redirecting_session(base_url: str) -> requests.Session:
    """A requests.Session that sends every api.twitter.com / api.x.com request to base_url instead."""
    session = requests.Session()
    if is_real_x(base_url):
        for host in X_HOSTS:
            session.mount(host, _TimeoutAdapter())
        return session
    adapter = _RedirectingAdapter(base_url, session.trust_env)
    for host in X_HOSTS:
        session.mount(host, adapter)
    return session


def make_tweepy_client(base_url: str, bearer_token: str | None, consumer_key: str | None,
                       consumer_secret: str | None, access_token: str | None,
                       access_token_secret: str | None) -> tweepy.Client:
    """A tweepy.Client for the X API at base_url (the real API, a proxy or the stand-in)."""
    client = tweepy.Client(bearer_token=bearer_token, consumer_key=consumer_key,
                           consumer_secret=consumer_secret, access_token=access_token,
                           access_token_secret=access_token_secret)
    if not is_real_x(base_url):
        log.info("X API requests go to %s", base_url)
    client.session = redirecting_session(base_url)
    return client
