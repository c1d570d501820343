"""Two compute nodes on this machine: the local cloud's optional second node
(`cloud.sh node2 up`: its own network, mount and UTS namespaces, libvirtd,
nova-compute, linuxbridge agent, and an sshd on its management address,
through which the kvm_perf contexts reach it as they reach a production
compute host). `placement: spread` puts one instance on each node, each
compared with its own host's baseline; `same_host` keeps them together.

The module starts the node (or, in CI, finds it up: tools/run.sh starts it
in the background while the pinned case runs, and `node2 up` takes one
start at a time) and stops it (nova and neutron forget it) when it is done:
every other test runs on one node, so CI runs this module alone (marked
``alone``: tools/run.sh, while the checks run, before the others)."""

import json
import os
import subprocess
import time

import pytest

from rally_kvm_perf import metrics
from tests.functional import aio

pytestmark = [pytest.mark.alone, pytest.mark.periodic]

NODE2 = "kvmperf-n2"                       # tools/aio/lib.sh: AIO_N2
NODE2_IP = "10.99.2.2"                     # AIO_N2_IP
NODE2_ETC = os.path.join(aio.STATE, "node2", "etc")


@pytest.fixture(scope="module")
def node2(cloud):
    t0 = time.monotonic()
    up = subprocess.run(["bash", aio.CLOUD, "node2", "up"],
                        capture_output=True, text=True, timeout=900)
    try:
        assert up.returncode == 0, up.stderr[-4000:]
        print("\nnode2 up: %.0f s" % (time.monotonic() - t0))
        yield {NODE2: {
            "local": False, "address": NODE2_IP, "user": "root",
            "key_file": os.path.join(NODE2_ETC, "id_ed25519"),
            "known_hosts": os.path.join(NODE2_ETC, "known_hosts"),
            # libssh2 checks the host key against known_hosts (OpenSSH's
            # ssh, qemu+ssh, only against its own files)
            "libvirt_uri": "qemu+libssh2://{user}@{host}/system"
                           "?sshauth=privkey"}}
    finally:
        down = subprocess.run(["bash", aio.CLOUD, "node2", "down"],
                              capture_output=True, text=True, timeout=300)
        assert down.returncode == 0, down.stderr[-4000:]


def _sweep(rally, tmp_path, hosts, **args):
    out = tmp_path / "out"
    out.mkdir()
    t0 = time.monotonic()
    report, _ = aio.task(rally, tmp_path, dict(
        aio.LOCAL_CLOUD_ARGS, hypervisor_hosts=hosts, instances=2,
        repetitions=1, scenarios=["netperf"], duration=2,
        # placement and per-host baselines, not the tests: one is enough
        netperf_tests=["TCP_STREAM"],
        output_dir=str(out), **args))
    wl = aio.workloads(report)["KVMPerf.netperf"]
    assert not wl["data"][0]["error"], wl["data"][0]["error"]
    [path] = list(out.glob("*.json"))
    print("\n%s: %.0f s" % (args.get("placement"), time.monotonic() - t0))
    return json.load(open(path))


def test_spread_puts_an_instance_on_each_node_with_its_own_baseline(
        rally, tmp_path, node2):
    doc = _sweep(rally, tmp_path, node2, placement="spread",
                 measure_baseline=True)
    hosts = [i["hypervisor"] for i in doc["instances"]]
    assert NODE2 in hosts and len(set(hosts)) == 2, hosts
    # the kvm_perf_baseline context measured both hosts, the second one
    # over SSH inside its own namespaces (its own host name)
    baselines = [json.load(open(p)) for p in (
        rally.home / ".rally" / "kvm_perf" / "baselines").glob("*.json")]
    measured = {(b.get("facts") or {}).get("hostname"): b for b in baselines
                if (b["parameters"].get("netperf") or {})}
    assert set(hosts) <= set(measured), (hosts, sorted(measured))
    assert all(measured[h]["status"] == "complete" for h in hosts)
    # each instance's runs were divided by its own host's baseline: every
    # metric of both levels that gets a ratio has one (netperf's CPU shares
    # and counts get none: a share of all CPUs compares no two machines)
    rows = [r for r in doc["record"]["levels"]
            if r["benchmark"].startswith("netperf")
            and metrics.METRICS[r["metric"]].better != metrics.NEUTRAL]
    assert "throughput_mbps" in {r["metric"] for r in rows}, rows
    assert rows and all(r["vm_host_ratio"] and r["vm_host_ratio"] > 0
                        for r in rows), rows
    # and libvirt on the second node was read over SSH (pinning record)
    pins = {p["instance"]: p for entry in doc["pinning"]
            for p in entry.get("instances", [])}
    assert any(p["hypervisor"] == NODE2 and p["vcpupin"] is not None
               for p in pins.values()), doc["pinning"]
    assert not [p for p in doc["pinning"][0]["problems"] if NODE2 in p], \
        doc["pinning"]


def test_same_host_keeps_both_instances_on_one_of_two_nodes(
        rally, tmp_path, node2):
    doc = _sweep(rally, tmp_path, node2, placement="same_host")
    hosts = {i["hypervisor"] for i in doc["instances"]}
    assert len(hosts) == 1, hosts
