"""Report numbers: comparisons from summaries, checked against scipy."""

import pytest
from scipy import stats as sst

from rally_kvm_perf.report import collect
from rally_kvm_perf.report import render


def row(bench, metric, k, mean, sd, n, ratio=None):
    return {"Benchmark": bench, "Metric": metric, "Active": k, "n": n,
            "Unmeasured": 0, "VM mean": mean, "VM stddev": sd,
            "VM 95% low": None, "VM 95% high": None, "Host mean": None,
            "Host stddev": None, "Host 95% low": None, "Host 95% high": None,
            "VM/host": ratio, "Ratio 95% low": None, "Ratio 95% high": None,
            "Iteration": 1}


def ds(label, rows):
    return {"label": label, "scenario": "KVMPerf.bonnie", "rows": rows}


BEFORE = ds("before", [
    row("bonnie++", "block_write_kBps", 2, 100.0, 5.0, 10, 0.70),
    row("bonnie++", "block_write_cpu_pct", 2, 40.0, 2.0, 10, 0.50),
    row("bonnie++", "char_write_kBps", 2, 50.0, 10.0, 10, 0.9),
    row("bonnie++", "rewrite_kBps", 2, 80.0, 1.0, 1),
])
AFTER = ds("after", [
    row("bonnie++", "block_write_kBps", 2, 120.0, 6.0, 10, 0.84),
    row("bonnie++", "block_write_cpu_pct", 2, 46.0, 2.0, 10, 0.43),
    row("bonnie++", "char_write_kBps", 2, 51.0, 10.0, 10, 0.92),
    row("bonnie++", "rewrite_kBps", 2, 90.0, 1.0, 1),
])


def test_compare_verdicts_and_welch_from_summaries():
    rows = {r["metric"]: r for r in collect.compare(BEFORE, AFTER)}
    bw = rows["block_write_kBps"]
    ref = sst.ttest_ind_from_stats(120.0, 6.0, 10, 100.0, 5.0, 10,
                                   equal_var=False)
    assert bw["p_value"] == pytest.approx(ref.pvalue)
    assert bw["relative_change"] == pytest.approx(0.2)
    assert bw["change_ci_low"] < 0.2 < bw["change_ci_high"]
    assert bw["verdict"] == "improved"
    # CPU% is lower-is-better: +15% CPU is worse
    cpu = rows["block_write_cpu_pct"]
    assert cpu["improvement"] == pytest.approx(-0.15)
    assert cpu["verdict"] == "worse"
    assert rows["char_write_kBps"]["verdict"] == "no significant change"
    assert rows["rewrite_kBps"]["verdict"] == "not enough data"
    text = render.sentence(bw)
    assert text.startswith("bonnie++ block_write_kBps at 2 instances: "
                           "improved by 20.0% (95% interval")
    assert "worse by 15.0%" in render.sentence(cpu)


def test_comparisons_pair_the_first_with_later_datasets():
    third = ds("third", AFTER["rows"])
    comps = collect.comparisons([BEFORE, AFTER, third])
    assert [(c["before"], c["after"]) for c in comps] == [
        ("before", "after"), ("before", "third")]


def test_report_without_sweeps_says_so():
    files = render.build([{"uuid": "t", "subtasks": [{"title": "x",
                                                      "workloads": []}]}])
    assert "No KVMPerf.bonnie / KVMPerf.netperf workload" in files[
        "index.html"]
    assert files["ratios.csv"].startswith("dataset,scenario,iteration")
