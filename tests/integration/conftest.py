"""Shared fixtures of the integration tests."""

import os
import shutil
import subprocess

import pytest

from rally_kvm_perf.host import netserver

SSHD = shutil.which("sshd") or "/usr/sbin/sshd"


@pytest.fixture(scope="session")
def sshd(tmp_path_factory):
    """A private sshd on a free port of 127.0.0.1-8 (loopback: a fake
    server may have an address of its own) that lets root in with a
    fresh key: the remote (SSH) paths run for real, on this machine."""
    if os.geteuid() != 0 or not os.path.exists(SSHD):
        pytest.skip("needs root and openssh-server (tools/install.sh)")
    d = tmp_path_factory.mktemp("sshd")
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f",
                    str(d / "host_key")], check=True)
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f",
                    str(d / "client_key")], check=True)
    shutil.copy(d / "client_key.pub", d / "authorized_keys")
    os.chmod(d / "authorized_keys", 0o600)
    port = netserver.free_port()
    # The "instances" all share this machine, and so fio's test file: one
    # run's --unlink could remove it between another's lay-out and its
    # open (ENOENT under load). On the SSH path fio gets a file of its own
    # per run; everything else about it is the real fio.
    (d / "bin").mkdir()
    (d / "bin" / "fio").write_text(
        "#!/bin/sh\n"
        "for a; do shift; case $a in --filename=*) a=$a.$$;; esac; "
        "set -- \"$@\" \"$a\"; done\n"
        "exec %s \"$@\"\n" % (shutil.which("fio") or "/usr/bin/fio"))
    os.chmod(d / "bin" / "fio", 0o755)
    # SHLVL=1: bash, root's shell, then runs each command without sourcing
    # ~/.bashrc (it does for sshd's commands when SHLVL < 2); on this
    # machine that file runs `pyenv init`: 68,000 short processes over the
    # checks (measured: unit + integration 451 -> 384 s, 570 -> 447 CPU s)
    (d / "sshd_config").write_text(
        "Port %d\n%sHostKey %s\nPidFile %s\n"
        "AuthorizedKeysFile %s\nPermitRootLogin prohibit-password\n"
        "PasswordAuthentication no\nKbdInteractiveAuthentication no\n"
        "UsePAM no\nStrictModes no\nSetEnv SHLVL=1 PATH=%s:%s\n"
        % (port, "".join("ListenAddress 127.0.0.%d\n" % i
                         for i in range(1, 9)),
           d / "host_key", d / "sshd.pid", d / "authorized_keys",
           d / "bin", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:"
           "/sbin:/bin"))
    os.makedirs("/run/sshd", exist_ok=True)  # privilege separation dir
    proc = subprocess.Popen([SSHD, "-D", "-e", "-f", str(d / "sshd_config")],
                            stderr=open(d / "sshd.log", "w"))
    try:
        if not netserver.wait_for_port("127.0.0.1", port, 10):
            pytest.fail("sshd did not start: %s" % (d / "sshd.log").read_text())
        yield {"port": port, "key": str(d / "client_key"),
               "private_key": (d / "client_key").read_text(),
               "host_key_pub": (d / "host_key.pub").read_text().strip()}
    finally:
        proc.terminate()
        proc.wait(timeout=10)
