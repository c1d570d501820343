"""Run commands on this machine or on a remote host over SSH.

Commands are argv lists. Locally they run without a shell; remotely they are
quoted with shlex.join(), so no argument can inject shell syntax.
"""

import dataclasses
import math
import os
import re
import shlex
import signal
import socket
import subprocess
import time

import paramiko

# imported at load time: rally registers config options on import, which
# must happen before a command line parses them
from rally import exceptions as rally_exceptions
from rally.utils import sshutils

from rally_kvm_perf import exceptions

# flush, then drop the page cache, dentries and inodes (root only)
DROP_CACHES = ["sh", "-c", "sync && echo 3 > /proc/sys/vm/drop_caches"]


# timeout(1): 124 when the command was stopped at the limit, 137 when it
# needed the KILL
TIMEOUT_EXIT_CODES = (124, 137)
REMOTE_KILL_AFTER_S = 10
CLIENT_GRACE_S = 20
# A connection whose host went away without a word (a guest rebooted or
# powered off under it) never answers a channel request, and paramiko
# waits for that answer without a limit: a reboot's boot-id check once
# waited 7 minutes and on. SSH keepalives every KEEPALIVE_S make such a
# connection fail: the rebooted host answers them with a reset, and
# TCP_USER_TIMEOUT aborts it once what was sent is unacknowledged for
# DEAD_PEER_S (a host that is gone).
KEEPALIVE_S = 5
DEAD_PEER_S = 60


@dataclasses.dataclass
class Result:
    exit_code: int
    stdout: str
    stderr: str


class LocalRunner:
    """Runs commands on the machine rally-kvm-perf runs on."""

    name = "localhost"
    is_local = True

    def run(self, argv, timeout=None, stdin=None):
        # a session of its own: at the limit (or when we are interrupted)
        # the whole process group ends, children too, as on the SSH side;
        # subprocess.run would kill the direct child only
        try:
            proc = subprocess.Popen(
                [str(a) for a in argv], stdout=subprocess.PIPE,
                stderr=subprocess.PIPE, text=True, errors="replace",
                stdin=subprocess.PIPE if stdin is not None else None,
                start_new_session=True)
        except FileNotFoundError:
            return Result(127, "", "%s: command not found" % argv[0])
        try:
            out, err = proc.communicate(input=stdin, timeout=timeout)
        except subprocess.TimeoutExpired:
            _end_group(proc)
            raise exceptions.CommandFailed(
                self.name, shlex.join(map(str, argv)), "timeout",
                "killed after %s s (its process group, with all it started)"
                % timeout) from None
        except BaseException:  # KeyboardInterrupt, SIGTERM turned into it
            _end_group(proc)
            raise
        return Result(proc.returncode, out, err)

    def close(self):
        pass


@dataclasses.dataclass(frozen=True)
class Login:
    """Who SSHRunner logs in as, and with what: a key file, a private key
    (text), or a password."""
    user: str = "root"
    key_filename: str | None = None
    password: str | None = dataclasses.field(default=None, repr=False)
    pkey: str | None = dataclasses.field(default=None, repr=False)


class SSHRunner:
    """Runs commands on a remote host through Rally's SSH client."""

    is_local = False

    def __init__(self, host, login=None, port=22, connect_timeout=120,
                 name=None, known_hosts=None):
        login = login or Login()
        self.name = name or host
        self.address = host
        self.port = port
        # None: any host key (instances are new, their keys unknown)
        self.known_hosts = known_hosts
        self._ssh = sshutils.SSH(login.user, host, port=port, pkey=login.pkey,
                                 key_filename=login.key_filename,
                                 password=login.password)
        self._connect_timeout = connect_timeout
        self._connected = False
        self._kept_alive = None   # the transport _client() set up

    def wait(self, timeout=None, check=None, interval=2):
        """Return when the host answers SSH; HostUnreachable after
        ``timeout`` (default ``connect_timeout``) s. ``check()`` is called
        between attempts and may raise to stop waiting early (e.g. the
        server went to ERROR). ``last_error`` keeps why the last attempt
        failed (refused, timed out, authentication)."""
        timeout = self._connect_timeout if timeout is None else timeout
        deadline = time.monotonic() + timeout
        self.last_error = None
        while not self._connected:
            try:
                self._client()
                self._ssh.execute("uname", timeout=30)
                self._check_host_key()
                self._connected = True
                return
            except (OSError, EOFError, rally_exceptions.SSHError,
                    rally_exceptions.SSHTimeout,
                    paramiko.SSHException) as e:
                self.last_error = _short(e)
                self._drop_client()
            if check is not None:
                check()
            if time.monotonic() >= deadline:
                raise exceptions.HostUnreachable(
                    "cannot reach %s over SSH within %s s: %s"
                    % (self.address, timeout, self.last_error))
            time.sleep(min(interval, max(deadline - time.monotonic(), 0)))

    def _check_host_key(self):
        """With a known_hosts file: the key the host presented must be the
        one filed for it (OpenSSH's [host]:port form off port 22)."""
        if not self.known_hosts:
            return
        key = self._ssh._client.get_transport().get_remote_server_key()
        try:
            filed = paramiko.HostKeys(os.path.expanduser(self.known_hosts))
        except OSError as e:
            self._drop_client()
            raise exceptions.InvalidArgument(
                "known_hosts file %s: %s" % (self.known_hosts, e)) from None
        name = (self.address if self.port == 22
                else "[%s]:%d" % (self.address, self.port))
        if filed.check(name, key):
            return
        self._drop_client()
        known = filed.lookup(name)
        raise exceptions.HostKeyRefused(
            "host key of %s (%s %s) %s %s: refusing it" % (
                name, key.get_name(), key.get_base64()[:24] + "...",
                "differs from the one filed in" if known else "is not in",
                self.known_hosts))

    def _client(self):
        """Rally's paramiko client, connected, with keepalives on and the
        dead-peer limit on its socket (see KEEPALIVE_S)."""
        client = self._ssh._get_client()
        transport = client.get_transport()
        if transport is not None and transport is not self._kept_alive:
            transport.set_keepalive(KEEPALIVE_S)
            try:
                transport.sock.setsockopt(socket.IPPROTO_TCP,
                                          socket.TCP_USER_TIMEOUT,
                                          DEAD_PEER_S * 1000)
            except (AttributeError, OSError):  # not TCP, not Linux
                pass
            self._kept_alive = transport
        return client

    def _drop_client(self):
        # rally's SSH keeps a failed client as False; a half-open one must
        # not be reused for the next attempt
        client = getattr(self._ssh, "_client", None)
        if client:
            try:
                client.close()
            except Exception:  # already dead
                pass
        self._ssh._client = False

    def reconnect(self):
        """After a reboot: drop the old connection, wait for SSH again."""
        try:
            self._ssh.close()
        except Exception:  # the old transport died with the reboot
            pass
        self._connected = False
        self._ensure_connected()

    def _ensure_connected(self):
        if not self._connected:
            self.wait()

    def run(self, argv, timeout=None, stdin=None):
        self._ensure_connected()
        command = shlex.join(str(a) for a in argv)
        try:
            self._client()
        except rally_exceptions.SSHError as e:
            self._connected = False
            raise exceptions.HostUnreachable(
                "SSH to %s failed before running %r: %s"
                % (self.name, command, e)) from None
        wrapped = command
        if timeout:
            # The limit is enforced where the command runs: an SSH channel
            # given up on by the client leaves its command running (no pty,
            # no SIGHUP), disturbing every later run. coreutils' timeout
            # puts the command in a process group of its own and signals
            # the whole group: TERM at the limit, KILL 10 s later.
            wrapped = "timeout -k %d %d %s" % (
                REMOTE_KILL_AFTER_S, math.ceil(timeout), command)
        try:
            # rally's execute() defaults to 3600 s; 0 would mean "no limit".
            # The client waits a little longer than the remote limit, so
            # that the remote side's kill is what ends a runaway command.
            status, out, err = self._ssh.execute(
                wrapped, stdin=stdin, timeout=(
                    timeout + REMOTE_KILL_AFTER_S + CLIENT_GRACE_S
                    if timeout else 0))
        except rally_exceptions.SSHTimeout:
            # and dropped it is: reused, a connection the host stopped
            # answering blocked the next command for 16 min (until the
            # kernel gave up retransmitting), so the next one connects anew
            self._drop_client()
            self._connected = False
            raise exceptions.CommandFailed(
                self.name, command, "timeout",
                "no answer %s s after its %s s limit: the connection is "
                "dropped" % (REMOTE_KILL_AFTER_S + CLIENT_GRACE_S, timeout)
            ) from None
        except rally_exceptions.SSHError as e:
            raise exceptions.HostUnreachable(
                "SSH to %s failed while running %r: %s"
                % (self.name, command, e)) from None
        except (paramiko.SSHException, EOFError, OSError) as e:
            # the connection died under the command (a keepalive found
            # its host gone): the next command connects anew
            self._drop_client()
            self._connected = False
            raise exceptions.HostUnreachable(
                "SSH to %s lost while running %r: %s"
                % (self.name, command, _short(e))) from None
        if timeout and status in TIMEOUT_EXIT_CODES:
            raise exceptions.CommandFailed(
                self.name, command, "timeout",
                "killed after %s s (its process group on %s, with all it "
                "started)" % (timeout, self.name))
        return Result(status, out, err)

    def close(self):
        # rally's SSH.close() fails on a client that never connected
        if getattr(self._ssh, "_client", None):
            self._ssh.close()


def _end_group(proc):
    """TERM to the process group, KILL to what is left of it
    REMOTE_KILL_AFTER_S later (as coreutils' timeout -k does remotely)."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.communicate(timeout=REMOTE_KILL_AFTER_S)
    except subprocess.TimeoutExpired:
        pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.communicate()


def _short(error):
    """An SSH error in one line, without rally's "Exception value is" noise."""
    text = re.sub(r"\s+", " ", str(error)).strip()
    match = re.search(r"Exception value is: (.*)", text)
    return (match.group(1) if match else text)[:300] or type(error).__name__


def check(runner, argv, timeout=None, stdin=None):
    """Run ``argv`` and raise CommandFailed (naming host and command) on a
    non-zero exit; returns the Result otherwise."""
    result = runner.run(argv, timeout=timeout, stdin=stdin)
    if result.exit_code != 0:
        raise exceptions.CommandFailed(
            runner.name, shlex.join(str(a) for a in argv), result.exit_code,
            result.stderr, result.stdout)
    return result


def parse_ssh_target(target, default_user="root", default_port=22):
    """'[USER@]HOST[:PORT]' -> (user, host, port)."""
    user, _, rest = target.rpartition("@")
    user = user or default_user
    host, port = rest, default_port
    if rest.count(":") == 1:
        host, port = rest.split(":")
        try:
            port = int(port)
        except ValueError:
            raise exceptions.InvalidArgument(
                "SSH port must be a number in %r" % target) from None
    if not host or host.startswith("-") or any(c.isspace() for c in target):
        raise exceptions.InvalidArgument(
            "SSH target must be [USER@]HOST[:PORT], got %r" % target)
    return user, host, port


def for_host(entry):
    """A runner for a compute host as the kvm_perf_hypervisors context
    records it (``context["kvm_perf"]["hypervisors"][name]``: its
    ``name`` and ``access``): this machine, or SSH."""
    access = entry["access"]
    if access.get("local"):
        runner = LocalRunner()
        runner.name = entry["name"]
        return runner
    return SSHRunner(
        access["address"], Login(access["user"],
                                 key_filename=access.get("key_file")),
        port=access["port"], name=entry["name"], connect_timeout=60,
        known_hosts=access.get("known_hosts"))
