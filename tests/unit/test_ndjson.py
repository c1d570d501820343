"""Every sample as bulk NDJSON: the record keeps them, the export carries
them with their metadata, a failed run stays in as its error."""

import json

import pytest

from rally_kvm_perf import columns
from rally_kvm_perf import results
from rally_kvm_perf.analysis import levels as analysis
from rally_kvm_perf.report import ndjson
from rally_kvm_perf.task import charts

RUNS = [{"benchmark": "bonnie++", "level": 1, "repetition": r,
         "instances": [{"instance": "vm-a", "hypervisor": "compute-1",
                        "started_at": 1795778310.5 + r,
                        "guest_started_at": 1795778311.0 + r,
                        "finished_at": 1795778320.0 + r, "error": None,
                        "metrics": {"block_write_kBps": v,
                                    "block_read_kBps": None}}]}
        for r, v in ((1, 79990.25), (2, 80001.5), (3, 79997.125))]
FAILED = {"benchmark": "bonnie++", "level": 1, "repetition": 4,
          "instances": [{"instance": "vm-a", "hypervisor": "compute-1",
                         "started_at": 1795778400.0, "finished_at": None,
                         "error": "bonnie++ exited 1: Can't open file",
                         "metrics": None}]}
PARAMETERS = {"scenario": "KVMPerf.bonnie", "image": "img",
              "flavor": {"vcpus": 2, "ram_mb": 2048, "disk_gb": 40,
                         "extra_specs": {"hw:cpu_policy": "dedicated"}},
              "placement": "same_host", "repetitions": 4}
HOSTS = {"title": results.HOSTS_TITLE, "chart_plugin": "Table", "data": {
    "cols": ["Host", "Feature", "State", "Evidence", "CPU", "CPUs",
             "RAM MiB", "Kernel", "Hypervisor"],
    "rows": [["compute-1", "EPT", "on", "kvm_intel.ept=Y", "Xeon", 32,
              128000, "6.1.0-28-amd64", "QEMU 7002000"]]}}
PINS = {"title": results.PINNING_TITLE, "chart_plugin": "Table", "data": {
    "cols": ["Instance", "Hypervisor", "Domain", "Pinned", "vCPU→CPU",
             "Emulator", "Runtime pinned to"],
    "rows": [["vm-a", "compute-1", "instance-00000001", "yes", "0→4 1→5",
              "4-5", ""]]}}


# what the kvm_perf_hypervisors context and libvirt said (the same as the
# display tables above)
HYPERVISORS = {"compute-1": {
    "ept": {"feature": "EPT", "enabled": True, "state": "kvm_intel.ept=Y"},
    "facts": {"cpu_model": "Xeon", "cpus": 32, "ram_mb": 128000,
              "kernel": "6.1.0-28-amd64"},
    "hypervisor_type": "QEMU", "hypervisor_version": 7002000}}
PINNING = {"instances": [{
    "instance": "vm-a", "hypervisor": "compute-1",
    "domain": "instance-00000001", "pinned": True,
    "vcpupin": {"0": "4", "1": "5"}, "emulatorpin": "4-5",
    "runtime_pinned": None}], "problems": []}


def _schema_1(record):
    """The record as rally-kvm-perf wrote it before schema 2: rows keyed
    by the display titles, no hosts or pinning (the tables had them)."""
    old = {k: v for k, v in record.items() if k not in ("hosts", "pinning")}
    old["schema"] = results.SCHEMA_1
    for key in ("levels", "fits", "overlap", "telemetry", "density"):
        old[key] = [{columns.TITLES.get(k, k): v for k, v in row.items()}
                    for row in record[key]]
    return old


def _task(schema_1=False):
    runs = RUNS + [FAILED]
    result = analysis.analyze(runs, {"compute-1": {"bonnie++": {
        "block_write_kBps": [100000.0, 100010.0, 99990.0]}}})
    record = results.build(result, ["bonnie++"], runs, results.About(
        notes=["tools in the instances: bonnie++ 2.00a, netperf 2.7.0"],
        parameters=PARAMETERS, hosts=results.host_rows(HYPERVISORS),
        pinning=results.pinning_rows(PINNING)))
    if schema_1:
        complete = [HOSTS, PINS, results.to_chart(_schema_1(record))]
    else:
        complete = charts.pinning_table(record["hosts"], record["pinning"]) \
            + [results.to_chart(record)]
    return {"uuid": "task-1", "created_at": "2026-11-27T10:00:00",
            "subtasks": [{"title": "pinned", "workloads": [{
                "name": "KVMPerf.bonnie", "args": {"password": "hunter2"},
                "contexts": {"kvm_perf_flavor": {"pinning": True},
                             "users": {"password": "hunter2"}},
                "data": [{"error": [], "output": {"complete": complete,
                                                  "additive": []}}]}]}]}


def test_the_record_keeps_every_sample_at_full_precision():
    record = results.from_iteration(
        _task()["subtasks"][0]["workloads"][0]["data"][0])
    got = results.sample_dicts(record)
    writes = [s["value"] for s in got if s["metric"] == "block_write_kBps"]
    assert writes == [79990.25, 80001.5, 79997.125]
    # "+++++" stays a None, the failed run a row with its error
    assert [s["value"] for s in got if s["metric"] == "block_read_kBps"] \
        == [None, None, None]
    [failed] = [s for s in got if s["error"]]
    assert failed["metric"] is None and failed["repetition"] == 4
    assert record["parameters"]["flavor"]["extra_specs"] == {
        "hw:cpu_policy": "dedicated"}


@pytest.mark.parametrize("schema_1", [False, True])
def test_bulk_ndjson_alternates_actions_and_documents_with_metadata(
        schema_1):
    text = ndjson.bulk([_task(schema_1)])
    lines = text.splitlines()
    assert text.endswith("\n") and len(lines) == 2 * 7   # 3x2 values, 1 error
    actions, docs = lines[0::2], [json.loads(x) for x in lines[1::2]]
    ids = [json.loads(a)["index"]["_id"] for a in actions]
    assert len(set(ids)) == len(ids)
    assert {json.loads(a)["index"]["_index"] for a in actions} == {
        ndjson.INDEX}
    first = docs[0]
    assert first["task"] == "task-1" and first["scenario"] == "KVMPerf.bonnie"
    assert first["optimised"] == "pinned flavor"
    assert first["compute_host"]["state"] == "on"
    assert first["compute_host"]["kernel"] == "6.1.0-28-amd64"
    # the record's map of vCPU to host CPUs; an older task's table cell
    assert first["pinning"]["vcpu_to_cpu"] == (
        "0→4 1→5" if schema_1 else {"0": "4", "1": "5"})
    assert first["pinning"]["pinned"] == ("yes" if schema_1 else True)
    assert first["parameters"]["flavor"]["extra_specs"] == {
        "hw:cpu_policy": "dedicated"}
    assert first["tools"] == "bonnie++ 2.00a, netperf 2.7.0"
    assert first["@timestamp"].startswith("2026-")
    write = [d for d in docs if d["metric"] == "block_write_kBps"]
    assert [d["value"] for d in write] == [79990.25, 80001.5, 79997.125]
    assert write[0]["level_host_mean"] == 100000.0
    assert write[0]["level_ratio"] == (79990.25 + 80001.5 + 79997.125) \
        / 3 / 100000.0
    assert [d["error"] for d in docs if d["error"]] == [
        "bonnie++ exited 1: Can't open file"]
    assert "hunter2" not in text                   # secrets redacted


def test_tasks_without_samples_export_nothing():
    task = _task()
    iteration = task["subtasks"][0]["workloads"][0]["data"][0]
    iteration["output"]["complete"] = [HOSTS]     # an older task: no record
    assert ndjson.bulk([task]) == ""
