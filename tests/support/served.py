"""Run `campaigns run` as a real process and talk to it over HTTP like a browser."""

from __future__ import annotations

import http.cookiejar
import os
import re
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from tests.support.smtp import free_port


class ServedApp:
    """A `campaigns run` process on a free loopback port, with its own instance folder."""

    def __init__(self, executable: str, instance: Path, env: dict[str, str] | None = None):
        self.executable, self.instance = executable, instance
        self.port = free_port()
        self.env = {**os.environ, "CAMPAIGNS_INSTANCE_PATH": str(instance),
                    "CAMPAIGNS_SWEEP_INTERVAL": "1", **(env or {})}
        for key in ("CAMPAIGNS_DATABASE_URL", "CAMPAIGNS_BROKER_URL"):
            self.env.pop(key, None)
        self.process: subprocess.Popen | None = None
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.cookies), _NoRedirect())

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
        """Run another `campaigns` command against the same instance."""
        return subprocess.run([self.executable, *args], env=self.env, input=stdin, text=True,
                              capture_output=True, timeout=120, check=True)

    def start(self) -> ServedApp:
        """Migrate, start serving and wait until the port answers."""
        self.command("db", "upgrade")
        self.process = subprocess.Popen([self.executable, "run", "--port", str(self.port)],
                                        env=self.env, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, text=True)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                self.get("/login")
                return self
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("campaigns run did not start")

    def stop(self) -> str:
        """Stop the server and return what it printed."""
        if self.process is None:
            return ""
        self.process.terminate()
        out, _ = self.process.communicate(timeout=20)
        self.process = None
        return out

    def get(self, path: str) -> tuple[int, str, dict]:
        """GET a path; return status, body and headers (redirects are not followed)."""
        return self._open(urllib.request.Request(self.base + path))

    def post_form(self, path: str, data: dict[str, str], token_page: str) -> tuple[int, str, dict]:
        """POST a form with the CSRF token read off token_page."""
        _, html, _ = self.get(token_page)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or \
            re.search(r'<meta name="csrf-token" content="([^"]+)"', html)
        body = urllib.parse.urlencode({**data, "csrf_token": token.group(1)}).encode()
        return self._open(urllib.request.Request(self.base + path, data=body, method="POST"))

    def _open(self, request: urllib.request.Request) -> tuple[int, str, dict]:
        try:
            with self.opener.open(request, timeout=10) as response:
                return response.status, response.read().decode(), dict(response.headers)
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode(), dict(error.headers)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # noqa: ANN002, ANN003, ANN201
        return None
