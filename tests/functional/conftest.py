"""Fixtures of the functional tests: the local cloud, and the rally CLI
inside its namespace with a private database (see aio.py)."""

import os
import subprocess

import pytest

from tests.functional import aio


@pytest.fixture(scope="module")
def cloud():
    if not (os.path.exists("/run/netns/" + aio.NS)
            and os.path.exists(aio.SPEC)):
        msg = ("the local cloud is not up: run 'bash tools/aio/cloud.sh up' "
               "(as root)")
        if os.environ.get("KVM_PERF_AIO_REQUIRED"):
            pytest.fail(msg)
        pytest.skip(msg)
    status = subprocess.run(["bash", aio.CLOUD, "status"],
                            capture_output=True, text=True)
    assert status.returncode == 0, status.stdout + status.stderr
    return aio.STATE


@pytest.fixture(scope="module")
def rally(cloud, tmp_path_factory):
    """The rally CLI inside the namespace, with a private database."""
    home = tmp_path_factory.mktemp("rally-aio")
    conf = home / "rally.conf"
    conf.write_text("[database]\nconnection = sqlite:///%s\n"
                    % (home / "rally.sqlite"))

    def run(*args, check=True, timeout=1800):
        proc = aio.in_ns(["env", "HOME=%s" % home, aio.RALLY,
                          "--config-file", str(conf), *args],
                         timeout=timeout, check=False, cwd=str(home))
        if check:
            assert proc.returncode == 0, (args, proc.stdout[-4000:],
                                          proc.stderr[-4000:])
        return proc

    run.argv = lambda *args: ["bash", aio.CLOUD, "exec", "env",
                              "HOME=%s" % home, aio.RALLY, "--config-file",
                              str(conf), *args]
    run("db", "create")
    # (Rally prints the spec, admin password included: never shown here)
    run("env", "create", "--name", "aio", "--spec", aio.SPEC)
    check = run("env", "check")
    assert "OK" in check.stdout
    run.home = home
    return run
