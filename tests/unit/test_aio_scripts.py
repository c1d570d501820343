"""The local cloud's scripts without the cloud: they parse, the entry point
explains itself, and the ebtables wrapper does exactly its one job (run
against a stand-in ebtables that records its calls)."""

import glob
import os
import re
import shutil
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
WRAPPER = os.path.join(ROOT, "tools", "aio", "ebtables-wrapper.sh")


@pytest.mark.parametrize("script", sorted(
    glob.glob(os.path.join(ROOT, "tools", "**", "*.sh"), recursive=True)))
def test_script_parses(script):
    proc = subprocess.run(["bash", "-n", script], capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stderr


def test_the_guest_images_tools_are_the_installs():
    """cloud.sh up builds the guest image beside the cloud's packages only
    where image_tools_here finds the build's tools, which tools/install.sh
    installs: every command it asks for must be there after that install
    (one that never is, as cpio was, silently puts the build back after
    the cloud's apt) and be one the build or its verifier runs."""
    text = open(os.path.join(ROOT, "tools", "aio", "cloud.sh")).read()
    body = text[text.index("image_tools_here() {"):]
    tools = re.search(r"for c in ([^;]+); do", body).group(1).split()
    scripts = "".join(
        open(os.path.join(ROOT, "tools", "aio", name)).read()
        for name in ("build-guest-image.sh", "verify-guest-image.sh"))
    for tool in tools:
        assert shutil.which(tool), "%s: not installed by tools/install.sh" % tool
        assert re.search(r"(^|[\s(|])%s\s" % re.escape(tool), scripts,
                         re.M), "%s: not run by the image build" % tool
    assert os.path.exists("/usr/lib/EXTLINUX/mbr.bin")
    proc = subprocess.run(
        ["bash", "-c", 'eval "$(sed -n "/^image_tools_here() {/,/^}/p" '
         '"$0")"; image_tools_here',
         os.path.join(ROOT, "tools", "aio", "cloud.sh")])
    assert proc.returncode == 0


def test_cloud_without_a_command_prints_its_usage():
    proc = subprocess.run(["bash", os.path.join(ROOT, "tools", "aio",
                                                "cloud.sh")],
                          capture_output=True, text=True)
    if os.geteuid() != 0:
        assert "run as root" in proc.stderr
        return
    assert proc.returncode == 2
    for word in ("up", "status", "exec", "cpus", "down", "purge"):
        assert "cloud.sh %s" % word in proc.stderr


@pytest.fixture
def fake_ebtables(tmp_path):
    """An ebtables that logs its argv and fails every delete with 4, as
    Debian 12's ebtables-nft does for neutron's --among-src rules."""
    log = tmp_path / "calls"
    fake = tmp_path / "ebtables"
    fake.write_text('#!/bin/sh\necho "$*" >> %s\n'
                    'case " $* " in *" -D "*) exit 4;; esac\nexit 0\n' % log)
    fake.chmod(0o755)
    env = dict(os.environ, KVM_PERF_EBTABLES=str(fake))

    def run(*args):
        proc = subprocess.run(["sh", WRAPPER, *args], env=env,
                              capture_output=True, text=True)
        calls = log.read_text().splitlines() if log.exists() else []
        log.unlink(missing_ok=True)
        return proc, calls
    return run


def test_failed_among_src_delete_flushes_the_ports_chain(fake_ebtables):
    proc, calls = fake_ebtables(
        "-t", "nat", "--concurrent", "-D", "neutronMAC-tap1234", "-i",
        "tap1234", "--among-src", "fa:16:3e:00:00:01,", "-j", "RETURN")
    assert proc.returncode == 0, proc.stderr
    assert calls == [
        "-t nat --concurrent -D neutronMAC-tap1234 -i tap1234 --among-src "
        "fa:16:3e:00:00:01, -j RETURN",
        "-t nat --concurrent -F neutronMAC-tap1234",
        "-t nat --concurrent -A neutronMAC-tap1234 -j DROP"]
    assert "flushing neutronMAC-tap1234" in proc.stderr


def test_other_failures_are_ebtables_own(fake_ebtables):
    # a delete without --among-src keeps its exit code and does nothing else
    proc, calls = fake_ebtables("-t", "nat", "--concurrent", "-D",
                                "PREROUTING", "-i", "tap1", "-j", "x")
    assert proc.returncode == 4
    assert len(calls) == 1


def test_success_passes_through(fake_ebtables):
    proc, calls = fake_ebtables("-t", "nat", "-L")
    assert proc.returncode == 0 and calls == ["-t nat -L"]


@pytest.fixture
def namespace(tmp_path):
    """A network namespace of this test's own, removed afterwards."""
    if os.geteuid() != 0:
        pytest.skip("needs root (ip netns add)")
    name = "kvmperf-t%d" % os.getpid()
    subprocess.run(["ip", "netns", "add", name], check=True)
    yield name
    subprocess.run(["ip", "netns", "delete", name], check=False)


def _lib(namespace, tmp_path, script):
    state = tmp_path / "state"
    for d in ("logs", "pids"):
        (state / d).mkdir(parents=True, exist_ok=True)
    return subprocess.run(
        ["bash", "-c", '. "$0"; %s' % script,
         os.path.join(ROOT, "tools", "aio", "lib.sh")],
        env=dict(os.environ, KVM_PERF_AIO_NS=namespace,
                 KVM_PERF_AIO_STATE=str(state)),
        capture_output=True, text=True, timeout=60)


def test_a_service_that_dies_is_named_with_its_log_tail(namespace, tmp_path):
    proc = _lib(namespace, tmp_path,
                "start_daemon flaky sh -c 'echo cannot bind: address in use; "
                "exit 3'; wait_port flaky 4999 20")
    assert proc.returncode == 1
    assert "service 'flaky' failed to start: exited (port 4999 never " \
        "opened)" in proc.stderr
    assert "cannot bind: address in use" in proc.stderr  # the log's tail


def test_a_setup_steps_log_never_holds_a_secret(namespace, tmp_path):
    """The step's log names the command; a password passed to it (as the
    keystone bootstrap's once was, on its command line) is never written
    there, nor printed when the step fails."""
    proc = _lib(namespace, tmp_path,
                "setup_step boot env OS_BOOTSTRAP_PASSWORD=s3cr3t-pw "
                "sh -c 'echo step ran'; "
                "setup_step sync env DB_PASS=s3cr3t-db sh -c 'echo cannot "
                "connect; exit 4'")
    assert proc.returncode == 1
    logs = tmp_path / "state" / "logs"
    boot = (logs / "boot.log").read_text()
    assert "env OS_BOOTSTRAP_PASSWORD=..." in boot and "step ran" in boot
    sync = (logs / "sync.log").read_text()
    assert "DB_PASS=..." in sync
    assert "setup step 'sync' failed" in proc.stderr
    assert "cannot connect" in proc.stderr  # the failed step's log tail
    for text in (boot, sync, proc.stdout, proc.stderr):
        assert "s3cr3t" not in text
    # a daemon's start line the same way; a name that only contains such
    # a word keeps its value
    proc = _lib(namespace, tmp_path,
                "start_daemon svc env AIO_SERVICE_PASS=s3cr3t-svc "
                "OS_KEYSTONE_CONFIG_FILES=/etc/k.conf true; sleep 0.5")
    assert proc.returncode == 0, proc.stderr
    svc = (logs / "svc.log").read_text()
    assert "start: env AIO_SERVICE_PASS=... " \
        "OS_KEYSTONE_CONFIG_FILES=/etc/k.conf true" in svc, svc
    assert "s3cr3t" not in svc


def test_daemons_run_in_the_namespace_and_stop_with_their_group(
        namespace, tmp_path):
    # a listener on the namespace's loopback only, with a child of its own
    proc = _lib(namespace, tmp_path,
                "ip -n $AIO_NS link set lo up; "
                "start_daemon web sh -c 'sleep 3011 & exec python3 -m "
                "http.server --bind 127.0.0.1 4998'; wait_port web 4998 20; "
                "pid=$(pid_of web); in_ns true; "
                "echo ns=$(ip netns identify $pid); stop_daemon web; "
                "sleep 0.5; kill -0 $pid 2>/dev/null && echo ALIVE; "
                "pgrep -f '^sleep 3011$' >/dev/null && echo CHILD; "
                "ls $AIO_PIDS")
    assert proc.returncode == 0, proc.stderr
    assert "ns=%s" % namespace in proc.stdout
    assert "ALIVE" not in proc.stdout and "CHILD" not in proc.stdout
    assert "web.pid" not in proc.stdout


def test_a_daemon_started_under_the_node2_lock_does_not_hold_it(
        namespace, tmp_path):
    """cloud.sh takes one `node2 up` at a time with flock on fd 8; a
    daemon it starts must not inherit that descriptor, or the lock stays
    held for the daemon's life and the next `node2 up`/`down` waits
    forever (it did, in a trial)."""
    lock = tmp_path / "node2.lock"
    proc = _lib(namespace, tmp_path,
                "exec 8> %s; flock 8; "
                "start_daemon holder sleep 3012; exec 8>&-; "
                "timeout 10 flock %s true && echo FREE; "
                "stop_daemon holder" % (lock, lock))
    assert proc.returncode == 0, proc.stderr
    assert "FREE" in proc.stdout, proc.stdout + proc.stderr
