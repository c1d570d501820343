"""The SLAs on iteration outputs recorded from real sweeps (see
tests/integration/test_sweep_scenarios.py, KVM_PERF_RECORD)."""

import json
import os

import pytest
from rally.task import sla

from rally_kvm_perf.task.sla import ratios  # noqa: F401 (registers them)
from tests.conftest import FIXTURES


def load(name):
    with open(os.path.join(FIXTURES, "iterations", name)) as f:
        return json.load(f)


NETPERF = "netperf-sweep-with-baseline.json"
BONNIE = "bonnie-sweep-with-baseline.json"
NO_BASELINE = "bonnie-sweep-no-baseline-one-boot-failed.json"


def check(name, config, *fixtures):
    criterion = sla.SLA.get(name)(config)
    for fixture in fixtures:
        criterion.add_iteration(load(fixture))
    return criterion


def test_recorded_values_are_what_the_tests_below_assume():
    from rally_kvm_perf import results
    rows = {(r["benchmark"], r["metric"], r["active"]): r
            for r in results.iteration_levels(load(NETPERF))}
    tcp = "netperf:TCP_STREAM"
    assert rows[(tcp, "throughput_mbps", 1)]["vm_host_ratio"] == 0.9631
    assert rows[(tcp, "throughput_mbps", 2)]["vm_host_ratio"] == 0.7141


@pytest.mark.parametrize("config, passed, detail", [
    # both levels' intervals at or above the minimum: shown within it
    ({"throughput_mbps": 0.4}, True, "2 value(s) checked"),
    ({"throughput_mbps": 0.8, "at_instances": 1}, True, "checked"),
    # level 2's interval, 0.4776 to 0.9506, straddles 0.8: cannot tell
    ({"throughput_mbps": 0.8}, False,
     "netperf:TCP_STREAM throughput_mbps at 2 instance(s): cannot tell "
     "whether the ratio 0.7141 is at least 0.8 (95% interval 0.4776 to "
     "0.9506 reaches below 0.8); more repetitions would settle it"),
    ({"throughput_mbps": 0.8, "on_inconclusive": "pass"}, True, "checked"),
    ({"throughput_mbps": 0.8, "on_inconclusive": "estimate"}, False,
     "at 2 instance(s): 0.7141 < 0.8 (the estimate alone; 95% interval"),
    ({"throughput_mbps": 0.7, "on_inconclusive": "estimate"}, True,
     "checked"),
    # the whole interval below the minimum: shown beyond it
    ({"throughput_mbps": 0.96, "at_instances": 2}, False,
     "at 2 instance(s): 0.7141 (95% interval 0.4776 to 0.9506) < 0.96"),
    ({"transactions_per_s": 2.0, "at_instances": 2}, False,
     "netperf:TCP_RR transactions_per_s at 2 instance(s)"),
    # no interval at all: cannot tell either
    ({"latency_max_us": 0.4, "at_instances": 1}, False,
     "cannot tell whether the ratio 0.8291 is at least 0.4 (no interval"),
    ({"block_write_kBps": 0.5}, False, "block_write_kBps: not measured"),
])
def test_ratio(config, passed, detail):
    c = check("kvm_perf_ratio", config, NETPERF)
    assert c.success is passed
    assert detail in c.details()
    assert c.details().endswith("Passed" if passed else "Failed")


def test_ratio_without_baseline_fails_and_says_why():
    c = check("kvm_perf_ratio", {"block_write_latency_us": 0.1}, NO_BASELINE)
    assert not c.success
    assert "no ratio (no host baseline or not measured)" in c.details()


def test_ratio_with_nothing_to_check_fails():
    c = check("kvm_perf_ratio", {"x": 1}, )
    c.add_iteration({"error": [], "output": {"complete": [], "additive": []}})
    assert not c.success and "nothing to check" in c.details()


@pytest.mark.parametrize("config, passed, detail", [
    # two levels: a slope but no interval, so the data cannot show the
    # loss within any limit
    ({"throughput_mbps": {"max_loss_per_instance": 0.3}}, False,
     "netperf:TCP_STREAM throughput_mbps: cannot tell whether the loss is "
     "within 0.3000 per instance (2 levels: no interval for the slope "
     "-0.2490); more levels"),
    ({"throughput_mbps": {"max_loss_per_instance": 0.3,
                          "on_inconclusive": "pass"}}, True, "checked"),
    ({"elapsed_s": {"min_r2": 0.5}}, False, "no ratio to fit"),
    # a gate on a metric no fit has fails
    ({"block_write_kBps": {"max_loss_per_instance": 0.1,
                           "on_inconclusive": "pass"}}, False,
     "block_write_kBps: not measured (no fit)"),
])
def test_scaling(config, passed, detail):
    c = check("kvm_perf_scaling", config, NETPERF)
    assert c.success is passed and detail in c.details(), c.details()


def fit_iteration(slope, low, high, r2):
    from rally_kvm_perf.task import charts
    cols = ["Benchmark", "Metric", "Fitted", "Slope", "Intercept", "R²",
            "Slope std err", "Levels", "Slope 95% low", "Slope 95% high"]
    row = ["bonnie++", "block_write_kBps", "ratio", slope, 0.9,
           "n/a" if r2 is None else r2, 0.01, 5, low, high]
    return {"error": [], "output": {"additive": [], "complete": [{
        "title": charts.FIT_TITLE, "chart_plugin": "Table",
        "data": {"cols": cols, "rows": [row]}}]}}


@pytest.mark.parametrize("fit, passed, detail", [
    # flat: no degradation at all (after pinning), R² undefined: passes
    ((0.0, -0.01, 0.01, None), True, "checked"),
    # the interval lies within the limit: shown within, passes
    ((-0.03, -0.045, -0.015, 0.9), True, "checked"),
    # the interval reaches past the limit: cannot tell, fails and says why
    ((-0.06, -0.09, -0.03, 0.9), False,
     "cannot tell whether the loss is within 0.0500 per instance (95% "
     "interval -0.0900 to -0.0300 reaches past -0.0500); more levels, or "
     "more repetitions per level, would settle it"),
    # the case: a loss of 0.234 per instance over 3 levels passed
    # a 0.05 limit because its interval also reached +0.27
    ((-0.234, -0.74, 0.27, 0.8), False, "cannot tell"),
    # even the upper end is past the limit: a loss shown beyond it
    ((-0.12, -0.15, -0.09, 0.98), False,
     "slope -0.1200 per instance (95% interval -0.1500 to -0.0900) < "
     "-0.0500: a loss beyond the limit"),
    # an established fall within the limit that is not linear
    ((-0.03, -0.045, -0.015, 0.3), False, "R² 0.300 < 0.800"),
])
def test_scaling_puts_the_burden_of_proof_on_the_data(fit, passed, detail):
    criterion = sla.SLA.get("kvm_perf_scaling")(
        {"block_write_kBps": {"max_loss_per_instance": 0.05, "min_r2": 0.8}})
    criterion.add_iteration(fit_iteration(*fit))
    assert criterion.success is passed, criterion.details()
    assert detail in criterion.details()


def test_scaling_cannot_tell_passes_only_when_asked():
    criterion = sla.SLA.get("kvm_perf_scaling")(
        {"block_write_kBps": {"max_loss_per_instance": 0.05,
                              "on_inconclusive": "pass"}})
    criterion.add_iteration(fit_iteration(-0.06, -0.09, -0.03, 0.9))
    assert criterion.success, criterion.details()
    criterion.add_iteration(fit_iteration(-0.12, -0.15, -0.09, 0.98))
    assert not criterion.success   # shown beyond still fails


@pytest.mark.parametrize("config, passed, detail", [
    ({"min_overlap": 0.85, "max_start_skew_s": 0.5}, True, "2 value(s)"),
    ({"min_overlap": 0.95}, False,
     "netperf:TCP_STREAM at 2 instances (client side): overlap 0.887 < 0.950"),
    ({"max_start_skew_s": 0.0001}, False, "start skew 0.000 s"),
])
def test_overlap(config, passed, detail):
    c = check("kvm_perf_overlap", config, NETPERF)
    assert c.success is passed and detail in c.details()


@pytest.mark.parametrize("config, passed, detail", [
    ({"throughput_mbps": 0.5}, True, "checked"),
    ({"throughput_mbps": 0.2}, False,
     "netperf:TCP_STREAM throughput_mbps at 2 instance(s): ±33.2% > ±20.0%"),
    # a gate on a metric no run produced fails (it passed before)
    ({"throughput_mbps": 0.5, "rewrite_kBps": 0.1}, False,
     "rewrite_kBps: not measured"),
])
def test_confidence(config, passed, detail):
    c = check("kvm_perf_confidence", config, NETPERF)
    assert c.success is passed and detail in c.details()


def test_merge_combines_iterations():
    a = check("kvm_perf_ratio", {"throughput_mbps": 0.8}, NETPERF)
    b = check("kvm_perf_ratio", {"throughput_mbps": 0.8}, NETPERF)
    checked = a.checked
    assert a.merge(b) is False
    assert a.checked == 2 * checked and len(a.violations) == 2
    ok = check("kvm_perf_overlap", {"min_overlap": 0.5}, NETPERF)
    ok2 = check("kvm_perf_overlap", {"min_overlap": 0.5}, BONNIE)
    assert ok.merge(ok2) is True and ok.checked == 3


def test_schemas_reject_bad_configs():
    import jsonschema
    for name, config in [("kvm_perf_ratio", {}),
                         ("kvm_perf_ratio", {"throughput_mbps": -1}),
                         ("kvm_perf_scaling", {"x": {"slope": 1}}),
                         ("kvm_perf_overlap", {"min_overlap": 2}),
                         ("kvm_perf_confidence", {"x": "10%"})]:
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(config, sla.SLA.get(name).CONFIG_SCHEMA)


def test_ratio_gate_reads_the_full_precision_record_not_the_display():
    """0.79996 shows as 0.8 in the table; the gate at 0.8 must fail."""
    from rally_kvm_perf import results
    from rally_kvm_perf.analysis import levels as analysis
    from rally_kvm_perf.task import charts
    runs = [{"benchmark": "bonnie++", "level": 1, "repetition": r,
             "instances": [{"instance": "a", "hypervisor": "h",
                            "started_at": 0.0, "finished_at": 1.0,
                            "error": None,
                            "metrics": {"block_write_kBps": 79996.0}}]}
            for r in (1, 2, 3)]
    host = {"h": {"bonnie++": {"block_write_kBps": [100000.0] * 3}}}
    result = analysis.analyze(runs, host)
    complete = charts.sweep_complete(result, runs, ["bonnie++"],
                                     results.build(result, ["bonnie++"], runs,
                                                   results.About(
                                                       host_baseline=True)))
    table = [c for c in complete if c["title"] == results.LEVEL_TITLE
             % "bonnie++"][0]["data"]
    shown = dict(zip(table["cols"], table["rows"][0]))["VM/host"]
    assert shown == 0.8          # what a person reads
    record = results.build(result, ["bonnie++"])
    iteration = {"error": [], "output": {"additive": [], "complete":
                                         complete + [results.to_chart(
                                             record)]}}
    criterion = sla.SLA.get("kvm_perf_ratio")({"block_write_kBps": 0.8})
    criterion.add_iteration(iteration)
    assert not criterion.success
    assert "0.79996 (95% interval 0.79996 to 0.79996) < 0.8" in \
        criterion.details(), criterion.details()
    # without the record (an older task) the rounded table is all there is
    legacy = sla.SLA.get("kvm_perf_ratio")({"block_write_kBps": 0.8})
    legacy.add_iteration({"error": [], "output": {"additive": [],
                                                  "complete": complete}})
    assert legacy.success
    # a record there that cannot be read is never stood in for by the
    # rounded table (which would pass 0.79996 against 0.8)
    broken = dict(results.to_chart(record), data=["{not json"])
    other = dict(results.to_chart(dict(record, schema="rally-kvm-perf/"
                                              "results/9")))
    for chart, why in ((broken, "does not parse"),
                       (other, "of schema 'rally-kvm-perf/results/9'")):
        gate = sla.SLA.get("kvm_perf_ratio")({"block_write_kBps": 0.8})
        gate.add_iteration({"error": [], "output": {
            "additive": [], "complete": complete + [chart]}})
        assert not gate.success
        assert "an iteration cannot be read: its results record " in \
            gate.details() and why in gate.details(), gate.details()


def test_paper_findings_gate_holds_fails_and_cannot_tell():
    from rally_kvm_perf import results
    from tests.unit.test_findings import curve
    from tests.unit.test_findings import noisy_line

    def iteration(*curves):
        levels = [r for lv, _ in curves for r in lv]
        fits = [f for _, ft in curves for f in ft]
        record = {"schema": results.SCHEMA, "benchmarks": [],
                  "levels": levels, "fits": fits, "overlap": [],
                  "failures": [], "notes": [], "telemetry": []}
        return {"error": [], "output": {
            "complete": [results.to_chart(record)], "additive": []}}

    tcp = curve("netperf:TCP_STREAM", "throughput_mbps",
                noisy_line(0.98, -0.05))
    gate = sla.SLA.get("kvm_perf_paper")({"findings": [3]})
    gate.add_iteration(iteration(tcp))
    assert gate.success, gate.details()
    # far from parity at 1 instance: does not hold, and says why
    low = curve("netperf:TCP_STREAM", "throughput_mbps",
                noisy_line(0.6, -0.05))
    gate = sla.SLA.get("kvm_perf_paper")({"findings": [3]})
    gate.add_iteration(iteration(low))
    assert not gate.success
    assert "finding 3, TCP_STREAM: near parity at 1 instance, then a " \
        "linear fall (Fig. 4): does not hold (" in gate.details()
    # two levels cannot tell: fails unless asked to pass
    short = curve("netperf:TCP_STREAM", "throughput_mbps", [0.98, 0.9])
    for mode, passed in (("fail", False), ("pass", True)):
        gate = sla.SLA.get("kvm_perf_paper")({"findings": [3],
                                              "on_inconclusive": mode})
        gate.add_iteration(iteration(short))
        assert gate.success is passed, gate.details()
        if not passed:   # and says what would settle it
            assert "cannot tell" in gate.details()
            assert "at least 5 levels test the line" in gate.details()
    # a finding the workload did not measure (no UDP) fails
    gate = sla.SLA.get("kvm_perf_paper")({"findings": [3, 4]})
    gate.add_iteration(iteration(tcp))
    assert not gate.success and "finding 4" in gate.details()
    import jsonschema
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"findings": [5]},
                            sla.SLA.get("kvm_perf_paper").CONFIG_SCHEMA)
