"""A real Dovecot IMAP server on loopback ports, started by the tests.

One server serves a whole test module; any user name logs in with PASSWORD and gets a
fresh Maildir, so each test takes its own user. Plain IMAP, STARTTLS and IMAPS (with a
self-signed certificate the tests trust through ``ca_file``) are all available. Running as
root (this sandbox), mail is owned by ``nobody``, because Dovecot refuses root mail users.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import pytest
from imapclient import IMAPClient

from tests.support.services import ON_CI, port_open
from tests.support.smtp import free_port

DOVECOT = "/usr/sbin/dovecot"
PASSWORD = "imap-test-password"
NOBODY = 65534

CONFIG = """\
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = yes
ssl_cert = <{root}/cert.pem
ssl_key = <{root}/key.pem
disable_plaintext_auth = no
auth_mechanisms = plain login
first_valid_uid = 1
mail_location = maildir:{root}/mail/%u/Maildir
{users}
passdb {{
  driver = static
  args = password={password}
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/mail/%u
}}
namespace inbox {{
  inbox = yes
  separator = /
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    port = {port}
  }}
  inet_listener imaps {{
    port = {tls_port}
  }}
}}
service anvil {{
  chroot =
}}
service stats {{
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
"""


class Dovecot:
    """One running Dovecot: ports, a trusted certificate, and helpers to reach mailboxes."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="campaigns-dovecot-"))
        self.root.chmod(0o755)  # mail processes run as nobody and must reach the maildirs
        self.port, self.tls_port = free_port(), free_port()
        self.process: subprocess.Popen | None = None

    @property
    def ca_file(self) -> str:
        return str(self.root / "cert.pem")

    def start(self) -> Dovecot:
        """Write the config and certificate, start Dovecot, wait until it answers."""
        (self.root / "mail").mkdir()
        self._certificate()
        (self.root / "dovecot.conf").write_text(self._config())
        if os.geteuid() == 0:
            os.chown(self.root / "mail", NOBODY, NOBODY)
        self.process = subprocess.Popen([DOVECOT, "-F", "-c", str(self.root / "dovecot.conf")],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 15
        while not (port_open("127.0.0.1", self.port) and port_open("127.0.0.1", self.tls_port)):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"Dovecot did not start: {self._log()}")
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        """Stop this Dovecot (only the process we started) and remove its files."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process is not None and self.process.stderr:
            self.process.stderr.close()
        shutil.rmtree(self.root, ignore_errors=True)

    def new_user(self) -> str:
        """Return a user name nobody used yet (a fresh, empty mailbox)."""
        return f"u{uuid.uuid4().hex[:12]}"

    def url(self, user: str, folder: str = "INBOX", *, security: str = "none") -> str:
        """Return an IMAP_MAILBOXES URL for a user's folder."""
        scheme, port = {"none": ("imap", self.port), "starttls": ("imap+starttls", self.port),
                        "ssl": ("imaps", self.tls_port)}[security]
        return f"{scheme}://{user}:{PASSWORD}@127.0.0.1:{port}/{folder}"

    def client(self, user: str) -> IMAPClient:
        """Return a logged-in client of a user's mailbox (for the test's own checks)."""
        client = IMAPClient("127.0.0.1", port=self.port, ssl=False, timeout=10)
        client.login(user, PASSWORD)
        return client

    def append(self, user: str, raw: bytes, folder: str = "INBOX") -> None:
        """Deliver a message into a user's folder, unread."""
        with self.client(user) as client:
            if not client.folder_exists(folder):
                client.create_folder(folder)
            client.append(folder, raw, flags=())

    def messages(self, user: str, folder: str = "INBOX") -> dict[int, tuple]:
        """Return {uid: flags} of a folder, read without changing anything."""
        with self.client(user) as client:
            if not client.folder_exists(folder):
                return {}
            client.select_folder(folder, readonly=True)
            uids = client.search("ALL")
            return {uid: tuple(data[b"FLAGS"]) for uid, data in
                    client.fetch(uids, ["FLAGS"]).items()} if uids else {}

    def _certificate(self) -> None:
        """Make a self-signed certificate for 127.0.0.1."""
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days",
                        "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                        "-keyout", str(self.root / "key.pem"), "-out", self.ca_file],
                       check=True, capture_output=True)

    def _config(self) -> str:
        """Return the dovecot.conf of this server."""
        users = ""
        uid = gid = NOBODY
        if os.geteuid() != 0:  # unprivileged: every process runs as the current user
            import getpass

            name = getpass.getuser()
            users = f"default_internal_user = {name}\ndefault_login_user = {name}"
            uid, gid = os.getuid(), os.getgid()
        return CONFIG.format(root=self.root, users=users, password=PASSWORD, uid=uid, gid=gid,
                             port=self.port, tls_port=self.tls_port)

    def _log(self) -> str:
        """Return what Dovecot said about itself (for a start-up failure)."""
        path = self.root / "dovecot.log"
        stderr = self.process.stderr.read().decode() if self.process and self.process.stderr \
            and self.process.poll() is not None else ""
        return stderr + (path.read_text()[-2000:] if path.exists() else "")


def dovecot_server():  # noqa: ANN201 - a generator fixture body
    """Start a Dovecot for a test module; skip locally (fail on CI) when it is missing."""
    if not Path(DOVECOT).exists() or shutil.which("openssl") is None:
        message = "Dovecot (dovecot-imapd) and openssl are needed for the IMAP tests"
        if ON_CI:
            pytest.fail(message)
        pytest.skip(message)
    server = Dovecot().start()
    try:
        yield server
    finally:
        server.stop()
