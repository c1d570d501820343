import pytest
from scipy import stats as sst

from rally_kvm_perf.analysis import levels as sweep
from rally_kvm_perf.analysis import stats


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


def test_the_repetition_is_the_unit_of_replication():
    """k concurrent instances of one repetition are one observation: the
    level's value per repetition is their mean, n = repetitions."""
    runs = [run("bonnie++", 1, r, [inst("a", v)])
            for r, v in enumerate([90.0, 86.0, 88.0], 1)]
    runs += [run("bonnie++", 2, 1, [inst("a", 70.0), inst("b", 72.0)]),
             run("bonnie++", 2, 2, [inst("a", 66.0), inst("b", 68.0)]),
             run("bonnie++", 2, 3, [inst("a", 67.0), inst("b", 71.0)])]
    res = sweep.analyze(runs, HOST)
    m = res["benchmarks"]["bonnie++"]["metrics"]["block_write_kBps"]
    level2 = m["levels"][2]
    rep_means = [71.0, 67.0, 69.0]
    assert level2["vm"]["n"] == 3 and level2["vm"]["mean"] == 69.0
    low, high = sst.t.interval(0.95, 2, loc=69.0, scale=sst.sem(rep_means))
    assert level2["vm"]["ci_low"] == pytest.approx(low)
    assert level2["vm"]["ci_high"] == pytest.approx(high)
    # Fieller on the repetition means, not on the 6 instance runs
    expected = stats.ratio(rep_means, [100.0, 104.0, 96.0])
    assert level2["ratio"]["ratio"] == pytest.approx(0.69)
    assert level2["ratio"]["n_vm"] == 3
    assert level2["ratio"]["ci_low"] == pytest.approx(expected["ci_low"])
    assert level2["ratio"]["ci_high"] == pytest.approx(expected["ci_high"])
    pooled = stats.ratio([70.0, 72.0, 66.0, 68.0, 67.0, 71.0],
                         [100.0, 104.0, 96.0])
    assert level2["ratio"]["ci_low"] != pytest.approx(pooled["ci_low"])
    assert level2["ratio"]["method"] == "fieller"
    # the fall from 0.88 to 0.69 over one added instance
    ref = sst.linregress([1, 2], [0.88, 0.69])
    assert m["fit"]["slope"] == pytest.approx(ref.slope)
    assert m["vm_fit"]["slope"] == pytest.approx(-19.0)
    assert res["failures"] == []
    assert res["unit_of_replication"] == "repetition"
    ov = res["overlap"]["bonnie++"][2]
    assert ov["overlap_fraction"]["mean"] == 1.0


def test_spread_between_instances_fairness_and_aggregate():
    runs = [run("bonnie++", 2, r, [inst("a", a), inst("b", b)])
            for r, (a, b) in enumerate([(90.0, 30.0), (94.0, 26.0),
                                        (86.0, 34.0)], 1)]
    cell = sweep.analyze(runs, HOST)["benchmarks"]["bonnie++"]["metrics"][
        "block_write_kBps"]["levels"][2]
    # per instance: a 90, b 30 over a host of 100
    assert cell["instance_ratio_min"] == pytest.approx(0.30)
    assert cell["instance_ratio_max"] == pytest.approx(0.90)
    assert cell["fairness"] == pytest.approx(120.0 ** 2 / (2 * (90.0 ** 2
                                                                + 30.0 ** 2)))
    assert sweep.jain([5.0, 5.0, 5.0]) == 1.0
    assert sweep.jain([1.0, 0.0, 0.0, 0.0]) == 0.25
    # aggregate: 120 per repetition, 1.2 hosts' worth
    assert cell["aggregate"]["mean"] == pytest.approx(120.0)
    assert cell["aggregate_ratio"]["ratio"] == pytest.approx(1.2)


def test_too_fast_to_time_is_not_averaged_away():
    """bonnie++ "+++++" (None) in one run of a level: the metric is not
    measurable at this size there, not the mean of the slow runs."""
    runs = [run("bonnie++", 1, 1, [inst("a", 80.0)]),
            run("bonnie++", 1, 2, [inst("a", None)]),
            run("bonnie++", 1, 3, [inst("a", 60.0)]),
            run("bonnie++", 2, 1, [inst("a", 50.0), inst("b", 52.0)])]
    m = sweep.analyze(runs, HOST)["benchmarks"]["bonnie++"]["metrics"][
        "block_write_kBps"]
    one = m["levels"][1]
    assert one["unmeasurable"] == 1 and one["vm"]["mean"] is None
    assert one["ratio"]["ratio"] is None
    assert "not measurable at this size: 1 of 3" in one["ratio"]["reason"]
    assert m["levels"][2]["vm"]["mean"] == 51.0


def test_host_baseline_too_fast_to_time_gives_no_ratio():
    host = {"compute-1": {"bonnie++": {"block_write_kBps": [100.0, None,
                                                            98.0]}}}
    runs = [run("bonnie++", 1, r, [inst("a", 50.0 + r)]) for r in (1, 2, 3)]
    cell = sweep.analyze(runs, host)["benchmarks"]["bonnie++"]["metrics"][
        "block_write_kBps"]["levels"][1]
    assert cell["vm"]["mean"] == 52.0
    assert cell["ratio"]["ratio"] is None
    assert "host baseline not measurable" in cell["ratio"]["reason"]


def test_two_repetitions_say_not_estimable_instead_of_impossible_bounds():
    runs = [run("bonnie++", 1, r, [inst("a", v)])
            for r, v in ((1, 1000.0), (2, 400000.0))]
    cell = sweep.analyze(runs, HOST)["benchmarks"]["bonnie++"]["metrics"][
        "block_write_kBps"]["levels"][1]
    # Student t with n = 2 would give a negative throughput here
    assert cell["vm"]["ci_low"] is None and cell["vm"]["ci_high"] is None
    assert cell["vm"]["ci_note"] == "not estimable with n = 2"
    assert cell["ratio"]["ratio"] is not None
    assert cell["ratio"]["ci_low"] is None
    assert cell["ratio"]["ci_note"] == "not estimable with n = 2"


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
                                   inst("b", 160.0, "compute-2")]),
            run("bonnie++", 2, 3, [inst("a", 60.0, "compute-1"),
                                   inst("b", 200.0, "compute-2")])]
    ratio = sweep.analyze(runs, HOST)["benchmarks"]["bonnie++"]["metrics"][
        "block_write_kBps"]["levels"][2]["ratio"]
    # per repetition: the mean of each instance over its own host
    per_rep = [(0.8 + 0.9) / 2, (0.9 + 0.8) / 2, (0.6 + 1.0) / 2]
    assert ratio["method"] == "per-instance"
    assert ratio["n_vm"] == 3
    assert ratio["ratio"] == pytest.approx(sum(per_rep) / 3)
    low, high = sst.t.interval(0.95, 2, loc=sum(per_rep) / 3,
                               scale=sst.sem(per_rep))
    # the host means are measured too: their noise enters the interval
    # (test_calibration checks its coverage), with hosts that never vary
    # only the repetitions' spread is left
    assert ratio["ci_low"] < ratio["ratio"] < ratio["ci_high"]
    assert ratio["ci_low"] != pytest.approx(low)
    exact = {h: {"bonnie++": {"block_write_kBps": [v] * 3}}
             for h, v in (("compute-1", 100.0), ("compute-2", 200.0))}
    ratio = sweep.analyze(runs, exact)["benchmarks"]["bonnie++"]["metrics"][
        "block_write_kBps"]["levels"][2]["ratio"]
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


def test_different_tool_versions_on_host_and_instances_are_flagged():
    from rally_kvm_perf.sweep import engine
    from rally_kvm_perf.task.scenarios.kvm_perf import baselines as scenarios
    vm = engine.Target("vm-1", None)
    vm.tools = {"bonnie++": "1.98", "netperf": "2.7.0"}
    docs = {"compute-1": {"tools": {"bonnie++": "2.00a",
                                    "netperf": "2.7.0"}}}
    notes = scenarios.version_notes([vm], docs, ("bonnie++",))
    assert notes == ["WARNING: bonnie++ 2.00a on the host (compute-1) but "
                     "1.98 in the instances: the ratio compares two "
                     "versions"]
    assert scenarios.version_notes([vm], docs, ("netperf", "netserver")) \
        == []


def test_skew_and_overlap_come_from_the_guests_own_times():
    """The barrier released both requests together (client skew 0), but
    the second benchmark only started 3 s later in its guest."""
    a = dict(inst("a", 70.0), guest_started_at=0.2, guest_finished_at=10.0,
             clock_uncertainty_s=0.05)
    b = dict(inst("b", 72.0), guest_started_at=3.2, guest_finished_at=11.0,
             clock_uncertainty_s=0.08)
    res = sweep.analyze([run("bonnie++", 2, 1, [a, b])], HOST)
    ov = res["overlap"]["bonnie++"][2]
    assert ov["start_skew_s"]["max"] == 0.0               # the client's
    assert ov["guest_start_skew_s"]["max"] == pytest.approx(3.0)
    assert ov["guest_overlap_fraction"]["min"] == pytest.approx(
        (10.0 - 3.2) / (11.0 - 0.2))
    assert ov["clock_uncertainty_s"] == 0.08
    from rally_kvm_perf import results
    [row] = results.overlap_rows(res, ["bonnie++"])
    assert row["measured_in"] == "guests"
    assert row["start_skew_max_s"] == pytest.approx(3.0)
    assert row["client_start_skew_max_s"] == 0.0


def test_aggregate_of_level_k_needs_all_k_instances():
    """One of 3 instances failed in every repetition: the sum of the other
    two is not level 3's capacity, so there is no aggregate and the cell
    says why (it was labelled level 3 before)."""
    runs = [run("bonnie++", 3, r, [inst("a", 90.0), inst("b", 30.0),
                                   inst("c", None, error="disk full")])
            for r in (1, 2, 3)]
    cell = sweep.analyze(runs, HOST)["benchmarks"]["bonnie++"]["metrics"][
        "block_write_kBps"]["levels"][3]
    assert cell["aggregate"]["mean"] is None
    assert cell["aggregate_ratio"]["ratio"] is None
    assert "all 3 instances" in cell["aggregate_ratio"]["reason"]
    # the level's mean still uses what the two delivered
    assert cell["vm"]["mean"] == pytest.approx(60.0)
    from rally_kvm_perf import results
    [row] = results.level_rows(sweep.analyze(runs, HOST), "bonnie++",
                               neutral=("block_write_cpu_pct",))
    assert row["active"] == 3 and row["aggregate_mean"] is None, row
    assert "aggregate: no repetition in which all 3 instances" in row["note"]


def test_no_interval_that_cannot_be_true():
    """Two host runs: no host interval (it printed one down to -10,706
    transactions/s beside a VM column saying 'not estimable'); two
    repetitions: no start-skew interval (one went to -0.349 s)."""
    runs = [run("bonnie++", 2, r, [inst("a", 90.0 + r, start=0.0),
                                   inst("b", 30.0 * r, start=0.1 * r)])
            for r in (1, 2)]
    host = {"compute-1": {"bonnie++": {"block_write_kBps": [100.0, 4.0]}}}
    res = sweep.analyze(runs, host)
    cell = res["benchmarks"]["bonnie++"]["metrics"]["block_write_kBps"][
        "levels"][2]
    assert cell["ratio"]["host"]["ci_low"] is None
    assert cell["ratio"]["host"]["ci_note"] == "not estimable with n = 2"
    skew = res["overlap"]["bonnie++"][2]["start_skew_s"]
    assert skew["mean"] == pytest.approx(0.15) and skew["ci_low"] is None
    # three repetitions of a skewed quantity: the interval is cut at zero
    s = stats.summarize([1.0, 1.0, 40.0], bounds=(0.0, None))
    assert s["ci_low"] == 0.0 and s["ci_high"] > 40.0
