"""The one way the rehearsal's AWS-protocol stand-ins (Athena, the Redshift
Data API) serve HTTP: a threading server on a loopback port, in a daemon thread."""
from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Optional, Tuple, Type


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
