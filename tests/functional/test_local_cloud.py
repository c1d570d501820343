"""The Rally plugin against a real cloud: the project's single-node
OpenStack (tools/aio/cloud.sh up), with Rally, SSH and netperf running
inside the cloud's network namespace as an operator would run them.

The smoke sweep (samples/tasks/kvm-perf-smoke.yaml) runs both scenarios with
the host baseline measured on this machine; a pinned flavor's instance is
read back from libvirt; one instance is made to fail on purpose. Every task
must leave the cloud as it found it. Without the cloud these tests skip,
unless KVM_PERF_AIO_REQUIRED is set (CI), where they fail.
"""

import csv
import json
import os
import socket
import subprocess
import sys
import time

import pytest

from rally_kvm_perf.analysis import levels as analysis

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
CLOUD = os.path.join(ROOT, "tools", "aio", "cloud.sh")
SMOKE = os.path.join(ROOT, "samples", "tasks", "kvm-perf-smoke.yaml")
RALLY = os.path.join(os.path.dirname(sys.executable), "rally")
NS = os.environ.get("KVM_PERF_AIO_NS", "kvmperf")
STATE = os.environ.get("KVM_PERF_AIO_STATE", "/var/lib/rally-kvm-perf/aio")
SPEC = os.path.join(STATE, "etc", "rally-env.json")
RESOURCES = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                         "cloud_resources.py")
GATEWAY = "10.99.0.1"       # tools/aio/lib.sh: AIO_GW
# AIO_NETSERVER: its own namespace behind the gateway, so that the host
# baseline and the instances both leave their network stack to reach it
NETSERVER = "10.99.1.2:12865"
LOCAL_CLOUD_ARGS = {"netserver": NETSERVER, "local_host": True}


def _in_ns(argv, timeout=600, check=True, **kwargs):
    proc = subprocess.run(["bash", CLOUD, "exec", *argv], capture_output=True,
                          text=True, timeout=timeout, **kwargs)
    if check:
        assert proc.returncode == 0, (argv, proc.stdout[-2000:],
                                      proc.stderr[-3000:])
    return proc


def _resources():
    """IDs of everything a task could leave behind, cloud-wide."""
    found = json.loads(_in_ns([sys.executable, RESOURCES]).stdout)
    # keypairs of every user, deleted projects' too: nova's own table
    found["keypairs"] = sorted(_in_ns(
        ["mariadb", "-uroot", "-N", "-e",
         "SELECT name FROM nova_api.key_pairs"]).stdout.split())
    return found


@pytest.fixture(scope="module")
def cloud():
    if not (os.path.exists("/run/netns/" + NS) and os.path.exists(SPEC)):
        msg = ("the local cloud is not up: run 'bash tools/aio/cloud.sh up' "
               "(as root)")
        if os.environ.get("KVM_PERF_AIO_REQUIRED"):
            pytest.fail(msg)
        pytest.skip(msg)
    status = subprocess.run(["bash", CLOUD, "status"], capture_output=True,
                            text=True)
    assert status.returncode == 0, status.stdout + status.stderr
    return STATE


@pytest.fixture(scope="module")
def rally(cloud, tmp_path_factory):
    """The rally CLI inside the namespace, with a private database."""
    home = tmp_path_factory.mktemp("rally-aio")
    conf = home / "rally.conf"
    conf.write_text("[database]\nconnection = sqlite:///%s\n"
                    % (home / "rally.sqlite"))

    def run(*args, check=True, timeout=1800):
        proc = _in_ns(["env", "HOME=%s" % home, RALLY, "--config-file",
                       str(conf), *args], timeout=timeout, check=False,
                      cwd=str(home))
        if check:
            assert proc.returncode == 0, (args, proc.stdout[-4000:],
                                          proc.stderr[-4000:])
        return proc

    run.argv = lambda *args: ["bash", CLOUD, "exec", "env", "HOME=%s" % home,
                              RALLY, "--config-file", str(conf), *args]
    run("db", "create")
    # (Rally prints the spec, admin password included: never shown here)
    run("env", "create", "--name", "aio", "--spec", SPEC)
    check = run("env", "check")
    assert "OK" in check.stdout
    run.home = home
    return run


def _task(rally, tmp_path, args, expect_rc=0):
    """Run the smoke task; returns (rally report JSON, task uuid)."""
    before = _resources()
    proc = rally("task", "start", SMOKE, "--task-args", json.dumps(args),
                 check=False)
    uuid = [line.split()[1].rstrip(":") for line in proc.stdout.splitlines()
            if line.startswith("Task ") and "started" in line]
    assert proc.returncode == expect_rc, (proc.stdout[-6000:],
                                          proc.stderr[-6000:])
    assert uuid, proc.stdout[-3000:]
    report = tmp_path / "report.json"
    rally("task", "report", uuid[0], "--json", "--out", str(report))
    after = _resources()
    # nothing the task created survives it, nothing else was touched
    assert after == before, {k: (before[k], after[k]) for k in before
                             if before[k] != after[k]}
    return json.loads(report.read_text()), uuid[0]


def _workloads(report):
    """{scenario name: workload} of a task's JSON report."""
    return {next(iter(sub["workloads"][0]["scenario"])): sub["workloads"][0]
            for sub in report["tasks"][0]["subtasks"]}


def _table(workload, title):
    for chart in workload["data"][0]["output"]["complete"]:
        if chart["title"] == title:
            return chart["data"]
    raise AssertionError("no %r chart in %s" % (title, workload["name"]))


@pytest.fixture(scope="module")
def smoke(rally, tmp_path_factory):
    """The README's main job: both scenarios, host baseline measured."""
    out = tmp_path_factory.mktemp("smoke")
    t0 = time.monotonic()
    report, uuid = _task(rally, out, dict(LOCAL_CLOUD_ARGS,
                                          measure_baseline=True,
                                          output_dir=str(out)))
    print("\nsmoke task (2 scenarios, 2 instances): %.0f s"
          % (time.monotonic() - t0))
    return report, uuid, out


def test_smoke_task_finishes_with_every_sla_passing(rally, smoke):
    report, uuid, _ = smoke
    workloads = _workloads(report)
    assert set(workloads) == {"KVMPerf.bonnie", "KVMPerf.netperf"}
    for name, wl in workloads.items():
        criteria = {r["criterion"]: r["success"]
                    for r in wl["sla_results"]["sla"]}
        assert set(criteria) == {"failure_rate", "kvm_perf_overlap",
                                 "kvm_perf_ratio"}, (name, criteria)
        assert all(criteria.values()), (name, wl["sla_results"])
        assert not wl["data"][0]["error"], wl["data"][0]["error"]
    assert rally("task", "sla-check", uuid, check=False).returncode == 0


def _host_samples(rally_home):
    """{benchmark: {metric: [values]}} of the baselines the kvm_perf_baseline
    context measured (written under Rally's home)."""
    out = {}
    folder = rally_home / ".rally" / "kvm_perf" / "baselines"
    for path in folder.glob("*.json"):
        for bench, per_metric in analysis.baseline_samples(
                json.load(open(path))).items():
            for name, values in per_metric.items():
                out.setdefault(bench, {}).setdefault(name, []).extend(values)
    return out


def test_every_measured_metric_has_a_vm_host_ratio(rally, smoke):
    _, _, out = smoke
    host = _host_samples(rally.home)
    assert {"bonnie++", "netperf:TCP_STREAM", "netperf:UDP_STREAM",
            "netperf:TCP_RR"} <= set(host)
    with_ratio = set()
    for name, expected in (("bonnie.json", {"bonnie++"}),
                           ("netperf.json", {"netperf:TCP_STREAM",
                                             "netperf:UDP_STREAM",
                                             "netperf:TCP_RR"})):
        doc = json.load(open(out / name))
        assert not doc["analysis"]["failures"]
        benchmarks = doc["analysis"]["benchmarks"]
        assert set(benchmarks) == expected
        for bench, data in benchmarks.items():
            assert data["levels"] == [1, 2]
            for metric, per in data["metrics"].items():
                for level, cell in per["levels"].items():
                    if cell["ratio"] is None:
                        continue  # neutral (e.g. netperf's elapsed time)
                    if cell["unmeasurable"]:
                        # "+++++" in an instance: said, never averaged away
                        assert cell["vm"]["mean"] is None
                        assert "not measurable at this size" in \
                            cell["ratio"]["reason"], cell
                        continue
                    if cell["ratio"]["ratio"] is not None:
                        with_ratio.add((bench, metric))
                        continue
                    # no ratio only where the host could not time it:
                    # bonnie++ prints "+++++" for a test too fast to time
                    assert "host baseline not measurable" in \
                        cell["ratio"]["reason"], (bench, metric, cell)
                    assert None in host[bench].get(metric, []), (
                        bench, metric, level)
    # the paper's metrics all have ratios, except where the host itself
    # printed "+++++" (this machine's disk rewrites 256 MiB with -D in 0.8 to
    # 1.1 s; one CI run's host timed it in 1 of 2 repetitions only: checked
    # above to be said as such, never averaged away)
    for pair in (("bonnie++", "block_write_kBps"), ("bonnie++", "rewrite_kBps"),
                 ("bonnie++", "block_write_cpu_pct"),
                 ("netperf:TCP_STREAM", "throughput_mbps"),
                 ("netperf:UDP_STREAM", "throughput_mbps"),
                 ("netperf:TCP_RR", "transactions_per_s"),
                 ("netperf:TCP_RR", "latency_mean_us")):
        bench, metric = pair
        host_timed = None not in host[bench].get(metric, [None])
        if pair == ("bonnie++", "rewrite_kBps") and not host_timed:
            continue
        assert host_timed, pair
        assert pair in with_ratio, pair


def test_measuring_began_after_each_guests_boot_was_over(smoke):
    """cloud-init's last stages ran on after sshd answered: every instance
    was waited for until cloud-init said done."""
    _, _, out = smoke
    for name in ("bonnie.json", "netperf.json"):
        for inst in json.load(open(out / name))["instances"]:
            assert inst["boot"]["status"] == "status: done", (name, inst)
            assert inst["boot"]["exit_code"] == 0, (name, inst)


def test_ept_check_reports_this_machine(smoke):
    report, _, _ = smoke
    for wl in _workloads(report).values():
        hosts = _table(wl, "Compute hosts: EPT/NPT and facts")
        assert len(hosts["rows"]) == 1
        row = dict(zip(hosts["cols"], hosts["rows"][0]))
        assert row["Host"] == socket.gethostname()
        # this machine has no usable hardware virtualisation: no kvm_intel
        # or kvm_amd module, so two-level paging is not on
        assert row["State"] != "on"
        assert "KVM module absent" in row["Evidence"], row


def test_reports_show_the_ratio_charts(rally, smoke, tmp_path):
    _, uuid, _ = smoke
    html = tmp_path / "rally.html"
    rally("task", "report", uuid, "--html-static", "--out", str(html))
    text = html.read_text()
    for title in ("VM/host ratio vs active instances", "bonnie++",
                  "netperf:TCP_STREAM"):
        assert title in text, title
    export = tmp_path / "kvm-perf"
    rally("task", "export", "--uuid", uuid, "--type", "kvm-perf", "--to",
          str(export))
    index = (export / "index.html").read_text()
    assert index.count("<svg") >= 2
    rows = list(csv.DictReader(open(export / "ratios.csv")))
    benches = {r["benchmark"] for r in rows}
    assert {"bonnie++", "netperf:TCP_STREAM", "netperf:UDP_STREAM",
            "netperf:TCP_RR"} <= benches
    assert any(r["metric"] == "block_write_kBps" and r["ratio"]
               and float(r["ratio"]) > 0
               for r in rows)


def _cpus(mode):
    proc = subprocess.run(["bash", CLOUD, "cpus", mode], capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, (mode, proc.stderr[-3000:])


@pytest.fixture
def dedicated_cpu():
    """CPU 1 as nova's PCPU inventory for this test only: the other tests'
    guests run on both CPUs (confined to one, boots took 2.7 times longer)."""
    _cpus("dedicated")
    try:
        yield
    finally:
        _cpus("shared")


def test_pinned_flavor_instance_shows_vcpupin(rally, tmp_path, dedicated_cpu):
    """hw:cpu_policy=dedicated on the host's one dedicated CPU (CPU 1):
    our pinning verification reads <vcpupin> back from libvirt."""
    report, _ = _task(rally, tmp_path, dict(
        LOCAL_CLOUD_ARGS, pinning=True, instances=1, repetitions=1,
        scenarios=["netperf"], duration=2))
    wl = _workloads(report)["KVMPerf.netperf"]
    pins = _table(wl, "Instances: vCPU pinning in libvirt")
    assert len(pins["rows"]) == 1
    row = dict(zip(pins["cols"], pins["rows"][0]))
    assert row["Pinned"] == "yes", row
    assert row["vCPU→CPU"] == "0→1", row
    assert row["Emulator"] == "1", row
    assert row["Domain"].startswith("instance-"), row


def test_papers_path_peer_baseline_reboots_and_runtime_pinning(rally,
                                                               tmp_path):
    """The paper's configuration rather than the smoke's: a peer instance
    runs netserver and the host baseline is measured against it in the
    same run; between repetitions the instances are rebooted (soft, both
    at once) and the runtime pinning is applied again and read back from
    libvirt after every boot; the instances share one host (same_host)."""
    out = tmp_path / "out"
    t0 = time.monotonic()
    report, _ = _task(rally, tmp_path, dict(
        local_host=True, measure_baseline=True, instances=1, repetitions=2,
        scenarios=["netperf"], duration=2, between_repetitions="reboot",
        runtime_pinning="0-1", output_dir=str(out)))
    print("\npaper's path (peer baseline, reboot, runtime pinning): %.0f s"
          % (time.monotonic() - t0))
    doc = json.load(open(out / "netperf.json"))
    assert doc["status"] == "complete"
    # after the boot and after the one reboot: both domains pinned, each
    # vCPU on its own CPU of 0-1, read back from libvirt each time
    assert [h["after_reboot"] for h in doc["pinning"]] == [0, 1]
    for h in doc["pinning"]:
        pins = sorted(r["runtime_pinned"] for r in h["instances"])
        assert pins == ["0", "1"], h
        assert all(r["pinned"] for r in h["instances"]) and not h["unmet"]
        # the emulator threads with their instance's vCPU (virsh emulatorpin)
        assert all(r["emulatorpin"] == r["runtime_pinned"]
                   for r in h["instances"]), h
    wl = _workloads(report)["KVMPerf.netperf"]
    notes = "\n".join(_table(wl, "Instances, failures and notes"))
    assert "measured in this run on" in notes and "against the peer " \
        "instance's netserver" in notes, notes
    assert "placement same_host:" in notes, notes
    assert [a["name"] for a in wl["data"][0]["atomic_actions"]].count(
        "kvm_perf.reboot_instances") == 1
    # nova's SOFT reboot completed: the guest's kernel found its root
    # filesystem clean (no journal replayed, as after a power cut)
    [reboot] = doc["reboots"]
    assert list(reboot["shutdown"].values()) == ["orderly"], reboot
    # ratios against the peer baseline, in the record at full precision
    ratios = [r["VM/host"] for r in doc["record"]["levels"]
              if r["Benchmark"] == "netperf:TCP_RR"
              and r["Metric"] == "transactions_per_s"]
    assert ratios and all(x and x > 0 for x in ratios), ratios


def test_an_aborted_sweep_keeps_its_runs_and_resumes(rally, tmp_path):
    """'rally task abort' mid-sweep: the runs measured so far are in the
    output file (status stopped) and nothing is left in the cloud; the same
    task with resume: true measures only what is missing."""
    out = tmp_path / "out"
    out.mkdir()
    args = dict(LOCAL_CLOUD_ARGS, instances=1, repetitions=3,
                scenarios=["netperf"], duration=2, output_dir=str(out))
    path = out / "netperf.json"
    before = _resources()
    proc = subprocess.Popen(
        rally.argv("task", "start", SMOKE, "--task-args", json.dumps(args)),
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
        running = rally("task", "list", "--status", "running",
                        "--uuids-only").stdout.split()
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
    assert _resources() == before
    report, _ = _task(rally, tmp_path, dict(args, resume=True))
    done = json.load(open(path))
    assert done["status"] == "complete"
    assert len(done["runs"]) == 9
    # the runs measured before the abort are kept as they were, not redone
    assert done["runs"][:len(kept)] == kept
    notes = "\n".join(_table(_workloads(report)["KVMPerf.netperf"],
                             "Instances, failures and notes"))
    assert "resumed" in notes, notes


def test_a_run_over_its_command_timeout_is_stopped_in_the_instance(
        rally, tmp_path):
    """netperf asked for 20 s with a 5-s command_timeout: each run is
    stopped in the guest (its process group), pgrep there finds no netperf
    left, and the next run goes ahead on a clean instance."""
    out = tmp_path / "out"
    _task(rally, tmp_path, dict(
        LOCAL_CLOUD_ARGS, instances=1, repetitions=1, scenarios=["netperf"],
        duration=20, command_timeout=5, output_dir=str(out)), expect_rc=2)
    doc = json.load(open(out / "netperf.json"))
    runs = [r["instances"][0] for r in doc["runs"]]
    assert len(runs) == 3, runs    # TCP_STREAM, UDP_STREAM, TCP_RR
    for run in runs:
        assert "killed after 5 s" in run["error"], run
        assert run["left_running"] == [], run   # verified gone in the guest
    assert doc["instances"][0]["broken"] is None


def test_spread_on_one_compute_node_fails_before_measuring(rally, tmp_path):
    t0 = time.monotonic()
    report, _ = _task(rally, tmp_path, dict(
        LOCAL_CLOUD_ARGS, instances=2, repetitions=1, scenarios=["netperf"],
        duration=2, placement="spread"), expect_rc=2)
    print("\nspread on one node: failed after %.0f s"
          % (time.monotonic() - t0))
    iteration = _workloads(report)["KVMPerf.netperf"]["data"][0]
    error = " ".join(iteration["error"])
    assert "placement spread:" in error and "needs 2 compute hosts" in error, \
        error
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


def test_one_failing_instance_keeps_the_others_results(rally, tmp_path):
    port = 12900
    server = subprocess.Popen(
        ["bash", CLOUD, "exec", sys.executable, "-c", TOKEN_SERVER, GATEWAY,
         str(port)], stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout.readline().strip() == "listening"
        out = tmp_path / "out"
        report, _ = _task(rally, tmp_path, dict(
            # a small file: this is about failing, not about the numbers
            LOCAL_CLOUD_ARGS, instances=2, repetitions=1, bonnie_size_mb=64,
            scenarios=["bonnie"], bonnie_directory="/var/tmp/kvm-perf-ok",
            install_command=INSTALL % (GATEWAY, port), output_dir=str(out)),
            expect_rc=2)   # the iteration failed: the failure_rate SLA fails
    finally:
        server.kill()
    wl = _workloads(report)["KVMPerf.bonnie"]
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
    _in_ns(["openstack", "image", "create", name, "--public", "--disk-format",
            "raw", "--container-format", "bare", "--file", str(disk)])
    try:
        t0 = time.monotonic()
        report, uuid = _task(rally, tmp_path, dict(
            LOCAL_CLOUD_ARGS, image=name, instances=1, repetitions=1,
            scenarios=["netperf"], duration=2, ssh_timeout=60), expect_rc=2)
        elapsed = time.monotonic() - t0
    finally:
        _in_ns(["openstack", "image", "delete", name])
    print("\nunbootable instance: task failed after %.0f s" % elapsed)
    iteration = _workloads(report)["KVMPerf.netperf"]["data"][0]
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
