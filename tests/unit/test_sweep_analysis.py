import pytest
from scipy import stats as sst

from rally_kvm_perf.analysis import stats
from rally_kvm_perf.analysis import sweep


def run(bench, level, rep, instances):
    return {"benchmark": bench, "level": level, "repetition": rep,
            "instances": instances}


def inst(name, value, hv="compute-1", start=0.0, end=10.0, error=None,
         metric="block_write_kBps"):
    return {"instance": name, "hypervisor": hv, "started_at": start,
            "finished_at": end, "error": error,
            "metrics": None if error else {metric: value}}


def test_overlap():
    assert sweep.overlap([(0.0, 10.0)]) == {
        "n": 1, "start_skew_s": 0.0, "end_skew_s": 0.0, "overlap_fraction": 1.0}
    o = sweep.overlap([(0.0, 10.0), (0.5, 10.5), (1.0, 9.0)])
    assert o["start_skew_s"] == 1.0 and o["end_skew_s"] == 1.5
    assert o["overlap_fraction"] == pytest.approx((9.0 - 1.0) / 10.5)
    assert sweep.overlap([(0, 1), (2, 3)])["overlap_fraction"] == 0.0
    assert sweep.overlap([])["overlap_fraction"] is None


def test_baseline_samples_from_a_baseline_document():
    doc = {"benchmarks": {"bonnie++": {"samples": [
        {"run": 1, "metrics": {"block_write_kBps": 100.0, "x_cpu_pct": None}},
        {"run": 2, "metrics": {"block_write_kBps": 110.0}},
        {"run": 3, "exit_code": 1}]}}}
    assert sweep.baseline_samples(doc) == {"bonnie++": {
        "block_write_kBps": [100.0, 110.0], "x_cpu_pct": [None]}}


HOST = {"compute-1": {"bonnie++": {"block_write_kBps": [100.0, 104.0, 96.0],
                                   "block_write_cpu_pct": [10.0, 11.0, 9.0]}},
        "compute-2": {"bonnie++": {"block_write_kBps": [200.0, 210.0, 190.0]}}}


def test_single_host_ratio_is_fieller_of_all_instances_and_repetitions():
    runs = [run("bonnie++", 1, 1, [inst("a", 90.0)]),
            run("bonnie++", 1, 2, [inst("a", 86.0)]),
            run("bonnie++", 2, 1, [inst("a", 70.0), inst("b", 72.0)]),
            run("bonnie++", 2, 2, [inst("a", 66.0), inst("b", 68.0)])]
    res = sweep.analyze(runs, HOST)
    m = res["benchmarks"]["bonnie++"]["metrics"]["block_write_kBps"]
    level2 = m["levels"][2]
    assert level2["vm"]["n"] == 4 and level2["vm"]["mean"] == 69.0
    expected = stats.ratio([70.0, 72.0, 66.0, 68.0], [100.0, 104.0, 96.0])
    assert level2["ratio"]["ratio"] == pytest.approx(0.69)
    assert level2["ratio"]["ci_low"] == pytest.approx(expected["ci_low"])
    assert level2["ratio"]["method"] == "fieller"
    # the fall from 0.88 to 0.69 over one added instance
    ref = sst.linregress([1, 2], [0.88, 0.69])
    assert m["fit"]["slope"] == pytest.approx(ref.slope)
    assert m["vm_fit"]["slope"] == pytest.approx(-19.0)
    assert res["failures"] == []
    ov = res["overlap"]["bonnie++"][2]
    assert ov["overlap_fraction"]["mean"] == 1.0


def test_lower_is_better_ratio_is_host_over_vm():
    runs = [run("bonnie++", 1, r, [inst("a", v, metric="block_write_cpu_pct")])
            for r, v in enumerate([20.0, 22.0, 18.0], 1)]
    res = sweep.analyze(runs, HOST)
    ratio = res["benchmarks"]["bonnie++"]["metrics"][
        "block_write_cpu_pct"]["levels"][1]["ratio"]
    assert ratio["ratio"] == pytest.approx(0.5) and ratio["orientation"] == "host/vm"


def test_instances_on_two_hosts_are_each_divided_by_their_own_host():
    runs = [run("bonnie++", 2, 1, [inst("a", 80.0, "compute-1"),
                                   inst("b", 180.0, "compute-2")]),
            run("bonnie++", 2, 2, [inst("a", 90.0, "compute-1"),
                                   inst("b", 160.0, "compute-2")])]
    ratio = sweep.analyze(runs, HOST)["benchmarks"]["bonnie++"]["metrics"][
        "block_write_kBps"]["levels"][2]["ratio"]
    normalized = [0.8, 0.9, 0.9, 0.8]
    assert ratio["method"] == "per-instance"
    assert ratio["ratio"] == pytest.approx(sum(normalized) / 4)
    low, high = sst.t.interval(0.95, 3, loc=0.85, scale=sst.sem(normalized))
    assert (ratio["ci_low"], ratio["ci_high"]) == (pytest.approx(low),
                                                   pytest.approx(high))
    assert ratio["hosts"] == ["compute-1", "compute-2"]


def test_without_a_baseline_ratios_are_absent_and_say_which_host():
    runs = [run("bonnie++", 1, 1, [inst("a", 80.0, "compute-9")])]
    res = sweep.analyze(runs, HOST)
    level = res["benchmarks"]["bonnie++"]["metrics"]["block_write_kBps"][
        "levels"][1]
    assert level["vm"]["mean"] == 80.0
    assert level["ratio"]["ratio"] is None
    assert level["ratio"]["missing_baseline"] == ["compute-9"]
    # a baseline filed for any host serves instances of unknown hypervisor
    res = sweep.analyze([run("bonnie++", 1, 1, [inst("a", 50.0, None)])],
                        {sweep.ANY_HOST: HOST["compute-1"]})
    assert res["benchmarks"]["bonnie++"]["metrics"]["block_write_kBps"][
        "levels"][1]["ratio"]["ratio"] == pytest.approx(0.5)


def test_one_failed_instance_keeps_the_others_and_is_listed():
    runs = [run("bonnie++", 2, 1, [inst("a", 70.0, start=0.0, end=10.0),
                                   inst("b", None, error="exit 1: no space")])]
    res = sweep.analyze(runs, HOST)
    level = res["benchmarks"]["bonnie++"]["metrics"]["block_write_kBps"][
        "levels"][2]
    assert level["vm"]["n"] == 1 and level["vm"]["mean"] == 70.0
    assert res["failures"] == [{"benchmark": "bonnie++", "level": 2,
                                "repetition": 1, "instance": "b",
                                "error": "exit 1: no space"}]


def test_neutral_metrics_get_no_ratio():
    runs = [run("netperf:TCP_STREAM", 1, 1, [inst("a", 60.0, metric="elapsed_s")])]
    res = sweep.analyze(runs, {"compute-1": {"netperf:TCP_STREAM": {
        "elapsed_s": [60.0]}}})
    level = res["benchmarks"]["netperf:TCP_STREAM"]["metrics"]["elapsed_s"][
        "levels"][1]
    assert level["ratio"] is None and level["vm"]["mean"] == 60.0
