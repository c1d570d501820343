"""Calibration: what a decision promises, checked by seeded simulation on
data shaped as a sweep produces it, not by recomputing its formula.

A decision at a nominal 5 % must say "yes" on data where the answer is no
in at most 6 % of draws (its false-positive rate), and its power against a
stated effect is printed here and in doc/source/statistics.rst.
"""

import time

import numpy
import pytest

from rally_kvm_perf import telemetry

DRAWS = 4000


def _knee_rate(curves, levels):
    return sum(telemetry.knee(list(zip(levels, curve))) is not None
               for curve in curves) / len(curves)


@pytest.mark.parametrize("levels, slope, sd", [
    (range(1, 11), -0.03, 0.02),   # the paper's 10 levels, a steady fall
    (range(1, 6), -0.05, 0.05),    # the fewest levels a knee is looked for at
    (range(1, 8), 0.0, 0.10),      # flat and noisy
    ((1, 2, 4, 6, 8, 10), -0.04, 0.03),   # uneven levels
])
def test_knee_on_straight_lines_is_found_at_most_6_percent(levels, slope,
                                                           sd):
    """One straight line plus normal noise has no knee. (Read against the
    F distribution as if the best split had been chosen in advance, the
    first design gave a knee in 25 % of the lines.)"""
    x = numpy.array(levels, dtype=float)
    rng = numpy.random.default_rng(23)
    curves = 0.9 + slope * x + rng.normal(0.0, sd, (DRAWS, len(x)))
    t0 = time.monotonic()
    rate = _knee_rate(curves, levels)
    print("\nknee on straight lines, %d levels, slope %g, sd %g: %.1f %% "
          "(%.1f s)" % (len(x), slope, sd, 100 * rate, time.monotonic() - t0))
    assert rate <= 0.06, rate
    assert rate >= 0.03, rate   # calibrated, not a test that never fires


def test_knee_power_against_a_bend():
    """Flat to 5 instances, then falling 0.05 per instance, noise sd 0.02
    (10 levels): the knee is found in 86.6 % of sweeps (99.4 % before the
    test accounted for its search, which paid for it with 24 % false
    knees), at levels 5 to 7 in most of them."""
    x = numpy.arange(1, 11, dtype=float)
    truth = numpy.where(x <= 5, 0.9, 0.9 - 0.05 * (x - 5))
    rng = numpy.random.default_rng(24)
    curves = truth + rng.normal(0.0, 0.02, (DRAWS, len(x)))
    found = [telemetry.knee(list(zip(x, c))) for c in curves]
    power = sum(k is not None for k in found) / DRAWS
    at_bend = sum(k is not None and k["level"] in (5, 6, 7)
                  for k in found) / DRAWS
    print("\nknee power, bend of -0.05/instance after 5, sd 0.02: %.1f %% "
          "(at levels 5-7: %.1f %%)" % (100 * power, 100 * at_bend))
    assert power >= 0.85, power
    assert at_bend >= 0.8 * power, (at_bend, power)


def _scaling_outcomes(slope, sd, levels, limit=0.05, seed=25):
    """How often kvm_perf_scaling passes, fails on a loss shown beyond the
    limit, or cannot tell, on simulated sweeps: one ratio mean per level
    on a straight line, normal noise, fitted as the sweep fits it."""
    from rally.task import sla

    from rally_kvm_perf.analysis import stats
    from rally_kvm_perf.task import charts
    from rally_kvm_perf.task.sla import ratios  # noqa: F401 (registers)
    x = numpy.array(levels, dtype=float)
    rng = numpy.random.default_rng(seed)
    curves = 0.9 + slope * x + rng.normal(0.0, sd, (DRAWS, len(x)))
    out = {"passed": 0, "beyond": 0, "cannot tell": 0}
    cols = ["Benchmark", "Metric", "Fitted", "Slope", "Intercept", "R²",
            "Slope std err", "Levels", "Slope 95% low", "Slope 95% high"]
    for curve in curves:
        fit = stats.linear_fit(list(x), list(curve))
        row = ["bonnie++", "block_write_kBps", "ratio", fit["slope"],
               fit["intercept"], fit["r2"], fit["slope_stderr"], fit["n"],
               fit["slope_ci_low"], fit["slope_ci_high"]]
        gate = sla.SLA.get("kvm_perf_scaling")(
            {"block_write_kBps": {"max_loss_per_instance": limit}})
        gate.add_iteration({"error": [], "output": {"additive": [],
                            "complete": [{"title": charts.FIT_TITLE,
                                          "chart_plugin": "Table",
                                          "data": {"cols": cols,
                                                   "rows": [row]}}]}})
        if gate.success:
            out["passed"] += 1
        elif "beyond the limit" in gate.details():
            out["beyond"] += 1
        else:
            assert "cannot tell" in gate.details(), gate.details()
            out["cannot tell"] += 1
    return {k: v / DRAWS for k, v in out.items()}


@pytest.mark.parametrize("levels, sd", [(range(1, 6), 0.02),
                                        (range(1, 11), 0.05),
                                        (range(1, 4), 0.03)])
def test_scaling_gate_at_the_limit_passes_at_most_6_percent(levels, sd):
    """A true loss of exactly the limit (0.05 per instance): the data
    cannot show it within the limit, so the gate passes rarely (the
    interval's lower end is above -0.05 in about 2.5 % of sweeps), and it
    calls it a loss beyond the limit as rarely."""
    rates = _scaling_outcomes(-0.05, sd, levels)
    print("\nscaling gate, true loss = limit, %d levels, sd %g: %s"
          % (len(levels), sd, rates))
    assert rates["passed"] <= 0.06, rates
    assert rates["beyond"] <= 0.06, rates


def test_scaling_gate_power_on_a_flat_line():
    """No loss at all, 5 levels: passes whenever the noise lets the
    interval show it (printed: the power the docs state)."""
    quiet = _scaling_outcomes(0.0, 0.02, range(1, 6))
    noisy = _scaling_outcomes(0.0, 0.05, range(1, 6))
    print("\nscaling gate on a flat line, 5 levels: sd 0.02 %s; sd 0.05 %s"
          % (quiet, noisy))
    assert quiet["passed"] >= 0.99, quiet
    assert noisy["beyond"] == 0, noisy


def _lognormal(rng, mean, cv, shape):
    sigma = numpy.sqrt(numpy.log(1 + cv * cv))
    return rng.lognormal(numpy.log(mean) - sigma * sigma / 2, sigma, shape)


@pytest.mark.parametrize("n", [3, 5, 10])
@pytest.mark.parametrize("cv", [0.1, 0.3])
def test_level_intervals_cover_the_truth_95_percent(n, cv):
    """A level of k = 2 instances, n repetitions, each instance's value
    skewed (lognormal) with this CV, the host measured n times: the VM
    mean's 95 % interval covers the true mean in 93-97 % of sweeps, and
    the VM/host ratio's (Fieller), where it is bounded, the true ratio in
    93-97 % of the sweeps that have one. It is unbounded (said so, no
    numbers) where the host's mean is not significantly above zero: at
    n = 3 and CV 30 % in about 6 % of sweeps. No interval reaches below
    zero."""
    from rally_kvm_perf.analysis import levels
    rng = numpy.random.default_rng(int(100 * cv) + n)
    draws = 1500
    vm = _lognormal(rng, 60.0, cv, (draws, n, 2))
    host = _lognormal(rng, 100.0, cv, (draws, n))
    hit_vm = hit_ratio = bounded = 0
    for d in range(draws):
        reps = {r + 1: [("a", vm[d, r, 0], "h"), ("b", vm[d, r, 1], "h")]
                for r in range(n)}
        baselines = {"h": {"bonnie++": {"block_write_kBps":
                                        list(host[d])}}}
        cell = levels.level_cell(reps, baselines, "bonnie++",
                                 "block_write_kBps", 2)
        v, ratio = cell["vm"], cell["ratio"]
        assert v["ci_low"] >= 0 and ratio["host"]["ci_low"] >= 0
        hit_vm += v["ci_low"] <= 60.0 <= v["ci_high"]
        if ratio["ci_low"] is None:
            assert "unbounded" in ratio["ci_note"], ratio
            continue
        bounded += 1
        hit_ratio += ratio["ci_low"] <= 0.6 <= ratio["ci_high"]
    print("\ncoverage, n %d, cv %g: VM mean %.1f %%, ratio %.1f %% of the "
          "%.1f %% bounded" % (n, cv, 100 * hit_vm / draws,
                               100 * hit_ratio / bounded,
                               100 * bounded / draws))
    assert 0.93 <= hit_vm / draws <= 0.97
    assert 0.93 <= hit_ratio / bounded <= 0.97
    assert bounded / draws >= 0.9


def _row(values):
    """A level row as the record holds it, from a level's per-repetition
    values (the unit of replication)."""
    return {"benchmark": "bonnie++", "metric": "block_write_kBps",
            "active": 2, "n": len(values),
            "vm_mean": float(numpy.mean(values)),
            "vm_stddev": float(numpy.std(values, ddof=1)), "vm_host_ratio": None}


@pytest.mark.parametrize("n", [3, 5, 10])
@pytest.mark.parametrize("cv", [0.1, 0.3])
def test_before_after_verdict_and_change_interval(n, cv):
    """Before vs after (the report's comparison, e.g. unpinned vs pinned):
    with no true change, "improved" or "worse" is said in at most 6 % of
    comparisons (measured 2.7-5.0 %: Welch's test is conservative on few,
    skewed repetitions; at least 2 %, so it does fire); with a true change of
    +10 %, the change's 95 % interval, where bounded, covers +10 % in
    93-97 % of them. The values are the repetitions' (each the mean of
    its k instances), skewed (lognormal) with this CV."""
    from rally_kvm_perf.report import collect
    rng = numpy.random.default_rng(1000 + int(100 * cv) + n)
    draws = 2000
    said = hit = bounded = found = 0
    for _ in range(draws):
        before = _lognormal(rng, 100.0, cv, n)
        same = _lognormal(rng, 100.0, cv, n)
        better = _lognormal(rng, 110.0, cv, n)
        [row] = collect.compare({"rows": [_row(before)]},
                                {"rows": [_row(same)]})
        said += row["verdict"] in ("improved", "worse")
        [row] = collect.compare({"rows": [_row(before)]},
                                {"rows": [_row(better)]})
        found += row["verdict"] == "improved"
        if row["change_ci_low"] is not None:
            bounded += 1
            hit += row["change_ci_low"] <= 0.10 <= row["change_ci_high"]
    print("\nbefore/after, n %d, cv %g: a change said where there is none "
          "in %.1f %%; the +10 %% change covered in %.1f %% of the %.1f %% "
          "bounded, found (improved) in %.1f %%"
          % (n, cv, 100 * said / draws, 100 * hit / bounded,
             100 * bounded / draws, 100 * found / draws))
    assert 0.02 <= said / draws <= 0.06
    if cv <= 0.1:   # its power (the docs state it): above its false alarms
        assert found / draws >= 2 * said / draws
    assert 0.93 <= hit / bounded <= 0.97
    assert bounded / draws >= 0.9


@pytest.mark.parametrize("n, cv, higher", [
    (3, 0.1, True), (5, 0.3, True), (10, 0.1, True), (5, 0.3, False)])
def test_spread_ratio_interval_covers_the_truth_95_percent(n, cv, higher):
    """Instances on two hosts (placement: spread), each against its own
    host's baseline: the per-instance ratio's interval counts the host
    means' noise too and covers the true ratio in 93-97 % of the sweeps
    where it is bounded (unbounded: a host mean not significantly above
    zero, rare but at n = 3 and CV 30 %)."""
    from rally_kvm_perf.analysis import levels
    bench, name = (("bonnie++", "block_write_kBps") if higher
                   else ("netperf:TCP_RR", "latency_mean_us"))
    rng = numpy.random.default_rng(n * 10 + int(cv * 100) + higher)
    draws = 1000
    vm = _lognormal(rng, 60.0, cv, (draws, n, 2))
    h1 = _lognormal(rng, 100.0, cv, (draws, n))
    h2 = _lognormal(rng, 80.0, cv, (draws, n))
    vm_host = (60.0 / 100.0 + 60.0 / 80.0) / 2
    truth = vm_host if higher else 1.0 / vm_host
    hit = bounded = 0
    for d in range(draws):
        reps = {r + 1: [("a", vm[d, r, 0], "h1"), ("b", vm[d, r, 1], "h2")]
                for r in range(n)}
        baselines = {"h1": {bench: {name: list(h1[d])}},
                     "h2": {bench: {name: list(h2[d])}}}
        ratio = levels.level_cell(reps, baselines, bench, name, 2)["ratio"]
        assert ratio["method"] == "per-instance"
        if ratio["ci_low"] is None:
            assert "unbounded" in ratio["ci_note"], ratio
            continue
        bounded += 1
        hit += ratio["ci_low"] <= truth <= ratio["ci_high"]
    print("\nspread coverage, n %d, cv %g, %s: %.1f %% of the %.1f %% "
          "bounded" % (n, cv, name, 100 * hit / bounded,
                       100 * bounded / draws))
    assert 0.93 <= hit / bounded <= 0.97
    assert bounded / draws >= 0.95


def test_spread_ratio_interval_is_not_exact_when_the_hosts_are_noisy():
    """Issue 23's case: VMs that agree exactly, host baselines with CV
    40 %: the per-instance interval was [0.800, 0.800] (host means taken
    as exact); Fieller on one host gives [0.40, 126]."""
    from rally_kvm_perf.analysis import levels
    reps = {r: [("a", 80.0, "h1"), ("b", 80.0, "h2")] for r in (1, 2, 3)}
    noisy = [60.0, 100.0, 140.0]
    baselines = {h: {"bonnie++": {"block_write_kBps": noisy}}
                 for h in ("h1", "h2")}
    ratio = levels.level_cell(reps, baselines, "bonnie++",
                              "block_write_kBps", 2)["ratio"]
    assert ratio["ratio"] == pytest.approx(0.8)
    assert ratio["ci_low"] < 0.5 and ratio["ci_high"] > 1.1, ratio


def _ratio_gate_outcomes(true_ratio, n, cv, limit=0.6, draws=1000, seed=3):
    """How often kvm_perf_ratio passes, shows the ratio below the limit,
    or cannot tell, on simulated one-instance levels: n repetitions of the
    instance and of the host, lognormal with this CV, the ratio and its
    Fieller interval as the sweep computes them."""
    from rally.task import sla

    from rally_kvm_perf.analysis import levels
    from rally_kvm_perf.task.sla import ratios  # noqa: F401 (registers)
    rng = numpy.random.default_rng(seed + n + int(100 * cv))
    vm = _lognormal(rng, 100.0 * true_ratio, cv, (draws, n))
    host = _lognormal(rng, 100.0, cv, (draws, n))
    out = {"passed": 0, "below": 0, "cannot tell": 0}
    for d in range(draws):
        reps = {r + 1: [("a", vm[d, r], "h")] for r in range(n)}
        cell = levels.level_cell(
            reps, {"h": {"bonnie++": {"block_write_kBps": list(host[d])}}},
            "bonnie++", "block_write_kBps", 1)
        ratio = cell["ratio"]
        row = {"vm_host_ratio": ratio["ratio"], "ratio_ci_low": ratio["ci_low"],
               "ratio_ci_high": ratio["ci_high"],
               "note": ratio.get("ci_note")}
        gate = sla.SLA.get("kvm_perf_ratio")({"block_write_kBps": limit})
        found = gate._judge("level 1", row, limit)
        if not found:
            out["passed"] += 1
        elif "cannot tell" in found[0]:
            out["cannot tell"] += 1
        else:
            out["below"] += 1
    return {k: v / draws for k, v in out.items()}


@pytest.mark.parametrize("n, cv", [(3, 0.1), (5, 0.3), (10, 0.1)])
def test_ratio_gate_at_the_limit_passes_at_most_6_percent(n, cv):
    """A true ratio of exactly the minimum: the data cannot show it at or
    above, so the gate passes rarely (about 2.5 %: the interval's lower
    end at or above the minimum), and shows it below as rarely."""
    rates = _ratio_gate_outcomes(0.6, n, cv)
    print("\nratio gate, true ratio = minimum, n %d, cv %g: %s"
          % (n, cv, rates))
    assert rates["passed"] <= 0.06, rates
    assert rates["below"] <= 0.06, rates


def test_ratio_gate_power_20_percent_above_the_minimum():
    """A true ratio 20 % above the minimum: how often 5 repetitions show
    it (printed: the power the docs state)."""
    quiet = _ratio_gate_outcomes(0.72, 5, 0.05)
    usual = _ratio_gate_outcomes(0.72, 5, 0.1)
    print("\nratio gate 20 %% above the minimum, n 5: cv 5 %% %s; cv 10 %% "
          "%s" % (quiet, usual))
    assert quiet["passed"] >= 0.95, quiet
    assert usual["passed"] >= 0.5, usual


def _fitted_curve(bench, ratios_by_rep):
    """A sweep's level and fit rows from per-repetition ratios
    [[r at level 1, 2, ...] per repetition]: each level's mean and Student
    t interval over the repetitions, the line through the level means."""
    from rally_kvm_perf.analysis import stats
    reps = numpy.array(ratios_by_rep)
    levels = []
    for k in range(reps.shape[1]):
        s = stats.summarize(list(reps[:, k]), keep_samples=False)
        levels.append({"benchmark": bench, "metric": "throughput_mbps",
                       "active": k + 1, "vm_host_ratio": s["mean"],
                       "ratio_ci_low": s["ci_low"],
                       "ratio_ci_high": s["ci_high"]})
    fit = stats.linear_fit([r["active"] for r in levels],
                           [r["vm_host_ratio"] for r in levels])
    fits = [{"benchmark": bench, "metric": "throughput_mbps",
             "fitted": "ratio", "slope": fit["slope"],
             "intercept": fit["intercept"],
             "slope_stderr": fit["slope_stderr"], "levels": fit["n"],
             "slope_ci_low": fit["slope_ci_low"],
             "slope_ci_high": fit["slope_ci_high"]}]
    return levels, fits


def test_findings_say_holds_rarely_where_the_claim_is_false():
    """At the margins: a true ratio at 1 instance of exactly 0.9 (near
    parity's limit) and UDP falling exactly as steeply as TCP. "holds" is
    said in at most 6 % of simulated sweeps (6 levels, 5 repetitions,
    noise sd 0.02 on each repetition's ratio)."""
    from rally_kvm_perf.analysis import findings
    rng = numpy.random.default_rng(24)
    draws, k = 600, numpy.arange(6)
    parity = steeper = 0
    for _ in range(draws):
        line = 0.9 - 0.03 * k
        tcp = _fitted_curve("netperf:TCP_STREAM",
                            line + rng.normal(0, 0.02, (5, 6)))
        udp = _fitted_curve("netperf:UDP_STREAM",
                            line + rng.normal(0, 0.02, (5, 6)))
        parity += findings.tcp(*tcp)["verdict"] == findings.HOLDS
        both = (tcp[0] + udp[0], tcp[1] + udp[1])
        steeper += "(steeper: holds)" in findings.udp(*both)["statistic"]
    print("\nfindings at their margins: near parity said in %.1f %%, UDP "
          "steeper in %.1f %%" % (100 * parity / draws,
                                  100 * steeper / draws))
    assert parity / draws <= 0.06 and steeper / draws <= 0.06


def test_density_interval_holds_the_true_answer():
    """A ratio falling 0.05 per instance from 1.0: at 0.8 the true answer
    is 4 instances (1.0 - 0.05 x 4 = 0.80, at 5: 0.75). The density's
    interval, read from the levels' own intervals, holds 4 in at least
    93 % of simulated sweeps (8 levels, 5 repetitions, sd 0.03)."""
    from rally_kvm_perf.analysis import density
    rng = numpy.random.default_rng(8)
    draws, k = 1000, numpy.arange(1, 9)
    held = 0
    for _ in range(draws):
        # 0.801 at 4: the truth sits a hair above the threshold there
        levels, fits = _fitted_curve(
            "netperf:TCP_STREAM",
            1.001 - 0.05 * k + rng.normal(0, 0.03, (5, 8)))
        found = density.answer([(r["active"], r["vm_host_ratio"],
                                 r["ratio_ci_low"], r["ratio_ci_high"])
                                for r in levels], 0.8)
        high = 99 if found["high"] is None else found["high"]
        held += found["low"] <= 4 <= high
    print("\ndensity interval held the true 4 instances in %.1f %%"
          % (100 * held / draws))
    assert held / draws >= 0.93
