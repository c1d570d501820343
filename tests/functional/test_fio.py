"""KVMPerf.fio against the local cloud: fio in a real instance (TCG guest),
the host baseline measured on this machine (the compute host) by the
kvm_perf_baseline context with the same fio parameters, ratios for every
metric both sides measured; the task leaves the cloud as it found it."""

import json
import time

import pytest

from tests.functional import aio

JOBS = aio.SMALL_FIO_ARGS["fio_jobs"]


@pytest.mark.periodic
@pytest.mark.long
def test_fio_sweep_with_its_host_baseline_and_ratios(rally, tmp_path):
    out = tmp_path / "fio.json"
    t0 = time.monotonic()
    report, uuid = aio.task(rally, tmp_path, dict(
        aio.SMALL_FIO_ARGS, output_file=str(out)), sample=aio.FIO)
    print("\nfio task (1 instance, 2 repetitions, 2 jobs): %.0f s"
          % (time.monotonic() - t0))
    wl = aio.workloads(report)["KVMPerf.fio"]
    assert not wl["data"][0]["error"], wl["data"][0]["error"]
    criteria = {r["criterion"]: r["success"]
                for r in wl["sla_results"]["sla"]}
    assert criteria == {"failure_rate": True, "kvm_perf_ratio": True}, \
        wl["sla_results"]
    doc = json.load(open(out))
    assert doc["status"] == "complete" and len(doc["runs"]) == 2
    assert doc["parameters"]["fio"]["jobs"] == JOBS
    rows = {r["metric"]: r for r in doc["record"]["levels"]
            if r["benchmark"] == "fio"}
    # every metric of both jobs, measured on both sides, has its ratio,
    # with the repetition as the unit
    for job in JOBS:
        for stem in ("iops", "bw_kBps", "lat_mean_us", "lat_p50_us",
                     "lat_p99_us", "cpu_pct"):
            row = rows["%s_%s" % (job, stem)]
            assert row["n"] == 2, row
            assert row["host_mean"] and row["host_mean"] > 0, row
            assert row["vm_host_ratio"] and row["vm_host_ratio"] > 0, row
    notes = "\n".join(aio.table(wl, "Instances, failures and notes"))
    assert "fio 3.33" in notes, notes
    # the compute host's baseline, measured by the context in this task,
    # on the disk that backs the instances
    baselines = list((rally.home / ".rally" / "kvm_perf" / "baselines")
                     .glob("*.json"))
    hosts = [json.load(open(p)) for p in baselines]
    fio_hosts = [h for h in hosts if (h["parameters"].get("fio") or {})]
    assert fio_hosts and all(h["status"] == "complete" for h in fio_hosts)
    assert fio_hosts[0]["parameters"]["fio"]["directory"] == \
        "/var/lib/nova/instances"
