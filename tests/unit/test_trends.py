"""Ratios over time: series across tasks, the newest run's verdict (checked
against scipy on the same summaries), the page and the JSON."""

import json
import math
import random
import subprocess
import sys

from scipy import stats as sst

from rally_kvm_perf import columns
from rally_kvm_perf import results
from rally_kvm_perf.report import trends


def level(metric, k, n, vm_mean, vm_sd, host_mean, ratio, lo=None, hi=None,
          bench="bonnie++"):
    row = dict.fromkeys(columns.LEVEL)
    row.update({"metric": metric, "active": k, "n": n, "unmeasured": 0,
                "vm_mean": vm_mean, "vm_stddev": vm_sd,
                "host_mean": host_mean, "vm_host_ratio": ratio,
                "ratio_ci_low": lo, "ratio_ci_high": hi,
                "benchmark": bench})
    return row


def task(uuid, created_at, rows, scenario="KVMPerf.bonnie", contexts=None):
    record = {"schema": results.SCHEMA, "benchmarks": ["bonnie++"],
              "levels": rows, "fits": [], "overlap": [], "failures": [],
              "notes": []}
    return {"uuid": uuid, "created_at": created_at, "subtasks": [{
        "title": "smoke", "workloads": [{
            "name": scenario, "contexts": contexts or {}, "args": {},
            "pass_sla": True, "sla_results": {"sla": []},
            "data": [{"error": [], "output": {
                "complete": [results.to_chart(record)], "additive": []}}]}]}]}


def run(uuid, when, vm_mean, vm_sd=4.0, n=5, host=200.0):
    """One smoke run: block write at 1 instance, its ratio VM/host."""
    return task(uuid, when, [level("block_write_kBps", 1, n, vm_mean, vm_sd,
                                   host, vm_mean / host)])


ORDINARY = [run("t1", "2026-11-01T10:00:00", 100.0),
            run("t2", "2026-11-02T10:00:00", 101.0)]


def only(rows):
    [row] = rows
    return row


def test_a_planted_regression_is_flagged_and_matches_scipy():
    planted = run("t3", "2026-11-03T10:00:00", 85.0)
    row = only(trends.trends(ORDINARY + [planted]))
    v = row["verdict"]
    assert v["verdict"] == trends.REGRESSION, v
    # the same test from the same repetition-level ratio summaries
    ref = trends.pooled([(0.5, 0.02, 5), (0.505, 0.02, 5)])
    new = (85.0 / 200, 85.0 / 200 * 4.0 / 85.0, 5)
    t, p = sst.ttest_ind_from_stats(new[0], new[1], new[2], ref[0], ref[1],
                                    ref[2], equal_var=False)
    assert math.isclose(v["p_value"], p, rel_tol=1e-6)
    assert v["relative_change"] == new[0] / ref[0] - 1.0
    assert v["change_ci_low"] < v["relative_change"] < v["change_ci_high"]
    assert v["change_ci_high"] < 0       # the whole interval is a drop
    assert [t["verdict"]["verdict"] for t in trends.regressions([row])] == [
        trends.REGRESSION]
    assert "-15.4%" in trends.sentence(row) and "regression" in \
        trends.sentence(row)


def test_ordinary_runs_are_not_flagged():
    third = run("t3", "2026-11-03T10:00:00", 99.5)
    row = only(trends.trends(ORDINARY + [third]))
    assert row["verdict"]["verdict"] == "no significant change", row
    assert not trends.regressions([row])
    # two runs only: the second against the first
    two = only(trends.trends(ORDINARY))
    assert two["verdict"]["verdict"] == "no significant change"
    assert two["verdict"]["runs_before"] == 1


def test_a_rise_is_improved_not_a_regression():
    row = only(trends.trends(ORDINARY + [run("t3", "2026-11-03", 120.0)]))
    assert row["verdict"]["verdict"] == "improved"


def test_runs_are_ordered_by_time_not_by_argument_order():
    planted = run("t3", "2026-11-03T10:00:00", 85.0)
    row = only(trends.trends([planted] + list(reversed(ORDINARY))))
    assert [p["task"] for p in row["points"]] == ["t1", "t2", "t3"]
    assert row["verdict"]["newest"] == "t3"
    assert row["verdict"]["verdict"] == trends.REGRESSION


def test_pooled_equals_the_runs_repetitions_taken_together():
    rng = random.Random(7)
    runs = [[rng.gauss(mu, 0.03) for _ in range(n)]
            for mu, n in ((0.5, 4), (0.55, 6), (0.48, 3))]
    summaries = [(sum(r) / len(r), sst.tstd(r), len(r)) for r in runs]
    together = [x for r in runs for x in r]
    mean, sd, n = trends.pooled(summaries)
    assert n == len(together)
    assert math.isclose(mean, sum(together) / n, rel_tol=1e-12)
    assert math.isclose(sd, sst.tstd(together), rel_tol=1e-9)


def test_what_cannot_be_tested_says_why():
    lone = only(trends.trends([ORDINARY[0]]))
    assert lone["verdict"]["verdict"] == "not enough data"
    assert lone["verdict"]["why"] == "no earlier run"
    # the newest run had no ratio (e.g. the host printed "+++++")
    no_ratio = task("t3", "2026-11-03", [level(
        "block_write_kBps", 1, 5, 100.0, 4.0, None, None)])
    row = only(trends.trends(ORDINARY + [no_ratio]))
    assert row["verdict"]["verdict"] == "not enough data"
    assert "newest run has no ratio" in row["verdict"]["why"]
    assert "not enough data" in trends.sentence(row)
    # one repetition on each side: no spread to test with
    single = [run("a", "2026-11-01", 100.0, n=1), run("b", "2026-11-02",
                                                      80.0, n=1)]
    row = only(trends.trends(single))
    assert row["verdict"]["verdict"] == "not enough data", row


def test_series_are_kept_apart_by_sweep_optimisation_and_level():
    pinned = {"kvm_perf_flavor": {"pinning": True}}
    tasks = []
    for uuid, when in (("t1", "2026-11-01"), ("t2", "2026-11-02")):
        tasks.append(task(uuid, when, [
            level("block_write_kBps", 1, 3, 100.0, 2.0, 200.0, 0.5),
            level("block_write_kBps", 2, 3, 80.0, 2.0, 200.0, 0.4)]))
        tasks.append(task(uuid + "p", when, [
            level("block_write_kBps", 1, 3, 150.0, 2.0, 200.0, 0.75)],
            contexts=pinned))
    rows = trends.trends(tasks)
    keys = [(r["optimised"], r["active_instances"], len(r["points"]))
            for r in rows]
    assert keys == [("not optimised", 1, 2), ("not optimised", 2, 2),
                    ("pinned flavor", 1, 2)], keys


def test_page_and_json_name_the_regression():
    planted = run("t3", "2026-11-03T10:00:00", 85.0)
    files = trends.build(ORDINARY + [planted])
    html = files["trends.html"]
    assert "<svg" in html and "Regression" in html
    assert "http://" not in html.replace("http://www.w3.org", "")
    doc = json.loads(files["trends.json"])
    assert doc["regressions"] == 1
    assert [t["uuid"] for t in doc["tasks"]] == ["t1", "t2", "t3"]
    calm = trends.build(ORDINARY + [run("t3", "2026-11-03", 100.5)])
    assert "No significant drop" in calm["trends.html"]
    assert json.loads(calm["trends.json"])["regressions"] == 0


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "rally_kvm_perf.cmd.main",
                           "trends", *args], capture_output=True, text=True,
                          timeout=120)


def test_the_cli_gates_on_a_regression(tmp_path):
    ordinary = tmp_path / "ordinary.json"
    ordinary.write_text(json.dumps({"tasks": ORDINARY}))
    planted = tmp_path / "planted.json"
    planted.write_text(json.dumps({"tasks": [run("t3", "2026-11-03", 85.0)]}))
    calm = tmp_path / "calm.json"
    calm.write_text(json.dumps({"tasks": [run("t3", "2026-11-03", 100.5)]}))
    proc = _cli(str(ordinary), str(calm))
    assert proc.returncode == 0, proc.stderr
    assert "0 regression(s)" in proc.stdout
    out = tmp_path / "out"
    proc = _cli(str(ordinary), str(planted), "--out", str(out))
    assert proc.returncode == 1, proc.stderr
    assert "REGRESSION KVMPerf.bonnie (not optimised): bonnie++ " \
           "block_write_kBps at 1 instance(s)" in proc.stdout, proc.stdout
    assert (out / "trends.html").exists() and (out / "trends.json").exists()
    # bad input: a clear error naming the file, or the option
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    proc = _cli(str(bad))
    assert proc.returncode == 1 and "bad.json: no tasks in it" in proc.stderr
    proc = _cli(str(ordinary), "--alpha", "2")
    assert proc.returncode == 1
    assert "--alpha must be between 0 and 1" in proc.stderr


def iterations(uuid, when, vm_means, vm_sd=4.0, n=5, host=200.0):
    """One task whose workload ran len(vm_means) iterations."""
    out = run(uuid, when, vm_means[0], vm_sd, n, host)
    wl = out["subtasks"][0]["workloads"][0]
    wl["data"] = [run(uuid, when, m, vm_sd, n, host)["subtasks"][0][
        "workloads"][0]["data"][0] for m in vm_means]
    return out


def test_the_newest_task_is_judged_whole_never_against_itself():
    """A single task of three iterations has nothing before it (its last
    iteration was judged against its first two); a newest task of two
    iterations is judged with both, against the earlier tasks only."""
    alone = only(trends.trends([iterations("t1", "2026-11-01T10:00:00",
                                           [100.0, 100.0, 85.0])]))
    assert alone["verdict"]["verdict"] == "not enough data"
    assert alone["verdict"]["why"] == "no earlier run"
    v = only(trends.trends(ORDINARY + [iterations(
        "t3", "2026-11-03T10:00:00", [85.0, 86.0])]))["verdict"]
    assert v["verdict"] == trends.REGRESSION, v
    assert v["runs_before"] == 2 and v["iterations"] == 2
    assert math.isclose(v["ratio"], (85.0 + 86.0) / 2 / 200.0)


def test_stable_runs_are_flagged_at_most_6_percent():
    """Calibration: four tasks of one iteration each, n = 5 repetitions,
    the same true ratio and CV 5 %: the newest is called a regression or
    an improvement in at most 6 % of 2,000 simulated histories (nominal
    5 %, two-sided)."""
    rng = random.Random(26)
    flagged = 0
    for _ in range(2000):
        history = []
        for day in range(1, 5):
            reps = [rng.gauss(100.0, 5.0) for _ in range(5)]
            m = sum(reps) / 5
            sd = math.sqrt(sum((x - m) ** 2 for x in reps) / 4)
            history.append(run("t%d" % day, "2026-11-0%dT10:00:00" % day,
                               m, sd))
        flagged += only(trends.trends(history))["verdict"]["verdict"] in (
            trends.REGRESSION, "improved")
    print("\ntrends: stable histories flagged %.1f %%" % (flagged / 20.0))
    assert flagged / 2000 <= 0.06
