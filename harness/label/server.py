"""The labelling page, served on 127.0.0.1 only (stdlib `http.server`, no network needed).

Routes: `GET /` the page, `GET /page.js` its script, `GET /api/item?position=N` one transcript
(`next` for the first not yet labelled), `POST /api/label` one label. The page puts transcript
text on screen with `textContent` only, and its Content-Security-Policy allows no script but
its own and no connection but to this server. Requests must name this server in `Host` (no DNS
rebinding), and a POST must carry the session token the page was served with (no other site
can write labels through the labeller's browser).
"""

from __future__ import annotations

import json
import secrets
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import Any
from urllib.parse import parse_qs, urlsplit

from pydantic import ValidationError

from harness.contracts import RULE_IDS
from harness.label.session import LabelGiven, LabelRefused, LabelSession

HOST = "127.0.0.1"
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "connect-src 'self'; img-src 'none'; base-uri 'none'; form-action 'none'"
)


def _asset(name: str) -> str:
    return resources.files("harness.label").joinpath("assets", name).read_text("utf-8")


def rule_help() -> dict[str, dict[str, str]]:
    """Each rule's pass/fail/n/a wording from its rubric, shown beside the buttons."""
    from harness.scoring.rubrics import RUBRICS_DIR, load_rubric

    out: dict[str, dict[str, str]] = {}
    for rule in RULE_IDS:
        try:
            d = load_rubric(RUBRICS_DIR / f"{rule}.yaml").definition
        except Exception:
            continue
        out[rule] = {"passes": d.passes, "fails": d.fails, "na": d.na}
    return out


class LabelServer:
    """A labelling session served in a thread; `url` once started."""

    def __init__(self, session: LabelSession, set_name: str, port: int = 0) -> None:
        self.session = session
        self.set_name = set_name
        self.token = secrets.token_urlsafe(16)
        self.help = rule_help()
        self._httpd = ThreadingHTTPServer((HOST, port), self._handler())
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}/"

    def start(self) -> LabelServer:
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._httpd.serve_forever()

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def page(self) -> str:
        meta = {
            "token": self.token,
            "set": self.set_name,
            "labeller": self.session.labeller,
            "rules": list(RULE_IDS),
            "help": self.help,
        }
        blob = json.dumps(meta).replace("&", "\\u0026").replace("<", "\\u003c")
        return _asset("page.html").replace("__META__", blob.replace(">", "\\u003e"))

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def _send(self, status: int, body: str, ctype: str = "application/json") -> None:
                data = body.encode("utf-8")
                self.send_response(status)
                self.send_header("content-type", f"{ctype}; charset=utf-8")
                self.send_header("content-length", str(len(data)))
                self.send_header("content-security-policy", CSP)
                self.send_header("x-content-type-options", "nosniff")
                self.send_header("cache-control", "no-store")
                self.end_headers()
                self.wfile.write(data)

            def _json(self, status: int, payload: Any) -> None:
                self._send(status, json.dumps(payload))

            def _host_ok(self) -> bool:
                host = self.headers.get("host", "")
                return host in {f"{HOST}:{server.port}", f"localhost:{server.port}"}

            def do_GET(self) -> None:
                if not self._host_ok():
                    return self._json(403, {"error": "wrong host"})
                url = urlsplit(self.path)
                if url.path == "/":
                    return self._send(200, server.page(), "text/html")
                if url.path == "/page.js":
                    return self._send(200, _asset("page.js"), "text/javascript")
                if url.path == "/api/item":
                    raw = parse_qs(url.query).get("position", ["next"])[0]
                    session = server.session
                    if raw != "next" and not raw.isdigit():
                        return self._json(400, {"error": "position is a number or 'next'"})
                    position = session.next_position() if raw == "next" else int(raw)
                    if not 0 <= position < len(session.queue):
                        return self._json(
                            200,
                            {"finished": True, "total": len(session.queue), "done": session.done},
                        )
                    return self._json(200, session.view(position))
                return self._json(404, {"error": "no such page"})

            def do_POST(self) -> None:
                if not self._host_ok() or self.headers.get("x-label-token") != server.token:
                    return self._json(403, {"error": "not this session's page"})
                if urlsplit(self.path).path != "/api/label":
                    return self._json(404, {"error": "no such endpoint"})
                length = int(self.headers.get("content-length") or 0)
                try:
                    given = LabelGiven.model_validate_json(self.rfile.read(length))
                    line = server.session.give(given)
                except ValidationError as err:
                    return self._json(400, {"error": str(err.errors()[0]["msg"])})
                except LabelRefused as err:
                    return self._json(400, {"error": str(err)})
                return self._json(
                    200,
                    {
                        "given": line.given,
                        "complete": line.complete,
                        "done": server.session.done,
                        "total": len(server.session.queue),
                    },
                )

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler
