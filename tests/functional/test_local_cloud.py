"""The Rally plugin against a real cloud: the project's single-node
OpenStack (tools/aio/cloud.sh up), with Rally, SSH and netperf running
inside the cloud's network namespace as an operator would run them.

The smoke sweep (samples/tasks/kvm-perf-smoke.yaml) runs both scenarios with
the host baseline measured on this machine; a pinned flavor's instance is
read back from libvirt; the paper's path (peer baseline, reboots, runtime
pinning) runs; the failure cases are in test_failures.py. Every task must
leave the cloud as it found it (aio.task). Without the cloud these tests skip,
unless KVM_PERF_AIO_REQUIRED is set (CI), where they fail.
"""

import csv
import json
import socket
import subprocess
import time

import pytest

from rally_kvm_perf import results
from rally_kvm_perf.analysis import levels as analysis
from tests.functional import aio


@pytest.fixture(scope="module")
def smoke(rally, tmp_path_factory):
    """The README's main job: both scenarios, host baseline measured."""
    out = tmp_path_factory.mktemp("smoke")
    t0 = time.monotonic()
    report, uuid = aio.task(rally, out, dict(aio.LOCAL_CLOUD_ARGS,
                                             measure_baseline=True,
                                             output_dir=str(out)))
    print("\nsmoke task (2 scenarios, 2 instances): %.0f s"
          % (time.monotonic() - t0))
    return report, uuid, out


def test_smoke_task_finishes_with_every_sla_passing(rally, smoke):
    report, uuid, _ = smoke
    workloads = aio.workloads(report)
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
    for pair in (("bonnie++", "block_write_kBps"),
                 ("bonnie++", "rewrite_kBps"),
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
    """The local cloud's image has no cloud-init (tools/aio/guest-init.sh):
    every instance was waited for until systemd said its start-up was over,
    with no unit failed."""
    _, _, out = smoke
    for name in ("bonnie.json", "netperf.json"):
        for inst in json.load(open(out / name))["instances"]:
            assert inst["boot"]["status"] == "systemd: running", (name, inst)
            assert inst["boot"]["exit_code"] == 0, (name, inst)


def test_contention_telemetry_beside_the_ratios(smoke):
    """Every level of both scenarios has the instances' and the compute
    host's counters: steal, iowait and CPU in the guests, CPU and the qemu
    processes on this machine (the TCG guests' work is qemu's), and the
    sentences that explain the curve."""
    report, _, out = smoke
    for name, wl in aio.workloads(report).items():
        record = results.from_iteration(wl["data"][0])
        rows = record["telemetry"]
        assert {(r["benchmark"], r["active"]) for r in rows} == {
            (b, k) for b in record["benchmarks"] for k in (1, 2)}, rows
        for row in rows:
            assert row["repetitions"] == 2, row
            for key in ("guest_steal_pct", "guest_iowait_pct",
                        "guest_cpu_busy_pct", "host_cpu_busy_pct",
                        "host_cpu_max_core_pct", "guest_disk_util_pct"):
                assert row[key] is not None and 0 <= row[key] <= 100, (
                    name, key, row)
            # a TCG guest running a benchmark keeps its qemu busy
            assert row["qemu_cpu_pct"] > 10, (name, row)
        explain = aio.table(wl, results.EXPLAIN_TITLE)
        assert any(line.startswith(tuple(b + ": " for b in
                                         record["benchmarks"]))
                   for line in explain), explain
        print("\n%s contention: %s" % (name, "; ".join(explain)))
        for row in rows:
            print("  %s k=%d: steal %.1f%% iowait %.1f%% guest busy %.1f%% "
                  "host busy %.1f%% qemu %.1f%% guest disk %.1f%%" % (
                      row["benchmark"], row["active"], row["guest_steal_pct"],
                      row["guest_iowait_pct"], row["guest_cpu_busy_pct"],
                      row["host_cpu_busy_pct"], row["qemu_cpu_pct"],
                      row["guest_disk_util_pct"]))
    # the sweep's JSON keeps each run's figures (the record's source)
    doc = json.load(open(out / "bonnie.json"))
    run = doc["runs"][-1]
    assert run["host_telemetry"] and all(i["telemetry"]
                                         for i in run["instances"])


def test_ept_check_reports_this_machine(smoke):
    report, _, _ = smoke
    for wl in aio.workloads(report).values():
        hosts = aio.table(wl, "Compute hosts: EPT/NPT and facts")
        assert len(hosts["rows"]) == 1
        row = dict(zip(hosts["cols"], hosts["rows"][0]))
        assert row["Host"] == socket.gethostname()
        # this machine has no usable hardware virtualisation: no kvm_intel
        # or kvm_amd module, so two-level paging is not on
        assert row["State"] != "on"
        assert "KVM module absent" in row["Evidence"], row
        # the record holds the same, keyed by identifiers
        [host] = results.from_iteration(wl["data"][0])["hosts"]
        assert host["host"] == row["Host"] and host["state"] == row["State"]
        assert host["evidence"] == row["Evidence"], host


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
    # the paper's findings 1-4, each judged with the statistic it rests on
    # (under TCG they rarely hold: this proves the machinery), and the
    # density answer, on the page and in ratios.json
    doc = json.load(open(export / "ratios.json"))
    found = {f["finding"]: f for f in doc["findings"]}
    assert set(found) == {1, 2, 3, 4}, found
    for f in found.values():
        assert f["verdict"] in ("holds", "does not hold", "cannot tell"), f
        assert f["statistic"] and (f["settle"] or f["verdict"] != "cannot "
                                   "tell"), f
    assert "findings on this cloud" in index
    assert {(d["benchmark"], d["metric"]) for d in doc["density"]} >= {
        ("bonnie++", "block_write_kBps"),
        ("netperf:TCP_STREAM", "throughput_mbps")}
    assert "Density: instances per host" in text


def _cpus(mode):
    proc = subprocess.run(["bash", aio.CLOUD, "cpus", mode],
                          capture_output=True, text=True, timeout=600)
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


@pytest.mark.periodic
@pytest.mark.alone
def test_pinned_flavor_instance_shows_vcpupin(rally, tmp_path, dedicated_cpu):
    """hw:cpu_policy=dedicated on the host's one dedicated CPU (CPU 1):
    our pinning verification reads <vcpupin> back from libvirt."""
    report, _ = aio.task(rally, tmp_path, dict(
        aio.LOCAL_CLOUD_ARGS, pinning=True, instances=1, repetitions=1,
        scenarios=["netperf"], netperf_tests=["TCP_RR"], duration=2))
    wl = aio.workloads(report)["KVMPerf.netperf"]
    pins = aio.table(wl, "Instances: vCPU pinning in libvirt")
    assert len(pins["rows"]) == 1
    row = dict(zip(pins["cols"], pins["rows"][0]))
    assert row["Pinned"] == "yes", row
    assert row["vCPU→CPU"] == "0→1", row
    assert row["Emulator"] == "1", row
    assert row["Domain"].startswith("instance-"), row
    [pin] = results.from_iteration(wl["data"][0])["pinning"]["instances"]
    assert pin["pinned"] is True and pin["vcpu_to_cpu"] == {"0": "1"}, pin
    assert pin["domain"] == row["Domain"], pin


# periodic: CI runs runtime pinning through this cloud's libvirt in the
# compare case's "after" half, and reboots between repetitions and the
# peer baseline with real SSH, netperf and libvirt's test driver against a
# stand-in nova (tests/integration/test_sweep_scenarios.py); its 150-190
# s ran after the before/after on the same worker, the last to finish
@pytest.mark.periodic
@pytest.mark.long
def test_papers_path_peer_baseline_reboots_and_runtime_pinning(rally,
                                                               tmp_path):
    """The paper's configuration rather than the smoke's: a peer instance
    runs netserver and the host baseline is measured against it in the
    same run; between repetitions the instances are rebooted (soft, both
    at once) and the runtime pinning is applied again and read back from
    libvirt after every boot; the instances share one host (same_host),
    the peer too (peer_placement same_host)."""
    out = tmp_path / "out"
    t0 = time.monotonic()
    report, _ = aio.task(rally, tmp_path, dict(
        local_host=True, measure_baseline=True, instances=1, repetitions=2,
        scenarios=["netperf"], netperf_tests=["TCP_RR"], duration=2,
        between_repetitions="reboot",
        runtime_pinning="0-1", peer_placement="same_host",
        output_dir=str(out)))
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
    wl = aio.workloads(report)["KVMPerf.netperf"]
    notes = "\n".join(aio.table(wl, "Instances, failures and notes"))
    assert "measured in this run on" in notes and "against the peer " \
        "instance's netserver" in notes, notes
    assert "placement same_host:" in notes, notes
    # the peer in the instance's affinity group, its host read back
    assert "(peer_placement same_host)" in notes, notes
    assert [a["name"] for a in wl["data"][0]["atomic_actions"]].count(
        "kvm_perf.reboot_instances") == 1
    # nova's SOFT reboot completed: the guest's kernel found its root
    # filesystem clean (no journal replayed, as after a power cut)
    [reboot] = doc["reboots"]
    assert list(reboot["shutdown"].values()) == ["orderly"], reboot
    # the peer's own counters over every run: its CPU beside the clients'
    for run in doc["runs"]:
        [usage] = run["netserver_telemetry"].values()
        assert 0 < usage["guest_cpu_busy_pct"] <= 100, run
    rows = doc["record"]["telemetry"]
    assert rows and all(r["netserver_cpu_busy_pct"] is not None
                        for r in rows), rows
    # ratios against the peer baseline, in the record at full precision
    ratios = [r["vm_host_ratio"] for r in doc["record"]["levels"]
              if r["benchmark"] == "netperf:TCP_RR"
              and r["metric"] == "transactions_per_s"]
    assert ratios and all(x and x > 0 for x in ratios), ratios
