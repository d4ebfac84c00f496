"""A real IMAP server for tests: Debian's dovecot, started on a free loopback port per server.

Each :class:`DovecotServer` writes its own dovecot.conf, users file, sockets, state and maildirs
into a fresh temporary directory and runs ``dovecot -F -c <conf>`` there, so several can run at
once (pytest-xdist workers, or two servers in one test) and none touches /etc/dovecot or the
system service. Use it through the ``imap_server`` fixture (one server per test)::

    from tests.support.imap import imap_server  # noqa: F401   (in a conftest.py)

    def test_poll(imap_server: DovecotServer) -> None:
        imap_server.append("support@example.com", raw_bytes)
        with imap_server.client("support@example.com") as client: ...

or the ``dovecot_factory`` fixture for more than one, or as a context manager outside pytest.
Without dovecot the fixtures skip, pointing at scripts/ensure-system-deps; with CI=true they fail.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import pytest
from imapclient import IMAPClient

HOST = "127.0.0.1"
GREETING = "Trustdesk test IMAP ready."
DEFAULT_USERS: Mapping[str, str] = {
    "support@example.com": "support-password",
    "billing@example.com": "billing-password",
}
INSTALL_HINT = "dovecot not installed: run scripts/ensure-system-deps"


class DovecotNotInstalled(RuntimeError):
    """The dovecot binary is not on this machine."""


class DovecotStartError(RuntimeError):
    """dovecot did not come up; the message carries the tail of its log."""


def dovecot_binary() -> str | None:
    """The dovecot executable, looking in /usr/sbin too (a non-root PATH often lacks it)."""
    found = shutil.which("dovecot")
    if found:
        return found
    for candidate in ("/usr/sbin/dovecot", "/usr/local/sbin/dovecot"):
        if os.access(candidate, os.X_OK):
            return candidate
    return None


def require_dovecot() -> str:
    """The dovecot path, or skip the test (fail it when CI=true) when dovecot is missing."""
    binary = dovecot_binary()
    if binary is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{INSTALL_HINT} (CI=true, so this is an error, not a skip)")
        pytest.skip(INSTALL_HINT)
    return binary


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _quote(value: str) -> str:
    if any(ch in value for ch in '"\\\n'):
        raise ValueError(f"unsupported character in dovecot setting: {value!r}")
    return value


class DovecotServer:
    """One throwaway dovecot instance serving IMAP on ``127.0.0.1:<port>`` with plain passwords.

    ``users`` maps login names to passwords; every user gets a maildir under the temporary
    directory. Helpers (``append``, ``client``, ``message_count``, ``create_folder``...) talk to
    the server over IMAP like the application will.
    """

    def __init__(
        self,
        users: Mapping[str, str] | None = None,
        *,
        start_timeout: float = 10.0,
    ) -> None:
        self.users: dict[str, str] = dict(DEFAULT_USERS if users is None else users)
        if not self.users:
            raise ValueError("a DovecotServer needs at least one user")
        for name, password in self.users.items():
            if not name or any(ch in name + password for ch in ":\n\r\t "):
                raise ValueError(f"unsupported user name or password for {name!r}")
        self.host = HOST
        self.port = 0
        self.start_timeout = start_timeout
        self.startup_seconds = 0.0
        self.directory: Path | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._clients: list[IMAPClient] = []

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> Self:
        if self._process is not None:
            raise RuntimeError("this DovecotServer is already running")
        binary = dovecot_binary()
        if binary is None:
            raise DovecotNotInstalled(INSTALL_HINT)
        began = time.monotonic()
        # A short path under /tmp: dovecot's unix sockets live in base_dir (108-byte limit).
        self.directory = Path(tempfile.mkdtemp(prefix="td-dovecot-"))
        try:
            self._prepare_directory()
            # Another process may grab the port between our probe and dovecot's bind: retry.
            for attempt in range(3):
                self.port = _free_port()
                self._write_config()
                try:
                    self._launch(binary)
                    break
                except DovecotStartError:
                    if attempt == 2 or "Address already in use" not in self.log():
                        raise
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - began
        return self

    def stop(self) -> None:
        """Log out helper clients, stop dovecot and its children, remove the directory."""
        for client in self._clients:
            with contextlib.suppress(Exception):
                client.logout()
        self._clients.clear()
        if self._process is not None:
            self._terminate(self._process)
            self._process = None
        if self.directory is not None:
            shutil.rmtree(self.directory, ignore_errors=True)
            self.directory = None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<DovecotServer {self.host}:{self.port} {state} users={sorted(self.users)}>"

    # -- helpers for tests -----------------------------------------------------------------

    def password(self, user: str) -> str:
        return self.users[user]

    def client(self, user: str, *, timeout: float = 10.0) -> IMAPClient:
        """A logged-in IMAPClient; logged out at ``stop()`` unless the test does it first."""
        client = IMAPClient(self.host, port=self.port, ssl=False, timeout=timeout)
        try:
            client.login(user, self.users[user])
        except BaseException:
            with contextlib.suppress(Exception):
                client.shutdown()
            raise
        self._clients.append(client)
        return client

    @contextlib.contextmanager
    def session(self, user: str) -> Iterator[IMAPClient]:
        """A logged-in client for the duration of a ``with`` block."""
        client = self.client(user)
        try:
            yield client
        finally:
            with contextlib.suppress(Exception):
                client.logout()
            with contextlib.suppress(ValueError):
                self._clients.remove(client)

    def append(
        self,
        user: str,
        raw: bytes,
        folder: str = "INBOX",
        *,
        flags: Sequence[str | bytes] = (),
        create: bool = True,
    ) -> int:
        """Store one raw RFC 5322 message in ``folder`` (created when missing); returns its UID."""
        with self.session(user) as client:
            if create and not client.folder_exists(folder):
                client.create_folder(folder)
            response = client.append(folder, raw, flags=tuple(flags))
        return _appenduid(response)

    def create_folder(self, user: str, folder: str) -> None:
        """Create ``folder`` for ``user`` unless it already exists."""
        with self.session(user) as client:
            if not client.folder_exists(folder):
                client.create_folder(folder)

    def folders(self, user: str) -> list[str]:
        with self.session(user) as client:
            return sorted(str(name) for _flags, _delim, name in client.list_folders())

    def message_count(self, user: str, folder: str = "INBOX") -> int:
        with self.session(user) as client:
            status: dict[bytes, Any] = client.folder_status(folder, [b"MESSAGES"])
        return int(status[b"MESSAGES"])

    def uids(self, user: str, folder: str = "INBOX") -> list[int]:
        with self.session(user) as client:
            client.select_folder(folder, readonly=True)
            return sorted(int(uid) for uid in client.search("ALL"))

    def log(self) -> str:
        """dovecot's log so far (for assertion messages and debugging)."""
        if self.directory is None:
            return ""
        path = self.directory / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else ""

    # -- internals -------------------------------------------------------------------------

    def _prepare_directory(self) -> None:
        assert self.directory is not None
        root = self.directory
        # dovecot's unprivileged auth and login processes must reach the sockets and users file.
        root.chmod(0o755)
        for sub in ("run", "state", "mail"):
            (root / sub).mkdir()
        uid, gid = self._mail_ids()
        if os.geteuid() == 0:
            os.chown(root / "mail", uid, gid)
        users = "".join(
            f"{name}:{{PLAIN}}{password}::::::\n" for name, password in self.users.items()
        )
        (root / "users").write_text(users)
        (root / "users").chmod(0o644)

    @staticmethod
    def _mail_ids() -> tuple[int, int]:
        """Who owns the mail: dovecot refuses uid 0, so root hands the maildirs to 'mail'."""
        if os.geteuid() != 0:
            return os.getuid(), os.getgid()
        for name in ("mail", "nobody"):
            with contextlib.suppress(KeyError):
                entry = pwd.getpwnam(name)
                return entry.pw_uid, entry.pw_gid
        raise DovecotStartError("running as root but neither a 'mail' nor a 'nobody' user exists")

    def _system_users(self) -> tuple[str, str, str]:
        """default_internal_user, default_internal_group, default_login_user."""
        if os.geteuid() == 0:
            # The Debian package creates both accounts.
            return "dovecot", "dovecot", "dovenull"
        import grp

        user = pwd.getpwuid(os.getuid()).pw_name
        group = grp.getgrgid(os.getgid()).gr_name
        return user, group, user

    def _write_config(self) -> None:
        assert self.directory is not None
        root = self.directory
        uid, gid = self._mail_ids()
        internal_user, internal_group, login_user = self._system_users()
        chroot_off = ""
        if os.geteuid() != 0:
            # Unprivileged: chroot() is not allowed, so no service may use one.
            chroot_off = "".join(
                f"service {name} {{\n  chroot =\n}}\n"
                for name in ("anvil", "imap-login", "ipc", "old-stats", "aggregator")
            )
        config = f"""\
# Written by tests/support/imap.py for one test server; not for production.
instance_name = trustdesk-test-{self.port}
base_dir = {_quote(str(root / "run"))}
state_dir = {_quote(str(root / "state"))}
log_path = {_quote(str(root / "dovecot.log"))}
info_log_path = {_quote(str(root / "dovecot.log"))}
debug_log_path = {_quote(str(root / "dovecot.log"))}
login_greeting = {GREETING}

protocols = imap
listen = {HOST}
ssl = no
# dovecot 2.3 (Debian 12) spelling; 2.4 renamed it auth_allow_cleartext = yes.
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0

default_internal_user = {internal_user}
default_internal_group = {internal_group}
default_login_user = {login_user}
first_valid_uid = {uid}
first_valid_gid = {gid}
mail_uid = {uid}
mail_gid = {gid}
mail_location = maildir:{_quote(str(root / "mail"))}/%u
mail_fsync = never
namespace inbox {{
  inbox = yes
  separator = /
}}

passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {_quote(str(root / "users"))}
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {_quote(str(root / "users"))}
  default_fields = uid={uid} gid={gid} home={_quote(str(root / "mail"))}/%u
}}

# No auth-penalty socket: failed logins would otherwise slow each next one by up to 15 s.
service anvil {{
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
service imap-login {{
  inet_listener imap {{
    address = {HOST}
    port = {self.port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
{chroot_off}"""
        (root / "dovecot.conf").write_text(config)

    def _launch(self, binary: str) -> None:
        assert self.directory is not None
        log_path = self.directory / "dovecot.log"
        log_path.unlink(missing_ok=True)
        with (self.directory / "stdio.log").open("ab") as stdio:
            process = subprocess.Popen(
                [binary, "-F", "-c", str(self.directory / "dovecot.conf")],
                stdin=subprocess.DEVNULL,
                stdout=stdio,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, killed as one at stop()
                preexec_fn=_die_with_parent,
            )
        self._process = process
        _RUNNING.add(process)
        deadline = time.monotonic() + self.start_timeout
        last_error = "no connection yet"
        while time.monotonic() < deadline:
            if process.poll() is not None:
                self._process = None
                raise DovecotStartError(
                    f"dovecot exited with {process.returncode} before accepting connections:\n"
                    + self._log_tail()
                )
            try:
                with socket.create_connection((HOST, self.port), timeout=1.0) as sock:
                    greeting = sock.recv(512)
                if greeting.startswith(b"* OK") and GREETING.encode() in greeting:
                    return
                last_error = f"unexpected greeting {greeting!r}"
            except OSError as error:
                last_error = str(error)
            time.sleep(0.02)
        self._terminate(process)
        self._process = None
        raise DovecotStartError(
            f"dovecot on {HOST}:{self.port} not ready after {self.start_timeout}s ({last_error}):\n"
            + self._log_tail()
        )

    def _log_tail(self, lines: int = 20) -> str:
        assert self.directory is not None
        text = self.log()
        stdio = self.directory / "stdio.log"
        if stdio.exists():
            text += stdio.read_text(errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    @staticmethod
    def _terminate(process: subprocess.Popen[bytes]) -> None:
        """Kill dovecot's whole process group at once.

        A SIGTERM makes the master wait a full second for its children; the server's data is
        thrown away anyway, so SIGKILL the group (master not reaped yet, so its pid, which is
        the group id, cannot have been reused).
        """
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
        _RUNNING.discard(process)


_RUNNING: set[subprocess.Popen[bytes]] = set()


@atexit.register
def _kill_leftovers() -> None:
    """Should a test process exit without stop() (Ctrl-C, crash), take its dovecots along."""
    for process in list(_RUNNING):
        with contextlib.suppress(Exception):
            DovecotServer._terminate(process)


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """Linux: SIGKILL dovecot when the test process dies, even by SIGKILL (xdist worker crash).

    Only the master gets it; its children then exit on their own once its pipes close.
    """
    with contextlib.suppress(Exception):
        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0)


def _appenduid(response: bytes) -> int:
    """The UID from an ``[APPENDUID <validity> <uid>]`` response (dovecot supports UIDPLUS)."""
    text = response.decode(errors="replace")
    marker = "[APPENDUID "
    if marker not in text:
        raise ValueError(f"no APPENDUID in {text!r}")
    return int(text.split(marker, 1)[1].split("]", 1)[0].split()[1])


# -- pytest fixtures ---------------------------------------------------------------------------


@pytest.fixture
def imap_server() -> Iterator[DovecotServer]:
    """A fresh dovecot for this test with the DEFAULT_USERS; skips when dovecot is missing."""
    require_dovecot()
    with DovecotServer() as server:
        yield server


@pytest.fixture
def dovecot_factory() -> Iterator[Callable[..., DovecotServer]]:
    """Start as many servers as a test needs: ``dovecot_factory(users={...})``; all stopped after."""
    require_dovecot()
    servers: list[DovecotServer] = []

    def start(users: Mapping[str, str] | None = None) -> DovecotServer:
        server = DovecotServer(users)
        servers.append(server)
        return server.start()

    yield start
    for server in servers:
        server.stop()
