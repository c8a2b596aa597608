"""The one way the rehearsal's AWS-protocol stand-ins (Athena, the Redshift
Data API) serve HTTP: a threading server on a loopback port, in a daemon
thread, answering the AWS JSON 1.1 protocol (X-Amz-Target: <prefix>.<Operation>)
as boto3 sends it."""
from __future__ import annotations

import json
import logging
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Dict, Optional, Tuple, Type


def serve(handler: Type[BaseHTTPRequestHandler], name: str, host: str = "127.0.0.1",
          port: int = 0) -> Tuple[ThreadingHTTPServer, str]:
    """Starts the server (port 0: a free one) and returns it with its URL."""
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name=name, daemon=True).start()
    return server, "http://%s:%d" % (host, server.server_address[1])


def shutdown(server: Optional[ThreadingHTTPServer]) -> None:
    """Stops a server started by serve; None is a no-op."""
    if server is not None:
        server.shutdown()
        server.server_close()


class ServiceError(Exception):
    """An error the service answers with, as AWS does: its __type, message and HTTP status."""

    def __init__(self, code: str, message: str, status: int = 400):
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


class JsonService:
    """A stand-in's server side: start/stop on a loopback port, the
    operations it answers, and one worker that runs the submitted work in
    order (a query or statement at a time). A subclass names its target
    prefix, its error class and its operations."""

    name = ""  # "athena-local": the threads' and the log lines' name
    title = ""  # "the local Athena", in UnknownOperationException
    target_prefix = ""  # "AmazonAthena.": X-Amz-Target is <prefix><Operation>
    error: Type[ServiceError] = ServiceError

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=self.name)
        self._server: Optional[ThreadingHTTPServer] = None
        self.url: Optional[str] = None

    def operations(self) -> Dict[str, Callable[[Dict[str, Any]], Dict[str, Any]]]:
        raise NotImplementedError

    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        self._server, self.url = serve(_make_handler(self), self.name + "-http", host, port)
        return self.url

    def stop(self) -> None:
        shutdown(self._server)
        self._server = None
        self._pool.shutdown(wait=True, cancel_futures=True)

    def dispatch(self, op: str, body: Dict[str, Any]) -> Dict[str, Any]:
        handler = self.operations().get(op)
        if handler is None:
            raise self.error("UnknownOperationException", "operation %s is not supported by %s" % (op, self.title))
        return handler(body)


def _make_handler(service: JsonService) -> Type[BaseHTTPRequestHandler]:
    log = logging.getLogger(type(service).__module__)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):  # quiet
            log.debug(service.name + ": " + fmt, *args)

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b"{}"
            target = self.headers.get("X-Amz-Target", "")
            op = target.split(".", 1)[1] if target.startswith(service.target_prefix) else ""
            try:
                out, status = service.dispatch(op, json.loads(raw or b"{}")), 200
            except ServiceError as err:
                out, status = {"__type": err.code, "Message": err.message}, err.status
            except Exception as err:  # noqa: BLE001 - the caller sees the server's own failure
                out, status = {"__type": "InternalServerException", "Message": "%s: %s" % (type(err).__name__, err)}, 500
            # A value json does not know goes as its text: the answer is never lost to it.
            data = json.dumps(out, default=str).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/x-amz-json-1.1")
            self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler
