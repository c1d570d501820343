"""The results record, schema 2: rows keyed by identifiers, hosts and
pinning in it, schema 1 and Rally output from before the record still
read, and the titles only where a person reads them."""

import json
import os

import pytest

from rally_kvm_perf import columns
from rally_kvm_perf import results
from rally_kvm_perf.analysis import levels as analysis
from rally_kvm_perf.task import charts

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(__file__)))
FIXTURES = os.path.join(ROOT, "tests", "fixtures", "iterations")


def _runs():
    """Two levels of bonnie++, three repetitions each, values that make
    every statistic of the record exist (a ratio, intervals, a fit)."""
    runs = []
    for k in (1, 2, 3):
        for rep in (1, 2, 3):
            runs.append({"benchmark": "bonnie++", "level": k,
                         "repetition": rep, "instances": [
                             {"instance": "vm-%d" % i,
                              "hypervisor": "compute-1",
                              "started_at": 100.0 * rep + i,
                              "finished_at": 100.0 * rep + i + 50.0,
                              "error": None,
                              "metrics": {"block_write_kBps":
                                          90000.0 - 9000.0 * k + 50.0 * rep
                                          + 10.0 * i}}
                             for i in range(k)]})
    return runs


HYPERVISORS = {"compute-1": {
    "ept": {"feature": "EPT", "enabled": False,
            "state": "KVM module absent"},
    "facts": {"cpu_model": "Xeon", "cpus": 2, "ram_mb": 24000,
              "kernel": "6.1.0"},
    "hypervisor_type": "QEMU", "hypervisor_version": 7002000}}
PINNING = {"instances": [{
    "instance": "vm-0", "hypervisor": "compute-1", "domain": "instance-1",
    "pinned": False, "vcpupin": None, "emulatorpin": None,
    "runtime_pinned": "0-1"}], "problems": ["vm-0: not pinned"]}


def _record():
    result = analysis.analyze(_runs(), {"compute-1": {"bonnie++": {
        "block_write_kBps": [100000.0, 100500.0, 99500.0]}}})
    return results.build(result, ["bonnie++"], _runs(), results.About(
        notes=["a note"], hosts=results.host_rows(HYPERVISORS),
        pinning=results.pinning_rows(PINNING)))


def _iteration(record):
    return {"error": [], "output": {"additive": [],
                                    "complete": [results.to_chart(record)]}}


def _titled(rows):
    return [{columns.TITLES.get(k, k): v for k, v in r.items()} for r in rows]


def _schema_1(record):
    """The record as rally-kvm-perf wrote it before schema 2."""
    old = {k: v for k, v in record.items() if k not in ("hosts", "pinning")}
    old["schema"] = results.SCHEMA_1
    for key in ("levels", "fits", "overlap", "telemetry", "density"):
        old[key] = _titled(record[key])
    old["contention"] = dict(record["contention"],
                             knees=_titled(record["contention"]["knees"]))
    return old


def test_rows_are_keyed_by_identifiers_at_full_precision():
    record = json.loads(json.dumps(_record()))
    assert record["schema"] == "rally-kvm-perf/results/2"
    [row] = [r for r in record["levels"]
             if r["metric"] == "block_write_kBps" and r["active"] == 2]
    assert set(row) == set(columns.LEVEL) | {"benchmark"}
    assert row["benchmark"] == "bonnie++" and row["n"] == 3
    # (72000 + 50 rep + 10 i) over 3 repetitions, 2 instances: unrounded
    assert row["vm_mean"] == pytest.approx(72105.0, abs=1e-9)
    assert row["vm_host_ratio"] == pytest.approx(0.72105, abs=1e-12)
    assert row["ratio_ci_low"] < row["vm_host_ratio"] < row["ratio_ci_high"]
    [fit] = [f for f in record["fits"] if f["metric"] == "block_write_kBps"]
    assert set(fit) == set(columns.FIT) and fit["fitted"] == "ratio"
    # ratios 0.811, 0.72105, 0.6311 at 1, 2, 3 instances
    assert fit["slope"] == pytest.approx(-0.08995, abs=1e-12)
    for key in ("overlap", "density"):
        assert record[key] and all(
            set(r) <= set(columns.TITLES) for r in record[key]), key
    # nothing in the record is keyed by a title with a space or a slash
    for key in ("levels", "fits", "overlap", "density"):
        assert not any(" " in k or "/" in k for r in record[key] for k in r)


def test_hosts_pinning_and_notes_are_in_the_record():
    record = _record()
    [host] = record["hosts"]
    assert host == {"host": "compute-1", "feature": "EPT", "state": "OFF",
                    "evidence": "KVM module absent", "cpu": "Xeon",
                    "cpus": 2, "ram_mib": 24000, "kernel": "6.1.0",
                    "hypervisor": "QEMU 7002000"}
    [pin] = record["pinning"]["instances"]
    assert pin["runtime_pinned_to"] == "0-1" and pin["vcpu_to_cpu"] == {}
    assert record["pinning"]["problems"] == ["vm-0: not pinned"]
    assert record["notes"] == ["a note"]
    # without the kvm_perf_hypervisors context: no hosts, and the table
    # says why
    assert results.host_rows(None) is None
    tables = charts.pinning_table(None, results.pinning_rows(None))
    assert "context is not used" in tables[0]["description"]
    assert tables[0]["data"]["rows"] == [] == tables[1]["data"]["rows"]


def test_the_tables_show_titles_and_round_only_there():
    record = _record()
    hosts, pins = charts.pinning_table(record["hosts"], record["pinning"])
    assert hosts["data"]["cols"][:3] == ["Host", "Feature", "State"]
    assert dict(zip(pins["data"]["cols"], pins["data"]["rows"][0])) == {
        "Instance": "vm-0", "Hypervisor": "compute-1",
        "Domain": "instance-1", "Pinned": "no", "vCPU→CPU": "none",
        "Emulator": "none", "Runtime pinned to": "0-1"}


def test_schema_1_reads_as_schema_2():
    record = json.loads(json.dumps(_record()))
    old = _schema_1(record)
    assert old["levels"][0]["VM/host"] is not None     # titles, as then
    got = results.from_iteration(_iteration(old))
    for key in ("levels", "fits", "overlap", "telemetry", "density"):
        assert got[key] == record[key], key
    assert got["contention"] == record["contention"]
    # schema 1 had no hosts or pinning: read from the display tables
    assert got["hosts"] is None and got["pinning"] is None
    iteration = _iteration(old)
    iteration["output"]["complete"] += charts.pinning_table(
        record["hosts"], record["pinning"])
    parsed = results.from_iteration(iteration)
    [host] = results.iteration_hosts(iteration, parsed)
    assert host["state"] == "OFF" and host["evidence"] == "KVM module absent"
    [pin] = results.iteration_pinning(iteration, parsed)
    assert pin["runtime_pinned_to"] == "0-1" and pin["pinned"] == "no"


def test_output_from_before_the_record_is_read_from_the_tables():
    """Rally output recorded before the record existed: the display
    tables, rounded, with the same identifiers."""
    with open(os.path.join(FIXTURES, "bonnie-sweep-with-baseline.json")) as f:
        iteration = json.load(f)
    assert results.from_iteration(iteration) is None
    rows = results.iteration_levels(iteration)
    # every key an identifier (that task's tables had fewer columns)
    assert rows and all(set(r) <= set(columns.TITLES) for r in rows)
    assert all({"benchmark", "metric", "active", "vm_mean"} <= set(r)
               for r in rows)
    assert any(r["vm_host_ratio"] for r in rows)
    fits = results.iteration_fits(iteration)
    assert fits and all(set(f) <= set(columns.FIT) for f in fits)


@pytest.mark.parametrize("schema", ["rally-kvm-perf/results/3", None])
def test_a_record_of_another_schema_is_an_error_naming_it(schema):
    record = dict(_record(), schema=schema)
    with pytest.raises(results.RecordError, match="of schema %r" % schema):
        with results.reading({"uuid": "t-1"}, {"name": "KVMPerf.bonnie"}):
            results.from_iteration(_iteration(record))
    with pytest.raises(results.RecordError,
                       match="task t-1, workload KVMPerf.bonnie"):
        with results.reading({"uuid": "t-1"}, {"name": "KVMPerf.bonnie"}):
            results.from_iteration(_iteration(record))


def test_notes_and_why_the_ratio_falls_come_from_the_record():
    """The report's notes and its "why the ratio falls" are the record's,
    not read back from the charts; a task from before they were in the
    record: its charts."""
    from rally_kvm_perf.report import collect
    result = analysis.analyze(_runs(), {})
    record = results.build(result, ["bonnie++"], _runs(), results.About(
        notes=["a note"], instances=[
            {"instance": "vm-0", "hypervisor": "compute-1", "broken": None},
            {"instance": "vm-9", "hypervisor": None,
             "broken": "no SSH after 600 s"}]))
    lines = results.note_lines(record)
    assert lines == ["instance vm-0 on compute-1",
                     "instance vm-9 on unknown hypervisor (no admin) — no "
                     "SSH after 600 s",
                     "ratios: absent (no host baseline)", "note: a note"]
    iteration = _iteration(record)
    # a stale chart of another text: the record wins
    iteration["output"]["complete"].append(
        {"title": results.NOTES_TITLE, "chart_plugin": "TextArea",
         "data": ["stale"]})
    task = {"uuid": "t", "subtasks": [{"title": "x", "workloads": [{
        "name": "KVMPerf.bonnie", "args": {}, "contexts": {},
        "data": [iteration]}]}]}
    [ds] = collect.datasets([task])
    assert ds["notes"] == lines
    assert ds["explain"] and ds["explain"][-1].startswith("knees: ")
    # schema 1: no instances in the record; the charts say it
    old = _iteration(_schema_1(json.loads(json.dumps(record))))
    old["output"]["complete"].append(
        {"title": results.NOTES_TITLE, "chart_plugin": "TextArea",
         "data": ["from the chart"]})
    task["subtasks"][0]["workloads"][0]["data"] = [old]
    [ds] = collect.datasets([task])
    assert ds["notes"] == ["from the chart"]


def test_a_schema_1_record_from_before_the_telemetry_has_no_contention():
    old = _schema_1(json.loads(json.dumps(_record())))
    del old["contention"], old["telemetry"]
    got = results.upgrade(old)
    assert "contention" not in got and got["instances"] is None
    assert got["levels"] and all(set(r) <= set(columns.TITLES)
                                 for r in got["levels"])
