"""Why an instance did not answer SSH, from its console log."""

import pytest

from rally_kvm_perf.sweep import console

SYSLINUX = """SeaBIOS (version 1.16.2-debian-1.16.2-1)
Booting from Hard Disk...
SYSLINUX 6.04 EDD 20191223 Copyright (C) 1994-2015 H. Peter Anvin et al
\x1b[0mWARNING: No configuration file found
boot: """

NO_METADATA = """[  OK  ] Reached target network-online.target
cloud-init[312]: 2026-11-26 19:00:01,000 - url_helper.py[WARNING]: Calling
'http://169.254.169.254/openstack' failed [120/120s]: request error
cloud-init[312]: 2026-11-26 19:02:01,000 - DataSourceOpenStack.py[WARNING]:
Giving up on OpenStack md from ['http://169.254.169.254/openstack'] after 120 s
kvm-perf-guest login: """

NO_HOST_KEYS = """ci-info: no authorized SSH keys fingerprints found for user debian.
-----BEGIN SSH HOST KEY KEYS-----
-----END SSH HOST KEY KEYS-----
[FAILED] Failed to start ssh.service - OpenBSD Secure Shell server.
"""

BOOTED = """[  OK  ] Started ssh.service - OpenBSD Secure Shell server.
-----BEGIN SSH HOST KEY KEYS-----
ssh-ed25519 AAAAC3Nza root@kvm-perf-guest
-----END SSH HOST KEY KEYS-----

Debian GNU/Linux 12 kvm-perf-guest ttyS0

kvm-perf-guest login: """

PANIC = """[    1.2] VFS: Unable to mount root fs on unknown-block(0,0)
[    1.2] Kernel panic - not syncing: VFS: Unable to mount root fs"""


@pytest.mark.parametrize("text, verdict", [
    ("", "no console output: the guest did not boot"),
    ("\r\n  \n\x1b[2J", "no console output: the guest did not boot"),
    (SYSLINUX, "the boot loader found nothing to boot"),
    (PANIC, "the kernel could not start the system"),
    (NO_HOST_KEYS, "the guest printed no SSH host keys"),
    (NO_METADATA, "the guest could not fetch its metadata"),
    (BOOTED, "the guest booted to a login prompt but SSH did not answer"),
    ("[    0.000000] Linux version 6.1.0\n[    2.1] Run /init",
     "the guest started to boot but reached no login prompt"),
])
def test_diagnose(text, verdict):
    assert console.diagnose(text).startswith(verdict)


def test_refused_key_is_told_apart_from_a_network_problem():
    assert console.diagnose(BOOTED, "Authentication failed.").startswith(
        "sshd is up but refused the login")
    assert console.diagnose(BOOTED, "timed out").startswith(
        "the guest booted to a login prompt")


def test_evidence_quotes_the_last_lines_without_control_codes():
    text = "\n".join("line %d" % i for i in range(40)) + "\n" + SYSLINUX
    out = console.evidence(text, "Unable to connect to port 22")
    assert out.startswith("the boot loader found nothing to boot")
    assert "last SSH error: Unable to connect to port 22" in out
    assert "console (last 15 lines):" in out
    assert "WARNING: No configuration file found | boot:" in out
    assert "\x1b" not in out and "line 24 |" not in out
    assert console.evidence("").startswith("no console output")
