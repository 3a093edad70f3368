"""Helpers for the Elasticsearch tests: which server answers, and a loopback TCP proxy that can
take the server away (and bring it back) in the middle of a run."""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import socket
import threading
import time
from typing import Any

import pytest

from odqa.components.stores.es_config import EsConfig, EsUnavailableError, is_standin


def probe_server() -> tuple[dict[str, Any] | None, str]:
    """``(info, reason)``: the server's info, or ``None`` and why the tests must skip."""
    url = os.environ.get("ELASTICSEARCH_URL")
    if not url:
        return None, (
            'ELASTICSEARCH_URL is not set: start a server (eval "$(bash scripts/es-standin.sh start)" '
            "for the noida-db stand-in, or a real Elasticsearch 8) and export its URL"
        )
    try:
        return EsConfig.from_env().check(), ""
    except EsUnavailableError as e:
        return None, str(e)


SERVER_INFO, SKIP_REASON = probe_server()
#: the server is noida-db, not Elasticsearch (decided from its info response)
IS_STANDIN = bool(SERVER_INFO) and is_standin(SERVER_INFO or {})

needs_server = pytest.mark.skipif(SERVER_INFO is None, reason=SKIP_REASON or "no server")


def standin_differs(reason: str) -> pytest.MarkDecorator:
    """Mark a test that asserts Elasticsearch's behaviour where the stand-in is known to differ:
    it must fail on the stand-in (strict), and pass on Elasticsearch."""
    return pytest.mark.xfail(condition=IS_STANDIN, reason=f"noida-db stand-in: {reason}", strict=True)


class TcpProxy:
    """Forwards 127.0.0.1:<port> to ``target``; :meth:`go_down` closes the listener and every
    connection (to the client, the server is gone: connection refused), :meth:`come_back` listens
    again on the same port. ``down_after_requests=n`` goes down by itself when the client starts
    its (n+1)-th request whose first line contains ``marker`` (that request never reaches the
    server)."""

    def __init__(self, target_url: str, *, marker: bytes = b"/_bulk") -> None:
        host, _, port = target_url.split("://", 1)[-1].rstrip("/").partition(":")
        self.target = (host, int(port or 9200))
        self.marker = marker
        self.down_after_requests: int | None = None
        self.requests_seen = 0
        self.tripped = threading.Event()  # set when down_after_requests took the server away
        self._lock = threading.Lock()
        self._conns: list[socket.socket] = []
        self._listener: socket.socket | None = None
        self._stop = threading.Event()
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        self.port = probe.getsockname()[1]
        probe.close()
        self.come_back()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def come_back(self) -> None:
        with self._lock:
            if self._listener is not None:
                return
            lst = socket.socket()
            lst.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            lst.bind(("127.0.0.1", self.port))
            lst.listen(16)
            self._listener = lst
        threading.Thread(target=self._accept, args=(lst,), daemon=True).start()

    def go_down(self) -> None:
        with self._lock:
            lst, self._listener = self._listener, None
            conns, self._conns = self._conns, []
        if lst is not None:
            with contextlib.suppress(OSError):
                lst.shutdown(socket.SHUT_RDWR)
            lst.close()
        for c in conns:
            with contextlib.suppress(OSError):
                c.shutdown(socket.SHUT_RDWR)
            c.close()

    def close(self) -> None:
        self._stop.set()
        self.go_down()

    def _accept(self, lst: socket.socket) -> None:
        while not self._stop.is_set():
            try:
                client, _ = lst.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            with self._lock:
                if self._listener is not lst:
                    client.close()
                    upstream.close()
                    return
                self._conns += [client, upstream]
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()

    def _count_request(self, data: bytes) -> bool:
        """Count requests in client data; ``False`` when this one must not pass (going down)."""
        for line in data.split(b"\r\n"):
            if line.startswith((b"POST ", b"PUT ")) and self.marker in line:
                if self.down_after_requests is not None and self.requests_seen >= self.down_after_requests:
                    return False
                self.requests_seen += 1
        return True

    def _pump(self, client: socket.socket, upstream: socket.socket) -> None:
        sel = selectors.DefaultSelector()
        sel.register(client, selectors.EVENT_READ, upstream)
        sel.register(upstream, selectors.EVENT_READ, client)
        try:
            while not self._stop.is_set():
                for key, _ in sel.select(timeout=0.2):
                    src: socket.socket = key.fileobj  # type: ignore[assignment]
                    data = src.recv(65536)
                    if not data:
                        return
                    if src is client and not self._count_request(data):
                        self.tripped.set()
                        threading.Thread(target=self.go_down, daemon=True).start()
                        return
                    key.data.sendall(data)
        except OSError:
            return
        finally:
            sel.close()
            for s in (client, upstream):
                with contextlib.suppress(OSError):
                    s.close()


class Http429Proxy:
    """An HTTP reverse proxy to ``target`` that answers the first ``reject`` requests whose path
    contains ``marker`` with ``429 Too Many Requests`` (Elasticsearch's answer when its write queue
    is full: ``es_rejected_execution_exception``) without forwarding them; every other request is
    forwarded as it is. ``rejected``/``forwarded`` count what happened to ``marker`` requests."""

    def __init__(self, target_url: str, *, reject: int, marker: str = "/_bulk") -> None:
        import http.client
        import http.server

        host, _, port = target_url.split("://", 1)[-1].rstrip("/").partition(":")
        target = (host, int(port or 9200))
        proxy = self
        self.reject, self.marker = reject, marker
        self.rejected = self.forwarded = 0
        self.lock = threading.Lock()
        self.times: list[float] = []  # when each marker request arrived (monotonic)

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def _handle(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                reject = False
                if proxy.marker in self.path:
                    with proxy.lock:  # handlers run on threads
                        proxy.times.append(time.monotonic())
                        reject = proxy.rejected < proxy.reject
                        proxy.rejected += reject
                        proxy.forwarded += not reject
                    if reject:
                        payload = json.dumps(
                            {
                                "error": {
                                    "type": "es_rejected_execution_exception",
                                    "reason": "rejected execution (queue capacity 200)",
                                },
                                "status": 429,
                            }
                        ).encode()
                        self.send_response(429)
                        self.send_header("Content-Type", "application/json")
                        self.send_header("X-Elastic-Product", "Elasticsearch")
                        self.send_header("Content-Length", str(len(payload)))
                        self.end_headers()
                        self.wfile.write(payload)
                        return
                conn = http.client.HTTPConnection(*target, timeout=30)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
                conn.request(self.command, self.path, body=body or None, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                self.send_response(resp.status)
                for k, v in resp.getheaders():
                    if k.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                conn.close()

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _handle

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
