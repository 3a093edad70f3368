"""Connecting to Elasticsearch: settings from the environment, client construction, fast failure.

Everything that talks to a server goes through :class:`EsConfig`, so that an unreachable or
misconfigured server is reported the same way everywhere: :class:`EsUnavailableError`, raised
within ``connect_timeout`` seconds (4 by default: under 5 s in all), naming the URL (credentials
removed).

Secrets (API key, password) are never stored in a config object, a pipeline graph or a file:
only the *names* of the environment variables that hold them are.

Environment variables (read by :meth:`EsConfig.from_env`):

* ``ELASTICSEARCH_URL`` -- default ``http://127.0.0.1:9200``;
* ``ELASTICSEARCH_INDEX`` -- index (alias) name, default ``odqa``;
* ``ELASTICSEARCH_API_KEY`` -- an API key (the base64 ``id:key`` form Elasticsearch returns as
  ``encoded``), or ``ELASTICSEARCH_USERNAME`` + ``ELASTICSEARCH_PASSWORD`` for basic auth;
* ``ELASTICSEARCH_CA_CERTS`` -- a CA bundle for TLS; ``ELASTICSEARCH_VERIFY_CERTS`` -- ``false``
  turns certificate verification off (local testing only).

Usage::

    cfg = EsConfig.from_env()
    info = cfg.check()            # raises EsUnavailableError within 5 s if the server is down
    client = cfg.client()
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from elastic_transport import ConnectionError as TransportConnectionError
from elastic_transport import ConnectionTimeout
from elasticsearch import ApiError, AuthenticationException, AuthorizationException, Elasticsearch

DEFAULT_URL = "http://127.0.0.1:9200"
DEFAULT_INDEX = "odqa"
API_KEY_ENV = "ELASTICSEARCH_API_KEY"
PASSWORD_ENV = "ELASTICSEARCH_PASSWORD"
_FALSE = {"0", "false", "no", "off"}


class EsError(RuntimeError):
    """Base class of odqa's Elasticsearch errors."""


class EsUnavailableError(EsError):
    """The server could not be reached (or refused our credentials); the message names the URL."""


def redact_url(url: str) -> str:
    """``https://user:secret@host:9200`` -> ``https://host:9200`` (safe for messages and logs)."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def is_standin(info: Mapping[str, Any]) -> bool:
    """Whether an ``info`` response (``GET /``) comes from the noida-db stand-in, not Elasticsearch.

    noida-db answers like Elasticsearch 8 (it passes the client's product check) but names itself
    in ``name``, ``cluster_uuid`` and ``version.build_hash``.
    """
    version = info.get("version") or {}
    marks = (info.get("name"), info.get("cluster_uuid"), version.get("build_hash"))
    return any(isinstance(m, str) and m.startswith("noida") for m in marks)


@dataclass(frozen=True)
class EsConfig:
    """Where and how to connect to Elasticsearch.

    :param url: Server URL, e.g. ``https://es.example.org:9200``.
    :param index: Index name; odqa creates it as an alias over a versioned physical index.
    :param username: Basic-auth user (the password comes from ``password_env``).
    :param api_key_env: Environment variable holding an API key (takes precedence over basic auth).
    :param password_env: Environment variable holding the basic-auth password.
    :param ca_certs: CA bundle (PEM) to verify the server's certificate.
    :param verify_certs: ``False`` disables certificate verification (never in production).
    :param request_timeout: Seconds for ordinary requests (searches, bulk chunks).
    :param connect_timeout: Seconds within which an unreachable server is reported.
    """

    url: str = DEFAULT_URL
    index: str = DEFAULT_INDEX
    username: str | None = None
    api_key_env: str = API_KEY_ENV
    password_env: str = PASSWORD_ENV
    ca_certs: str | None = None
    verify_certs: bool = True
    request_timeout: float = 60.0
    connect_timeout: float = 4.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> EsConfig:
        """Settings from ``ELASTICSEARCH_*`` variables; ``overrides`` (not ``None``) win."""
        env = os.environ if environ is None else environ
        verify = env.get("ELASTICSEARCH_VERIFY_CERTS")
        cfg = cls(
            url=env.get("ELASTICSEARCH_URL") or DEFAULT_URL,
            index=env.get("ELASTICSEARCH_INDEX") or DEFAULT_INDEX,
            username=env.get("ELASTICSEARCH_USERNAME") or None,
            ca_certs=env.get("ELASTICSEARCH_CA_CERTS") or None,
            verify_certs=verify is None or verify.strip().lower() not in _FALSE,
        )
        return replace(cfg, **{k: v for k, v in overrides.items() if v is not None})

    @property
    def safe_url(self) -> str:
        return redact_url(self.url)

    def auth_kwargs(self) -> dict[str, Any]:
        """``api_key`` or ``basic_auth`` for the client, resolved from the environment now."""
        api_key = os.environ.get(self.api_key_env)
        if api_key:
            return {"api_key": api_key}
        if self.username:
            return {"basic_auth": (self.username, os.environ.get(self.password_env, ""))}
        return {}

    def client_kwargs(self, *, request_timeout: float | None = None, max_retries: int = 2) -> dict[str, Any]:
        """Keyword arguments for :class:`elasticsearch.Elasticsearch`."""
        kwargs: dict[str, Any] = {
            "hosts": [self.url],
            "request_timeout": self.request_timeout if request_timeout is None else request_timeout,
            "max_retries": max_retries,
            "retry_on_timeout": max_retries > 0,
            **self.auth_kwargs(),
        }
        if self.url.startswith("https"):
            kwargs["verify_certs"] = self.verify_certs
            if self.ca_certs:
                kwargs["ca_certs"] = self.ca_certs
            if not self.verify_certs:
                kwargs["ssl_show_warn"] = False
        return kwargs

    def client(self, *, request_timeout: float | None = None, max_retries: int = 2) -> Elasticsearch:
        """A new client (no request is made)."""
        return Elasticsearch(**self.client_kwargs(request_timeout=request_timeout, max_retries=max_retries))

    def check(self, client: Elasticsearch | None = None) -> dict[str, Any]:
        """``GET /`` within ``connect_timeout`` seconds; the server's info on success.

        :raises EsUnavailableError: unreachable, timed out, not Elasticsearch, or credentials refused.
        """
        es = client or self.client(max_retries=0)
        t0 = time.monotonic()
        try:
            resp = es.options(request_timeout=self.connect_timeout, max_retries=0).info()
        except (TransportConnectionError, ConnectionTimeout) as e:
            waited = time.monotonic() - t0
            raise EsUnavailableError(
                f"Elasticsearch at {self.safe_url} is unreachable ({type(e).__name__} after "
                f"{waited:.1f}s: {_short(e)}). Start it (scripts/es-standin.sh start, or docker compose "
                f"-f docker/compose.yml up -d elasticsearch) or set ELASTICSEARCH_URL."
            ) from e
        except (AuthenticationException, AuthorizationException) as e:
            raise EsUnavailableError(
                f"Elasticsearch at {self.safe_url} refused the credentials (HTTP {e.status_code}); "
                f"check {self.api_key_env} or ELASTICSEARCH_USERNAME/{self.password_env}."
            ) from e
        except ApiError as e:
            raise EsUnavailableError(
                f"Elasticsearch at {self.safe_url} answered HTTP {e.status_code}: {_short(e)}"
            ) from e
        except Exception as e:  # e.g. the client's product check: something else answers there
            raise EsUnavailableError(
                f"no usable Elasticsearch at {self.safe_url}: {type(e).__name__}: {_short(e)}"
            ) from e
        return dict(resp.body)


def _short(e: BaseException, limit: int = 200) -> str:
    text = str(e).replace("\n", " ")
    return text if len(text) <= limit else text[: limit - 3] + "..."
