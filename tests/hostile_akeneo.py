"""A hostile or broken Akeneo for tests: a real HTTP proxy on 127.0.0.1 in front of a demo Akeneo.

Every request is forwarded to the demo server (so logins, pages and media are real); the answer is then tampered
with as configured. Links the demo writes with its own origin are rewritten to the proxy's, so an honest client
only ever talks to the proxy. What each tamper keyword does:

  foreign_next=True      list pages' `_links.next.href` point to `.foreign`, another server that records what
                         reaches it (with its Authorization header) and serves the same data
  foreign_media=True     media `_links.download.href` in record values point to `.foreign`
  relative_links=True    every `href` is made relative to the origin ("/api/rest/v1/...")
  self_next=True         a list page's next link points to the page itself
  endless_next=True      next links keep changing (`_loop=N`) but repeat the same page of items
  media_code="../x.jpg"  media codes in product values become that string: "{n}" in it is replaced by a short
                         hash of the real code, otherwise "-<hash>" is appended (codes stay distinct); the download
                         link still fetches the real file
  drip_media=S           media bodies are sent one byte every S seconds
  drip_pages=S           list pages are sent one byte every S seconds
  huge_media=N           media bodies are N bytes (zeros), announced by Content-Length unless
                         huge_media_length=False (then the body just goes on, connection closed at its end)
  media_type="text/html" media answered with that content type and a body with a script in it
  null_items=True        list pages get `null`, "x" and 5 among their items
  huge_page=N            the first products-uuid list page (a `with_count` probe aside) holds N records
                         (copies of the real ones, new uuids)
  retry_after=S          every API GET (the token call excepted) answers 429 with `Retry-After: S`
  pages={path: document} a GET of that path (with its query, else without) answers 200 with that JSON document
                         (a live dict: a test may change it between calls), e.g. Akeneo's spec examples

Every request is recorded in `.requests` (method, path, headers, body, authorization).
"""

from __future__ import annotations

import copy
import hashlib
import http.client
import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from demo_akeneo.server import DemoServer

TOKEN_PATH = "/api/oauth/v1/token"
MEDIA_MARKERS = (
    "/media-files/",
    "/asset-media-files/",
    "/reference-entities-media-files/",
    "/category-media-files/",
)
SCRIPT_BODIES = {
    "text/html": b"<!doctype html><html><body><script>document.title='pwned'</script></body></html>",
    "image/svg+xml": (
        b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
        b"<script>document.title='pwned'</script><rect width='10' height='10'/></svg>"
    ),
}


def _is_media(path: str) -> bool:
    return any(marker in path for marker in MEDIA_MARKERS)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    proxy: _Proxy


class _Proxy:
    """The plumbing both the hostile server and its foreign twin share: forward to upstream, record requests."""

    def __init__(self, upstream: DemoServer) -> None:
        self.upstream = upstream
        self.requests: list[dict[str, Any]] = []
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._httpd = _Server(("127.0.0.1", 0), _Handler)
        self._httpd.proxy = self
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def paths(self) -> list[str]:
        return [entry["path"] for entry in self.requests]

    def record(self, method: str, path: str, headers: Any, body: bytes = b"") -> None:
        with self._lock:
            self.requests.append(
                {
                    "method": method,
                    "path": path,
                    "authorization": headers.get("Authorization"),
                    "headers": dict(headers.items()),
                    "body": body,
                }
            )

    def stop(self) -> None:
        self.stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    # ------------------------------------------------------------------ forwarding
    def forward(self, method: str, path: str, headers: Any, body: bytes) -> tuple[int, dict[str, str], bytes]:
        target = urlsplit(self.upstream.base_url)
        conn = http.client.HTTPConnection(target.hostname, target.port, timeout=30)
        try:
            sent = {
                k: v for k, v in headers.items() if k.lower() not in ("host", "connection", "content-length")
            }
            sent["Connection"] = "close"
            conn.request(method, path, body=body or None, headers=sent)
            response = conn.getresponse()
            data = response.read()
            kept = {
                k: v
                for k, v in response.getheaders()
                if k.lower() not in ("content-length", "connection", "transfer-encoding", "keep-alive")
            }
            return response.status, kept, data
        finally:
            conn.close()

    def answer(self, handler: _Handler, method: str, path: str, body: bytes) -> None:
        """Plain forwarding with links rewritten to this server's origin."""
        status, headers, data = self.forward(method, path, handler.headers, body)
        handler.send(status, headers, self.rewrite_origin(data, headers))

    def rewrite_origin(self, data: bytes, headers: dict[str, str]) -> bytes:
        if "json" in headers.get("Content-Type", ""):
            return data.replace(self.upstream.base_url.encode(), self.base_url.encode())
        return data


class HostileAkeneo(_Proxy):
    """A tampering proxy in front of `upstream` (see the module docstring); `.foreign` is the other host."""

    def __init__(self, upstream: DemoServer, **tamper: Any) -> None:
        known = {
            "foreign_next",
            "foreign_media",
            "relative_links",
            "self_next",
            "endless_next",
            "media_code",
            "drip_media",
            "drip_pages",
            "huge_media",
            "huge_media_length",
            "media_type",
            "null_items",
            "huge_page",
            "retry_after",
            "pages",
        }
        unknown = set(tamper) - known
        if unknown:
            raise TypeError(f"unknown tamper keywords: {sorted(unknown)}")
        self.tamper = tamper
        self.foreign = _Proxy(upstream)
        self._huge_page_done = False
        super().__init__(upstream)

    @property
    def credentials(self) -> dict[str, str]:
        return dict(self.upstream.credentials)

    def stop(self) -> None:
        self.foreign.stop()
        super().stop()

    # ------------------------------------------------------------------ tampering
    def answer(self, handler: _Handler, method: str, path: str, body: bytes) -> None:
        t = self.tamper
        raw_path, _, query = path.partition("?")
        is_api = raw_path.startswith("/api/rest/")
        chosen = t.get("pages") or {}
        if method == "GET" and (path in chosen or raw_path in chosen):
            document = chosen[path] if path in chosen else chosen[raw_path]
            handler.send(200, {"Content-Type": "application/json"}, json.dumps(document).encode())
            return
        if t.get("retry_after") is not None and is_api and method == "GET":
            payload = json.dumps({"code": 429, "message": "Too many requests"}).encode()
            handler.send(
                429, {"Content-Type": "application/json", "Retry-After": str(t["retry_after"])}, payload
            )
            return
        loop = 0
        if t.get("endless_next") and query:
            params = parse_qsl(query, keep_blank_values=True)
            loop = int(dict(params).get("_loop", "0") or 0)
            path = raw_path + ("?" + urlencode([(k, v) for k, v in params if k != "_loop"]) if params else "")
        if (
            is_api
            and _is_media(raw_path)
            and method == "GET"
            and self._tamper_media(handler, method, path, body)
        ):
            return
        status, headers, data = self.forward(method, path, handler.headers, body)
        data = self.rewrite_origin(data, headers)
        if status == 200 and "json" in headers.get("Content-Type", "") and is_api:
            try:
                document = json.loads(data)
            except ValueError:
                document = None
            if isinstance(document, dict) and isinstance(
                (document.get("_embedded") or {}).get("items"), list
            ):
                document = self._tamper_page(document, raw_path, query, loop)
                data = json.dumps(document).encode()
            if t.get("relative_links"):
                data = data.replace(self.base_url.encode(), b"")
        if t.get("drip_pages") and status == 200 and is_api and b'"_embedded"' in data:
            handler.drip(status, headers, data, float(t["drip_pages"]))
            return
        handler.send(status, headers, data)

    def _tamper_page(self, document: dict, raw_path: str, query: str, loop: int) -> dict:
        t = self.tamper
        links = document.setdefault("_links", {})
        own = f"{self.base_url}{raw_path}" + (f"?{query}" if query else "")
        items = document["_embedded"]["items"]
        counting = "with_count=true" in query  # the count probe a step starts with is not "the first page"
        if (
            t.get("huge_page")
            and raw_path.endswith("/products-uuid")
            and not counting
            and not self._huge_page_done
            and items
        ):
            self._huge_page_done = True
            copies = []
            for index in range(int(t["huge_page"])):
                record = copy.deepcopy(items[index % len(items)])
                record["uuid"] = str(uuid.uuid5(uuid.NAMESPACE_URL, f"huge-{index}"))
                for entry in record.get("values", {}).get("sku", []):
                    entry["data"] = f"HUGE-{index:06d}"
                record.pop("parent", None)
                record["parent"] = None
                record["associations"] = {}
                copies.append(record)
            items = copies
        if t.get("media_code") is not None:
            for record in items:
                self._rewrite_media_codes(record)
        if t.get("foreign_media"):
            for record in items:
                for entries in (record.get("values") or {}).values() if isinstance(record, dict) else []:
                    for entry in entries if isinstance(entries, list) else []:
                        href = ((entry.get("_links") or {}).get("download") or {}).get("href")
                        if href:
                            entry["_links"]["download"]["href"] = href.replace(
                                self.base_url, self.foreign.base_url
                            )
        if t.get("null_items"):
            items = [None, *items[:1], "x", *items[1:], 5]
        document["_embedded"]["items"] = items
        if t.get("self_next"):
            links["next"] = {"href": own}
        elif t.get("endless_next"):
            links["next"] = {"href": f"{own}{'&' if query else '?'}_loop={loop + 1}"}
        elif t.get("foreign_next") and "next" in links:
            links["next"]["href"] = links["next"]["href"].replace(self.base_url, self.foreign.base_url)
        elif t.get("foreign_next"):
            links["next"] = {"href": own.replace(self.base_url, self.foreign.base_url)}
        return document

    def _rewrite_media_codes(self, record: Any) -> None:
        if not isinstance(record, dict):
            return
        pattern = str(self.tamper["media_code"])
        for entries in (record.get("values") or {}).values():
            for entry in entries if isinstance(entries, list) else []:
                if (
                    isinstance(entry, dict)
                    and (entry.get("_links") or {}).get("download")
                    and isinstance(entry.get("data"), str)
                ):
                    digest = hashlib.sha1(entry["data"].encode()).hexdigest()[:8]
                    entry["data"] = (
                        pattern.replace("{n}", digest) if "{n}" in pattern else f"{pattern}-{digest}"
                    )

    def _tamper_media(self, handler: _Handler, method: str, path: str, body: bytes) -> bool:
        """Answer a media download the hostile way; False = answer it normally."""
        t = self.tamper
        if t.get("media_type"):
            content = SCRIPT_BODIES.get(t["media_type"], b"<script>alert(1)</script>")
            handler.send(200, {"Content-Type": t["media_type"]}, content)
            return True
        if t.get("huge_media"):
            size = int(t["huge_media"])
            headers = {"Content-Type": "application/octet-stream"}
            if t.get("huge_media_length", True):
                headers["Content-Length"] = str(size)
            else:
                headers["Connection"] = "close"
            handler.stream(200, headers, size, chunk=1 << 20)
            return True
        if t.get("drip_media"):
            status, headers, data = self.forward(method, path, handler.headers, body)
            handler.drip(status, headers, data, float(t["drip_media"]))
            return True
        return False


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        proxy = self.server.proxy
        proxy.record(self.command, self.path, self.headers, body)
        try:
            proxy.answer(self, self.command, self.path, body)
        except (TimeoutError, BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = do_HEAD = _handle

    def send(self, status: int, headers: dict[str, str], data: bytes) -> None:
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        self.wfile.flush()

    def stream(self, status: int, headers: dict[str, str], size: int, *, chunk: int) -> None:
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        block = b"\0" * chunk
        sent = 0
        while sent < size and not self.server.proxy.stopping.is_set():
            part = block[: min(chunk, size - sent)]
            self.wfile.write(part)
            sent += len(part)
        self.wfile.flush()
        if "Content-Length" not in headers:
            self.close_connection = True

    def drip(self, status: int, headers: dict[str, str], data: bytes, every: float) -> None:
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.flush()
        stopping = self.server.proxy.stopping
        for index in range(len(data)):
            if stopping.wait(every):
                break
            self.wfile.write(data[index : index + 1])
            self.wfile.flush()
        self.close_connection = True


def start_hostile(upstream: DemoServer, **tamper: Any) -> HostileAkeneo:
    """A started hostile server; call `.stop()` (it stops its foreign twin too)."""
    return HostileAkeneo(upstream, **tamper)
