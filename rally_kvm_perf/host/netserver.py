"""A private netserver on a free loopback port, stopped whatever happens."""

import os
import signal
import socket
import subprocess
import time

from rally_kvm_perf import exceptions

LOOPBACK = "127.0.0.1"


def free_port(address=LOOPBACK):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((address, 0))
        return s.getsockname()[1]


def wait_for_port(address, port, timeout):
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((address, port), timeout=1):
                return True
        except OSError:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)


class LocalNetserver:
    """Context manager: ``with LocalNetserver() as (host, port): ...``.

    netserver runs in the foreground (-D) in its own session, so stopping
    its process group also stops the children it forks for each test.
    """

    def __init__(self, binary="netserver", address=LOOPBACK, start_timeout=10):
        self.binary = binary
        self.address = address
        self.start_timeout = start_timeout
        self.port = None
        self.process = None

    def __enter__(self):
        self.port = free_port(self.address)
        try:
            self.process = subprocess.Popen(
                [self.binary, "-D", "-L", self.address, "-p", str(self.port)],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE, start_new_session=True)
        except FileNotFoundError:
            raise exceptions.CommandFailed(
                "localhost", self.binary, 127,
                "%s not found: install the netperf package" % self.binary
            ) from None
        if not wait_for_port(self.address, self.port, self.start_timeout):
            err = self._stop()
            raise exceptions.HostUnreachable(
                "netserver did not listen on %s:%d within %s s: %s"
                % (self.address, self.port, self.start_timeout,
                   err.strip() or "no error output"))
        return self.address, self.port

    def __exit__(self, *exc_info):
        self._stop()
        return False

    def _stop(self):
        proc, self.process = self.process, None
        if proc is None:
            return ""
        for sig, wait in ((signal.SIGTERM, 5), (signal.SIGKILL, 5)):
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                break
            try:
                proc.wait(timeout=wait)
                break
            except subprocess.TimeoutExpired:
                continue
        try:
            err = proc.stderr.read().decode(errors="replace")
        finally:
            proc.stderr.close()
        return err
