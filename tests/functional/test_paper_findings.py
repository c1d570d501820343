"""Does this cloud reproduce the paper? The compare task
(samples/tasks/kvm-perf-compare.yaml) scaled down on the local cloud: a
before/after of 2 instances, 2 levels, 3 repetitions, "after" with
runtime pinning, the host baselines measured in both halves, every sweep
gated on the paper's findings its benchmark can show. Under TCG the
verdicts will rarely say "holds": this proves the machinery -- every
finding gets a verdict with its statistic, in ratios.json and on the page,
and each gate passes or fails as its findings' verdicts say -- not the
paper.

CI's case compares netperf alone, as the sample runs by default: on a
tenant network of Rally's ``network: {}`` context (a VXLAN network, a
subnet, a router to the external network), every instance reached over a
floating IP, and the leak check then finds none of them left (aio.task).
The periodic one compares both benchmarks on the cloud's shared network.
"""

import json
import os
import time

import pytest

from rally_kvm_perf.analysis import findings
from tests.functional import aio

COMPARE = os.path.join(aio.ROOT, "samples", "tasks", "kvm-perf-compare.yaml")
VERDICTS = (findings.HOLDS, findings.FAILS, findings.UNSURE)
# the scaled-down before/after: 2 instances of 1 vCPU, levels 1 and 2,
# 3 repetitions (the least that gives an interval), bonnie++'s file 64 MiB
# (at 128 MiB the task took 957 s here, 320 s of it per bonnie++ sweep:
# this case is about the verdicts, not the disk); "after" pins the two
# vCPUs on the two host CPUs through libvirt (the local cloud has no
# dedicated CPUs unless a case asks); its EPT check warns (TCG: no EPT)
SMALL = dict(instances=2, repetitions=3, vcpus=1, ram=512, disk=3,
             duration=2, bonnie_size_mb=64, netserver=aio.NETSERVER,
             measure_baseline=True, local_host=True, ept="warn",
             runtime_pinning="0-1", tenant_network=False,
             use_floating_ip=False, paper_findings=[1, 2, 3, 4],
             paper_on_inconclusive="pass")
# CI's: netperf alone on the sample's own tenant network and floating IPs
TENANT = dict(SMALL, scenarios=["netperf"])
del TENANT["tenant_network"], TENANT["use_floating_ip"], \
    TENANT["bonnie_size_mb"]
# what each sweep's kvm_perf_paper gate judges (the sample's split)
JUDGED = {"KVMPerf.bonnie": (1, 2), "KVMPerf.netperf": (3, 4)}


@pytest.mark.long(minutes=6)
def test_netperf_before_after_on_a_tenant_network_judges_its_findings(
        rally, tmp_path):
    t0 = time.monotonic()
    report, uuid = aio.task(rally, tmp_path, TENANT, sample=COMPARE,
                            expect_rc=(0, 2))
    print("\nthe compare task, netperf on a tenant network: %.0f s"
          % (time.monotonic() - t0))
    workloads = _check_compare(rally, tmp_path, report, uuid,
                               ["KVMPerf.netperf"])
    for wl in workloads:
        assert wl["contexts"]["network"] == {}, wl["contexts"]
        # each instance over a floating IP the sweep made (and deleted:
        # the leak check)
        actions = [a["name"] for a in wl["data"][0]["atomic_actions"]]
        assert any("floating" in a for a in actions), actions


# the longest case: handed out first (957 s alone here at 128 MiB)
@pytest.mark.periodic
@pytest.mark.long(minutes=12)
def test_before_after_judges_every_finding_and_gates_on_them(rally,
                                                            tmp_path):
    t0 = time.monotonic()
    report, uuid = aio.task(rally, tmp_path, SMALL, sample=COMPARE,
                            expect_rc=(0, 2))
    print("\nthe compare task, scaled down: %.0f s" % (time.monotonic() - t0))
    _check_compare(rally, tmp_path, report, uuid,
                   ["KVMPerf.bonnie", "KVMPerf.netperf"])


def _check_compare(rally, tmp_path, report, uuid, scenarios):
    """The before/after's workloads (before, then after), their findings
    and gates as ratios.json and the page show them; the workloads."""
    workloads = [sub["workloads"][0]
                 for sub in report["tasks"][0]["subtasks"]]
    assert [next(iter(w["scenario"])) for w in workloads] == scenarios * 2
    for wl in workloads:
        [iteration] = wl["data"]
        assert not iteration["error"], iteration["error"]
    export = tmp_path / "kvm-perf"
    rally("task", "export", "--uuid", uuid, "--type", "kvm-perf", "--to",
          str(export))
    doc = json.load(open(export / "ratios.json"))
    sets = doc["datasets"]
    assert [d["scenario"] for d in sets] == [
        next(iter(w["scenario"])) for w in workloads]
    # "after" is the runtime-pinned half, said in its label
    assert all("runtime pinning" in d["label"]
               for d in sets[len(scenarios):]), sets
    # findings 1-4 for every sweep, each a verdict with its statistic
    found = {}
    for f in doc["findings"]:
        assert f["verdict"] in VERDICTS, f
        assert f["statistic"], f
        assert f["settle"] or f["verdict"] != findings.UNSURE, f
        found.setdefault(f["dataset"], {})[f["finding"]] = f
    assert {label: sorted(by) for label, by in found.items()} == {
        d["label"]: [1, 2, 3, 4] for d in sets}
    # finding 5 from each before/after pair: bonnie++ and netperf
    comps = {c["scenario"]: c for c in doc["comparisons"]}
    assert set(comps) == set(scenarios)
    for comp in comps.values():
        [five] = comp["findings"]
        assert five["finding"] == 5 and five["verdict"] in VERDICTS, five
        assert five["statistic"], five
    # each gate as configured: it passes where none of its findings "does
    # not hold" (on_inconclusive: pass), fails naming those that do; the
    # task's exit code says whether any gate failed
    failed = []
    for wl, ds in zip(workloads, sets):
        name = next(iter(wl["scenario"]))
        [gate] = [s for s in wl["sla_results"]["sla"]
                  if s["criterion"] == "kvm_perf_paper"]
        verdicts = {n: found[ds["label"]][n]["verdict"]
                    for n in JUDGED[name]}
        broken = [n for n, v in verdicts.items() if v == findings.FAILS]
        assert gate["success"] == (not broken), (name, verdicts, gate)
        for n in broken:
            assert "finding %d" % n in gate["detail"], gate
        failed += [name] if broken else []
        [rate] = [s for s in wl["sla_results"]["sla"]
                  if s["criterion"] == "failure_rate"]
        assert rate["success"], rate
    assert report["tasks"][0]["pass_sla"] == (not failed)
    # the page: the findings section, finding 5's row among them
    index = (export / "index.html").read_text()
    assert "findings on this cloud" in index
    assert "pinning with EPT: CPU +3-5 %" in index
    return workloads
