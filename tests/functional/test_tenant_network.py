"""The paper's sample on the local cloud as on a DevStack: Rally's
``network: {}`` context makes the project a VXLAN tenant network, a subnet
and a router to the external network, and the sweep reaches its instances
(and the peer instance that runs netserver) over floating IPs
(``use_floating_ip: true``, the sample's default). The sample runs
unchanged; only its size comes from task arguments. The leak check then
finds no network, subnet, router, port or floating IP left (aio.task)."""

import os
import time

import pytest

from tests.functional import aio

PAPER = os.path.join(aio.ROOT, "samples", "tasks",
                     "kvm-perf-paper-baseline.yaml")
# the sample at its smallest: one instance (and the peer), one repetition,
# bonnie++'s file 64 MiB (forced below 2 x RAM: this case is about the
# network; the paper's 1 GiB cost some 70 CPU-s more under TCG than
# 256 MiB), no file tests (the sample's default -n 0), netperf 2 s
SMALL = dict(instances=1, repetitions=1, vcpus=1, ram=512, disk=3,
             duration=2, bonnie_size_mb=64)


@pytest.mark.periodic
@pytest.mark.long
def test_papers_sample_runs_on_a_tenant_network_over_floating_ips(
        rally, tmp_path):
    t0 = time.monotonic()
    report, _ = aio.task(rally, tmp_path, SMALL, sample=PAPER)
    print("\nthe paper's sample on a tenant network: %.0f s"
          % (time.monotonic() - t0))
    workloads = aio.workloads(report)
    assert set(workloads) == {"KVMPerf.bonnie", "KVMPerf.netperf"}
    for name, wl in workloads.items():
        assert wl["contexts"]["network"] == {}, wl["contexts"]
        assert wl["sla_results"]["sla"] and all(
            r["success"] for r in wl["sla_results"]["sla"]), (
            name, wl["sla_results"])
        [iteration] = wl["data"]
        assert not iteration["error"], (name, iteration["error"])
        notes = "\n".join(aio.table(wl, "Instances, failures and notes"))
        assert "failed" not in notes, notes
    # every instance reached over a floating IP (the sweep made one per
    # instance, and deleted it: the leak check)
    actions = [a["name"] for wl in workloads.values()
               for a in wl["data"][0]["atomic_actions"]]
    assert any("floating" in a for a in actions), actions
