"""``trustdesk serve``: the web app (uvicorn) and, unless ``--no-worker``, a task worker beside it.

Unless ``--no-smtpd``, the mail receiver (``trustdesk smtpd``) also listens on
``127.0.0.1:--smtpd-port`` (2525), in a thread of this process; when that default port is taken
(a second ``serve`` on this machine) serve says so and carries on without it, while a port
given explicitly must be free. Starting the worker also starts the IMAP polling chains
(``fetch-mail --schedule``).

``--workers N`` runs N web processes on one listening socket (uvicorn's multi-process mode: a
supervisor that restarts a process that dies), which is how production uses several cores; see
docs/operations.md. The task worker and the mail receiver still run once, beside the supervisor.

Ctrl-C (SIGINT) or SIGTERM stops uvicorn gracefully, then the mail receiver, then the worker
(SIGTERM: it finishes the task in hand), and the command exits 0 without a traceback. If the
worker dies on its own, the web process stops too (exit 1) rather than serving while replies
silently pile up.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
from argparse import ArgumentParser
from collections.abc import Callable
from functools import partial
from types import FrameType
from typing import Any, Protocol

import uvicorn
from django.apps import apps
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError
from uvicorn.supervisors import Multiprocess


class _Receiver(Protocol):
    port: int

    def stop(self) -> None: ...


WORKER_STOP_TIMEOUT = 30.0
SMTPD_PORT = 2525


class Command(BaseCommand):
    help = "Serve Trustdesk over HTTP and websockets, with a task worker unless --no-worker."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--no-worker", action="store_true", help="Do not start a task worker.")
        parser.add_argument("--log-level", default="info")
        parser.add_argument(
            "--workers",
            type=int,
            default=1,
            help="Web server processes sharing the port (default 1); about one per core.",
        )
        parser.add_argument(
            "--smtpd-port",
            type=int,
            default=None,
            help=f"Port of the mail receiver on 127.0.0.1 (default {SMTPD_PORT}).",
        )
        parser.add_argument(
            "--no-smtpd", action="store_true", help="Do not start the SMTP mail receiver."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["workers"] < 1:
            raise CommandError("--workers must be at least 1.")
        config = uvicorn.Config(
            "trustdesk.asgi:application",
            host=options["host"],
            port=options["port"],
            log_level=options["log_level"],
            lifespan="off",
            proxy_headers=True,
            workers=options["workers"],
        )
        server = uvicorn.Server(config)
        stopping = threading.Event()
        # uvicorn handles SIGINT/SIGTERM while it runs, restores the previous handlers and then
        # re-raises the signal it got; these handlers make that last step a quiet no-op instead
        # of a KeyboardInterrupt traceback (or a death by SIGTERM).
        previous = {sig: signal.signal(sig, _ignore) for sig in (signal.SIGINT, signal.SIGTERM)}
        receiver = None if options["no_smtpd"] else self._receiver_start(options["smtpd_port"])
        worker = None if options["no_worker"] else self._worker_start()
        worker_code: int | None = None
        supervisor: Multiprocess | None = None
        started = False
        try:
            if config.workers > 1:
                supervisor = self._supervisor(config)
                stop: Callable[[], None] = supervisor.should_exit.set
            else:
                stop = partial(setattr, server, "should_exit", True)
            if worker is not None:
                watcher = threading.Thread(
                    target=self._worker_watch, args=(worker, stop, stopping), daemon=True
                )
                watcher.start()
            url = f"http://{options['host']}:{options['port']}/"
            processes = f" in {config.workers} processes" if supervisor else ""
            extra = f" and a task worker (pid {worker.pid})" if worker else ""
            self.stdout.write(
                f"Serving Trustdesk at {url}{processes}{extra}. Press Ctrl-C to stop."
            )
            if receiver is not None:
                self.stdout.write(f"Receiving mail over SMTP on 127.0.0.1:{receiver.port}.")
            if supervisor is not None:
                started = True
                supervisor.run()
            else:
                server.run()
                started = server.started
        finally:
            stopping.set()
            if receiver is not None:
                receiver.stop()
            if worker is not None:
                worker_code = worker.poll()
                self._worker_stop(worker)
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        if worker_code is not None:
            raise CommandError(f"The task worker exited unexpectedly (code {worker_code}).")
        if not started:
            raise CommandError(f"Could not serve on {options['host']}:{options['port']}.")
        self.stdout.write("Trustdesk stopped.")

    def _supervisor(self, config: uvicorn.Config) -> Multiprocess:
        """uvicorn's multi-process supervisor, its socket bound here so a taken port fails now.

        The supervisor takes over SIGINT and SIGTERM (each stops every process gracefully, and
        ``handle`` restores the previous handlers afterwards); SIGHUP restarts the processes one
        by one, SIGTTIN and SIGTTOU add or remove one.
        """
        try:
            sock = config.bind_socket()
        except SystemExit as exc:  # uvicorn logs the OSError and exits
            raise CommandError(f"Could not serve on {config.host}:{config.port}.") from exc
        return Multiprocess(config, sockets=[sock])

    def _receiver_start(self, port: int | None) -> _Receiver | None:
        if not apps.is_installed("trustdesk.mail"):
            return None
        # The mail channel is optional: core imports it only here, and only if installed.
        from trustdesk.mail.receiver import ReceiverController

        receiver = ReceiverController(host="127.0.0.1", port=port or SMTPD_PORT)
        try:
            receiver.start()
        except OSError as exc:
            if port is not None:
                raise CommandError(f"Could not receive mail on 127.0.0.1:{port}: {exc}") from exc
            self.stderr.write(
                f"Not receiving mail: 127.0.0.1:{SMTPD_PORT} is unavailable ({exc}); "
                "pass --smtpd-port or --no-smtpd."
            )
            return None
        return receiver

    def _worker_start(self) -> subprocess.Popen[bytes]:
        try:
            if apps.is_installed("trustdesk.mail"):
                call_command("fetch_mail", schedule=True, verbosity=0)
        except DatabaseError as exc:
            self.stderr.write(f"Could not schedule IMAP polling: {exc}")
        # A new session: Ctrl-C in the terminal reaches only this process, which then stops the
        # worker itself, after the web server, so no request loses its worker mid-way.
        return subprocess.Popen(
            [sys.executable, "-m", "trustdesk", "worker", "--interval", "0.5", "-v", "0"],
            start_new_session=True,
        )

    def _worker_watch(
        self,
        worker: subprocess.Popen[bytes],
        stop: Callable[[], None],
        stopping: threading.Event,
    ) -> None:
        worker.wait()
        if not stopping.is_set():
            self.stderr.write(f"The task worker exited (code {worker.returncode}); stopping.")
            stop()

    def _worker_stop(self, worker: subprocess.Popen[bytes]) -> None:
        if worker.poll() is not None:
            return
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=WORKER_STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()


def _ignore(signum: int, frame: FrameType | None) -> None:
    """Swallow the signal uvicorn re-raises after its graceful shutdown."""
