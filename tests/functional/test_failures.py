"""Failure handling against the local cloud (tools/aio/cloud.sh up): a
task aborted mid-sweep keeps its runs and resumes (over floating IPs), a
run over its
command_timeout is stopped in the instance, a placement that cannot be
honoured fails before measuring, one failing instance keeps the others'
results, an instance that cannot boot fails with its console's evidence.
Every task must leave the cloud as it found it (aio.task). Without the
cloud these tests skip, unless KVM_PERF_AIO_REQUIRED is set (CI).
"""

import ipaddress
import json
import subprocess
import sys
import time

import pytest

from tests.functional import aio

EXTERNAL = ipaddress.ip_network("10.99.3.0/24")   # tools/aio/lib.sh

@pytest.mark.periodic
@pytest.mark.long
def test_an_aborted_sweep_keeps_its_runs_and_resumes(rally, tmp_path):
    """'rally task abort' mid-sweep: the runs measured so far are in the
    output file (status stopped) and nothing is left in the cloud; the same
    task with resume: true measures only what is missing. Over floating
    IPs, the scenarios' default path (the local cloud's external network
    "public", neutron's L3 agent): each instance is reached over one, and
    none is left, after the abort as after the resumed task."""
    out = tmp_path / "out"
    out.mkdir()
    # 9 runs: rally's abort reached the sweep 3 runs after the first was
    # saved (over floating IPs, 2026-11-27); it must come before the last
    args = dict(aio.LOCAL_CLOUD_ARGS, instances=1, repetitions=3,
                scenarios=["netperf"], duration=2, use_floating_ip=True,
                floating_network="public", output_dir=str(out))
    path = out / "netperf.json"
    before = aio.resources()
    proc = subprocess.Popen(
        rally.argv("task", "start", aio.SMOKE, "--env", rally.env,
                   "--task-args", json.dumps(args)),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        cwd=str(rally.home))
    try:
        deadline = time.monotonic() + 900
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                doc = json.load(open(path))
            except (OSError, ValueError):  # not yet, or being rewritten
                doc = {}
            if doc.get("status") == "running" and doc.get("runs"):
                break
            time.sleep(0.5)
        else:
            raise AssertionError("no run was saved: %s" % proc.stdout.read())
        running = rally.running()
        assert len(running) == 1, running
        rally("task", "abort", running[0])
        proc.wait(timeout=900)
    finally:
        if proc.poll() is None:
            proc.kill()
    stopped = json.load(open(path))
    assert stopped["status"] == "stopped", stopped["status"]
    kept = stopped["runs"]
    assert 1 <= len(kept) < 9, len(kept)   # 3 tests x 3 repetitions
    _reached_over_a_floating_ip(stopped)
    left = aio.settled_leaks(before, rally.owners)
    assert not left, left
    report, _ = aio.task(rally, tmp_path, dict(args, resume=True))
    done = json.load(open(path))
    assert done["status"] == "complete"
    assert len(done["runs"]) == 9
    _reached_over_a_floating_ip(done)
    # the runs measured before the abort are kept as they were, not redone
    assert done["runs"][:len(kept)] == kept
    notes = "\n".join(aio.table(aio.workloads(report)["KVMPerf.netperf"],
                             "Instances, failures and notes"))
    assert "resumed" in notes, notes


def _reached_over_a_floating_ip(doc):
    [inst] = doc["instances"]
    assert ipaddress.ip_address(inst["floating_ip"]) in EXTERNAL, inst
    assert ipaddress.ip_address(inst["fixed_ip"]) not in EXTERNAL, inst


@pytest.mark.periodic
def test_a_run_over_its_command_timeout_is_stopped_in_the_instance(
        rally, tmp_path):
    """netperf asked for 20 s with a 5-s command_timeout: each run is
    stopped in the guest (its process group), pgrep there finds no netperf
    left, and the next run goes ahead on a clean instance. TCP tests only:
    a UDP_STREAM flood killed at its limit once left the guest's SSH
    connection unanswered past the client's grace (under load, on TCG),
    which is reported as "no answer" instead, the connection dropped
    (tests/integration/test_ssh.py)."""
    out = tmp_path / "out"
    aio.task(rally, tmp_path, dict(
        aio.LOCAL_CLOUD_ARGS, instances=1, repetitions=1,
        scenarios=["netperf"], netperf_tests=["TCP_STREAM", "TCP_RR"],
        duration=20, command_timeout=5, output_dir=str(out)), expect_rc=2)
    doc = json.load(open(out / "netperf.json"))
    runs = [r["instances"][0] for r in doc["runs"]]
    assert len(runs) == 2, runs    # TCP_STREAM, TCP_RR
    for run in runs:
        assert "killed after 5 s" in run["error"], run
        assert run["left_running"] == [], run   # verified gone in the guest
    assert doc["instances"][0]["broken"] is None


@pytest.mark.light
def test_spread_on_one_compute_node_fails_before_booting(rally, tmp_path):
    """placement spread with 2 instances on one compute node: the workload
    fails before it boots anything, naming the one host nova has."""
    t0 = time.monotonic()
    report, _ = aio.task(rally, tmp_path, dict(
        aio.LOCAL_CLOUD_ARGS, instances=2, repetitions=1,
        scenarios=["netperf"], duration=2, placement="spread"), expect_rc=2)
    print("\nspread on one node: failed after %.0f s"
          % (time.monotonic() - t0))
    iteration = aio.workloads(report)["KVMPerf.netperf"]["data"][0]
    error = " ".join(iteration["error"])
    assert "placement spread:" in error and "needs 2 compute hosts" in error, \
        error
    assert "nothing was booted" in error, error
    assert not any(a["name"].startswith("netperf")
                   for a in iteration["atomic_actions"])


@pytest.mark.light
def test_peer_on_another_host_of_a_one_node_cloud_fails_before_measuring(
        rally, tmp_path):
    """peer_placement other_host on one compute node: the workload fails
    before booting, saying so (kvm_perf_hypervisors found one host): never
    a VM-to-VM path across the host's bridge measured as one across the
    network. (With hosts enough but no room on them, nova's "No valid host"
    for the peer says it: tests/integration/test_sweep_scenarios.py.)"""
    report, _ = aio.task(rally, tmp_path, dict(
        local_host=True, instances=1, repetitions=1, scenarios=["netperf"],
        duration=2, peer_placement="other_host"), expect_rc=2)
    iteration = aio.workloads(report)["KVMPerf.netperf"]["data"][0]
    error = " ".join(iteration["error"])
    assert "peer_placement other_host:" in error, error
    assert "a compute host other than the measured instances', nova has 1 " \
        "compute host(s) up and enabled" in error, error
    assert "nothing was booted" in error, error
    assert not any(a["name"].startswith("netperf")
                   for a in iteration["atomic_actions"])


TOKEN_SERVER = r"""
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2])))
s.listen(1)
print("listening", flush=True)
s.settimeout(1800)
conn, _ = s.accept()
s.close()                # exactly one instance gets the token
conn.sendall(b"F")
conn.close()
"""

# In each instance before the sweep: create the bonnie++ directory, unless
# this instance wins the one token the test hands out (then the directory
# is missing, and bonnie++ fails there and only there).
INSTALL = ("mkdir -p /var/tmp/kvm-perf-ok && python3 -c 'import socket,sys;"
           "sys.exit(socket.create_connection((\"%s\", %d), 10).recv(1) "
           "!= b\"F\")' 2>/dev/null && rmdir /var/tmp/kvm-perf-ok; true")


@pytest.mark.periodic
def test_one_failing_instance_keeps_the_others_results(rally, tmp_path):
    port = 12900
    server = subprocess.Popen(
        ["bash", aio.CLOUD, "exec", sys.executable, "-c", TOKEN_SERVER,
         aio.GATEWAY, str(port)], stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout.readline().strip() == "listening"
        out = tmp_path / "out"
        report, _ = aio.task(rally, tmp_path, dict(
            # a small file: this is about failing, not about the numbers
            aio.LOCAL_CLOUD_ARGS, instances=2, repetitions=1,
            bonnie_size_mb=64,
            scenarios=["bonnie"], bonnie_directory="/var/tmp/kvm-perf-ok",
            install_command=INSTALL % (aio.GATEWAY, port),
            output_dir=str(out)),
            expect_rc=2)   # the iteration failed: the failure_rate SLA fails
    finally:
        server.kill()
    wl = aio.workloads(report)["KVMPerf.bonnie"]
    error = wl["data"][0]["error"]
    assert error, "the iteration should have failed"
    doc = json.load(open(out / "bonnie.json"))
    failures = doc["analysis"]["failures"]
    names = {i["name"] for i in doc["instances"]}
    assert len(names) == 2
    bad = {f["instance"] for f in failures}
    assert len(bad) == 1, failures
    good = names - bad
    bad_name = bad.pop()
    # the error names the instance and bonnie++'s own complaint
    text = " ".join(error)
    assert bad_name in text and "kvm-perf-ok" in text, text
    # the healthy instance's measurements are all there
    ok_runs = [inst for run in doc["runs"] for inst in run["instances"]
               if inst["instance"] in good and not inst.get("error")]
    # level 2, and level 1 too when it was the first instance
    assert 1 <= len(ok_runs) <= 2, ok_runs
    assert all(inst["metrics"]["block_write_kBps"] for inst in ok_runs)
    # and they are in the report
    level_table = json.dumps(wl["data"][0]["output"])
    assert good.pop() in level_table


@pytest.mark.periodic
def test_instance_that_cannot_boot_fails_with_console_evidence(rally,
                                                               tmp_path):
    """An image with no boot loader: the sweep gives up after ssh_timeout
    (not later), names the instance, and says from its console why; the
    kvm-perf report shows that error at the top of the workload; nothing
    leaks."""
    disk = tmp_path / "unbootable.raw"
    subprocess.run(["truncate", "-s", "64M", str(disk)], check=True)
    name = "kvm-perf-unbootable"
    # public: the task's own project must see it, as it sees the real one
    aio.in_ns(["openstack", "image", "create", name, "--public",
               "--disk-format", "raw", "--container-format", "bare",
               "--file", str(disk)])
    try:
        t0 = time.monotonic()
        report, uuid = aio.task(rally, tmp_path, dict(
            aio.LOCAL_CLOUD_ARGS, image=name, instances=1, repetitions=1,
            scenarios=["netperf"], duration=2, ssh_timeout=60), expect_rc=2)
        elapsed = time.monotonic() - t0
    finally:
        aio.in_ns(["openstack", "image", "delete", name])
    print("\nunbootable instance: task failed after %.0f s" % elapsed)
    iteration = aio.workloads(report)["KVMPerf.netperf"]["data"][0]
    # the SSH wait gave up at its ssh_timeout (60 s), not at the default
    [wait] = [a for a in iteration["atomic_actions"]
              if a["name"] == "kvm_perf.wait_for_ssh"]
    assert 55 <= wait["finished_at"] - wait["started_at"] <= 90, wait
    assert elapsed < 600, elapsed
    error = " ".join(iteration["error"])
    assert "did not answer SSH" in error and "within 60 s" in error, error
    assert ("no console output: the guest did not boot" in error
            or "the boot loader found nothing to boot" in error), error
    export = tmp_path / "kvm-perf"
    rally("task", "export", "--uuid", uuid, "--type", "kvm-perf", "--to",
          str(export))
    index = (export / "index.html").read_text()
    top = index.index("This workload failed")
    assert top < index.index("<h3>Per level"), "error not at the top"
    assert "did not answer SSH" in index[top:top + 4000]
