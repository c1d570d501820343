"""The remote (SSH) path for real: a private sshd on a free loopback port,
Rally's SSH client, and the baseline command with --host."""

import json
import socket
import subprocess
import sys
import threading
import time

import pytest

from rally_kvm_perf import exceptions
from rally_kvm_perf.host import netserver
from rally_kvm_perf.host import runner as host_runner


def test_commands_are_quoted_not_interpreted(sshd):
    runner = host_runner.SSHRunner("127.0.0.1", host_runner.Login(
        "root", key_filename=sshd["key"]), port=sshd["port"])
    try:
        evil = "a b; echo INJECTED $(id -u) `id -u` 'q' \"dq\" > /tmp/x"
        res = runner.run(["printf", "%s\\n", evil], timeout=30)
        assert res.exit_code == 0
        assert res.stdout == evil + "\n"
        res = runner.run(["sh", "-c", "exit 3"], timeout=30)
        assert res.exit_code == 3
        with pytest.raises(exceptions.CommandFailed) as e:
            host_runner.check(runner, ["ls", "/nonexistent dir"], timeout=30)
        assert "127.0.0.1" in str(e.value) and "'/nonexistent dir'" in str(e.value)
        with pytest.raises(exceptions.CommandFailed) as e:
            runner.run(["sleep", "5"], timeout=1)
        assert "timeout" in str(e.value)
    finally:
        runner.close()


def test_a_timeout_stops_the_remote_process_group(sshd, tmp_path):
    """What timed out is really gone on the remote side, children too --
    not left running to disturb the next run."""
    marker = "kvmperf-timeout-%d" % time.monotonic_ns()
    runner = host_runner.SSHRunner("127.0.0.1", host_runner.Login(
        "root", key_filename=sshd["key"]), port=sshd["port"])
    # a background child and the command itself, both carrying the marker
    script = "sh -c 'sleep 300; : %s' & sleep 300; : %s" % (marker, marker)
    try:
        t0 = time.monotonic()
        with pytest.raises(exceptions.CommandFailed) as e:
            runner.run(["sh", "-c", script], timeout=2)
        elapsed = time.monotonic() - t0
        assert "killed after 2 s" in str(e.value), str(e.value)
        assert elapsed < 15, elapsed
        time.sleep(1)
        left = subprocess.run(["pgrep", "-f", marker], capture_output=True,
                              text=True)
        assert left.stdout.strip() == "", left.stdout
        # and the runner goes on working
        assert runner.run(["true"], timeout=30).exit_code == 0
    finally:
        subprocess.run(["pkill", "-f", marker])
        runner.close()


def test_no_answer_after_the_limit_drops_the_connection(sshd, monkeypatch):
    """A command that does not end after its limit (here it stops the
    remote `timeout` that should have ended it): the client gives up,
    and the next command runs on a new connection, never on the one
    given up on (reused, a connection the host had stopped answering
    blocked the next command for 16 minutes)."""
    monkeypatch.setattr(host_runner, "REMOTE_KILL_AFTER_S", 1)
    monkeypatch.setattr(host_runner, "CLIENT_GRACE_S", 1)
    marker = "kvmperf-noanswer-%d" % time.monotonic_ns()
    runner = host_runner.SSHRunner("127.0.0.1", host_runner.Login(
        "root", key_filename=sshd["key"]), port=sshd["port"])
    try:
        assert runner.run(["true"]).exit_code == 0
        given_up = runner._ssh._client
        t0 = time.monotonic()
        with pytest.raises(exceptions.CommandFailed,
                           match="no answer 2 s after its 1 s limit: the "
                                 "connection is dropped"):
            runner.run(["sh", "-c", 'kill -STOP "$PPID"; sleep 60; : %s'
                        % marker], timeout=1)
        assert time.monotonic() - t0 < 15
        assert runner.run(["true"], timeout=30).exit_code == 0
        assert runner._ssh._client is not given_up
    finally:
        subprocess.run(["pkill", "-KILL", "-f", marker], capture_output=True)
        runner.close()


class VanishingHost:
    """A TCP relay to the test sshd that can play a host rebooted under
    its connection: ``vanish()`` and from then on what the client sends
    gets no answer -- the first burst (a request the host took before it
    went down) is swallowed, anything sent after QUIET_S is answered with
    a reset, as the host's new boot answers a connection it never had."""

    QUIET_S = 1.0

    def __init__(self, port):
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.target = port
        self.gone = None          # monotonic time of vanish()
        threading.Thread(target=self._accept, daemon=True).start()

    def vanish(self):
        self.gone = time.monotonic()

    def _accept(self):
        client, _ = self.listener.accept()
        server = socket.create_connection(("127.0.0.1", self.target))
        threading.Thread(target=self._pipe, args=(server, client, False),
                         daemon=True).start()
        self._pipe(client, server, True)

    def _pipe(self, src, dst, from_client):
        while True:
            try:
                data = src.recv(65536)
            except OSError:
                return
            if not data:
                return
            if self.gone is None:
                dst.sendall(data)
            elif from_client and time.monotonic() - self.gone > self.QUIET_S:
                # SO_LINGER 0: close() sends a reset
                src.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                               b"\x01\x00\x00\x00\x00\x00\x00\x00")
                src.close()
                return


def test_a_host_gone_under_its_connection_fails_the_command(sshd,
                                                            monkeypatch):
    """A guest that reboots while a command is being started on it never
    answers the request: paramiko would wait for it without a limit (a
    reboot's check once waited 7 minutes and on). Keepalives make the
    rebooted host reset the connection: the command fails as unreachable
    within seconds, and the next one connects anew."""
    monkeypatch.setattr(host_runner, "KEEPALIVE_S", 1)
    host = VanishingHost(sshd["port"])
    runner = host_runner.SSHRunner("127.0.0.1", host_runner.Login(
        "root", key_filename=sshd["key"]), port=host.port)
    outcome = {}

    def run():
        try:
            outcome["result"] = runner.run(["true"], timeout=30)
        except Exception as e:  # what the test checks
            outcome["error"] = e

    try:
        assert runner.run(["true"], timeout=30).exit_code == 0
        host.vanish()
        t0 = time.monotonic()
        worker = threading.Thread(target=run, daemon=True)
        worker.start()
        worker.join(30)
        assert not worker.is_alive(), "the command waited on a host gone"
        assert isinstance(outcome.get("error"),
                          exceptions.HostUnreachable), outcome
        assert "lost while running 'true'" in str(outcome["error"])
        assert time.monotonic() - t0 < 15
        assert runner._ssh._client is False    # dropped: the next connects
    finally:
        runner.close()


def test_a_local_timeout_stops_the_process_group_too():
    """The local runner (host baselines on an all-in-one node): at the limit
    the command's children go too, not only the process it started."""
    marker = "kvmperf-local-timeout-%d" % time.monotonic_ns()
    script = "sh -c 'sleep 300; : %s' & sleep 300; : %s" % (marker, marker)
    try:
        t0 = time.monotonic()
        with pytest.raises(exceptions.CommandFailed) as e:
            host_runner.LocalRunner().run(["sh", "-c", script], timeout=2)
        assert "killed after 2 s (its process group" in str(e.value)
        assert time.monotonic() - t0 < 15
        left = subprocess.run(["pgrep", "-f", marker], capture_output=True,
                              text=True)
        assert left.stdout.strip() == "", left.stdout
        ok = host_runner.LocalRunner().run(["cat"], stdin="in\n", timeout=5)
        assert (ok.exit_code, ok.stdout) == (0, "in\n")
    finally:
        subprocess.run(["pkill", "-f", marker])


def test_known_hosts_refuses_a_host_key_not_filed(sshd, tmp_path):
    """[kvm_perf] ssh_known_hosts: the compute host's key must be the one
    filed for it; an unknown or changed key is refused, not accepted."""
    kind, key = sshd["host_key_pub"].split()[:2]
    name = "[127.0.0.1]:%d" % sshd["port"]
    good = tmp_path / "known_hosts"
    good.write_text("%s %s %s\n" % (name, kind, key))
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f",
                    str(tmp_path / "other")], check=True)
    other = (tmp_path / "other.pub").read_text().split()[1]
    changed = tmp_path / "changed"
    changed.write_text("%s %s %s\n" % (name, kind, other))
    empty = tmp_path / "empty"
    empty.write_text("")

    def run(known_hosts):
        runner = host_runner.SSHRunner(
            "127.0.0.1", host_runner.Login("root", key_filename=sshd["key"]),
            port=sshd["port"], known_hosts=str(known_hosts),
            connect_timeout=20)
        try:
            return runner.run(["true"], timeout=30)
        finally:
            runner.close()

    assert run(good).exit_code == 0
    for path, says in ((changed, "differs from the one filed in"),
                       (empty, "is not in")):
        t0 = time.monotonic()
        with pytest.raises(exceptions.HostUnreachable) as e:
            run(path)
        assert says in str(e.value) and name in str(e.value), str(e.value)
        assert time.monotonic() - t0 < 15   # refused, not retried


def test_unreachable_host_is_a_clear_error():
    runner = host_runner.SSHRunner("127.0.0.1", port=netserver.free_port(),
                                   connect_timeout=2)
    with pytest.raises(exceptions.HostUnreachable) as e:
        runner.run(["true"])
    assert "cannot reach 127.0.0.1 over SSH" in str(e.value)


def test_remote_baseline_over_ssh(sshd, tmp_path):
    bonnie_dir = tmp_path / "bonnie"
    bonnie_dir.mkdir()
    out = tmp_path / "remote.json"
    with netserver.LocalNetserver() as (host, port):
        t0 = time.monotonic()
        proc = subprocess.run(
            [sys.executable, "-m", "rally_kvm_perf.cmd.main", "baseline",
             "--host", "root@127.0.0.1:%d" % sshd["port"],
             "--ssh-key", sshd["key"], "--netserver", "%s:%d" % (host, port),
             "--runs", "1", "--bonnie-dir", str(bonnie_dir),
             "--bonnie-size", "64", "--bonnie-ram", "32",
             "--bonnie-files", "0", "--tests", "TCP_STREAM,TCP_RR",
             "--duration", "1", "-o", str(out)],
            capture_output=True, text=True, timeout=300)
        assert time.monotonic() - t0 < 300
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(out.read_text())
    assert doc["status"] == "complete" and doc["host"] == "127.0.0.1"
    assert doc["tools"]["netperf"] == "2.7.0"
    assert doc["benchmarks"]["netperf:TCP_STREAM"]["statistics"][
        "throughput_mbps"]["mean"] > 0
    assert doc["benchmarks"]["bonnie++"]["samples"][0]["exit_code"] == 0
    # the key's content never reaches the document
    key = open(sshd["key"]).read()
    assert key.split("\n")[1] not in out.read_text()


def test_remote_baseline_needs_a_netserver(sshd, tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "rally_kvm_perf.cmd.main", "baseline",
         "--host", "root@127.0.0.1:%d" % sshd["port"], "--ssh-key",
         sshd["key"], "--bonnie-dir", str(tmp_path), "-o",
         str(tmp_path / "x.json")], capture_output=True, text=True,
        timeout=120)
    assert proc.returncode == 1
    assert "netserver target (HOST[:PORT]) is required" in proc.stderr
