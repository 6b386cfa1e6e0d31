"""A real HTTP server on 127.0.0.1 playing an SMS provider: it records every request and
answers with the status, body and delay a test sets."""

import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: str


@dataclass
class Provider:
    status: int = 200
    answer: str = '{"status": "ok"}'
    delay: float = 0.0
    location: str = ""
    received: list[Received] = field(default_factory=list)
    url: str = ""

    def codes(self) -> list[str]:
        """The 6-digit codes in the requests received, oldest first."""
        return [match for request in self.received
                for match in re.findall(r"(?<!\d)\d{6}(?!\d)", request.body + request.path)]


def start_provider() -> tuple[Provider, ThreadingHTTPServer]:
    provider = Provider()

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode() if length else ""
            provider.received.append(Received(self.command, self.path, dict(self.headers.items()), body))
            if provider.delay:
                time.sleep(provider.delay)
            payload = provider.answer.encode()
            try:
                self.send_response(provider.status)
                if provider.location:
                    self.send_header("Location", provider.location)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (its timeout): as a slow provider sees it

        do_GET = do_POST = do_PUT = _answer  # noqa: N815 - http.server's names

        def log_message(self, *_args: object) -> None:  # quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    provider.url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return provider, server
