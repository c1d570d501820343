"""The paper's findings as verdicts, on synthetic sweeps: each finding
holds, does not hold, or cannot tell, with the statistic it rests on."""

import pytest

from rally_kvm_perf import metrics
from rally_kvm_perf.analysis import findings
from rally_kvm_perf.analysis import stats

HOLDS, FAILS, UNSURE = findings.HOLDS, findings.FAILS, findings.UNSURE


def curve(bench, metric, ratios, half=0.02):
    """Level rows and the fit row of one ratio curve, the fit computed as
    the sweep computes it."""
    levels = [{"benchmark": bench, "metric": metric, "active": k,
               "vm_host_ratio": r, "ratio_ci_low": r - half,
               "ratio_ci_high": r + half}
              for k, r in enumerate(ratios, 1)]
    fit = stats.linear_fit(list(range(1, len(ratios) + 1)), ratios)
    fits = [{"benchmark": bench, "metric": metric, "fitted": "ratio",
             "slope": fit["slope"], "intercept": fit["intercept"],
             "slope_stderr": fit["slope_stderr"], "levels": fit["n"],
             "slope_ci_low": fit["slope_ci_low"],
             "slope_ci_high": fit["slope_ci_high"]}]
    return levels, fits


def noisy_line(start, slope, levels=6):
    # small wiggles: the slope has an interval, no knee
    wiggle = (0.002, -0.002, 0.001, -0.001, 0.002, -0.002, 0.0, 0.001)
    return [start + slope * k + wiggle[k] for k in range(levels)]


def test_a_linear_fall_from_parity_holds():
    levels, fits = curve("netperf:TCP_STREAM", "throughput_mbps",
                         noisy_line(0.98, -0.05))
    [verdict] = [f for f in findings.from_record(levels, fits)
                 if f["finding"] == 3]
    assert verdict["verdict"] == HOLDS, verdict
    assert "ratio at 1 0.982 [0.962, 1]" in verdict["statistic"]
    assert "no knee" in verdict["statistic"] and verdict["settle"] is None


def test_far_from_parity_at_one_instance_does_not_hold():
    levels, fits = curve("netperf:TCP_STREAM", "throughput_mbps",
                         noisy_line(0.6, -0.05))
    assert findings.tcp(levels, fits)["verdict"] == FAILS


def test_two_levels_cannot_tell_and_say_what_would_settle_it():
    levels, fits = curve("netperf:TCP_STREAM", "throughput_mbps",
                         [0.98, 0.9])
    verdict = findings.tcp(levels, fits)
    assert verdict["verdict"] == UNSURE
    assert "linearity needs 5 levels, 2 measured" in verdict["statistic"]
    assert "at least 5 levels" in verdict["settle"]


def test_a_bent_curve_is_not_a_linear_fall():
    ratios = [0.98, 0.981, 0.979, 0.98, 0.88, 0.78, 0.68, 0.58]
    levels, fits = [], []
    for name in metrics.PAPER_IO:
        lv, ft = curve("bonnie++", name, ratios, half=0.005)
        levels += lv
        fits += ft
    verdict = findings.disk(levels, fits)
    assert verdict["verdict"] == FAILS and "a knee at" in \
        verdict["statistic"], verdict


def test_udp_steeper_than_tcp():
    tcp = curve("netperf:TCP_STREAM", "throughput_mbps",
                noisy_line(0.98, -0.03))
    udp = curve("netperf:UDP_STREAM", "throughput_mbps",
                noisy_line(0.98, -0.08))
    verdict = findings.udp(tcp[0] + udp[0], tcp[1] + udp[1])
    assert verdict["verdict"] == HOLDS, verdict
    assert "UDP slope minus TCP slope -0.05" in verdict["statistic"]
    # the other way round: UDP's fall is shown shallower
    flat = curve("netperf:UDP_STREAM", "throughput_mbps",
                 noisy_line(0.98, -0.01))
    verdict = findings.udp(tcp[0] + flat[0], tcp[1] + flat[1])
    assert verdict["verdict"] == FAILS and "(steeper: does not hold)" in \
        verdict["statistic"]


def test_cpu_within_ten_percent_at_every_level():
    rows = [{"benchmark": "bonnie++", "metric": name, "active": k,
             "vm_host_ratio": 0.97, "ratio_ci_low": 0.95, "ratio_ci_high": 0.99}
            for name in metrics.PAPER_CPU for k in (1, 2)]
    assert findings.cpu(rows)["verdict"] == HOLDS
    rows[-1] = dict(rows[-1], **{"vm_host_ratio": 0.55, "ratio_ci_low": 0.5,
                                 "ratio_ci_high": 0.6})
    verdict = findings.cpu(rows)
    assert verdict["verdict"] == FAILS and "0.55 [0.5, 0.6] at 2" in \
        verdict["statistic"]
    assert findings.cpu([])["verdict"] == UNSURE


@pytest.mark.parametrize("disk, net, expected", [
    ((0.08, 0.06, 0.10), (0.01, -0.02, 0.03), HOLDS),
    ((0.30, 0.25, 0.35), (0.01, -0.02, 0.03), FAILS),   # far beyond 7-10 %
    ((0.08, 0.06, 0.10), (-0.2, -0.25, -0.15), FAILS),  # network fell
    ((0.08, -0.05, 0.21), (0.01, -0.02, 0.03), UNSURE),  # no gain shown
    ((0.08, 0.06, 0.10), (0.0, -0.09, 0.09), UNSURE),   # wider than +-5 %
])
def test_the_optimisation_against_the_papers_gains(disk, net, expected):
    def row(bench, metric, better, change):
        # as collect.compare gives it: the relative change and its
        # interval, and the improvement (> 0 better)
        value, low, high = change
        return {"benchmark": bench, "metric": metric, "better": better,
                "active_instances": 2, "relative_change": value,
                "improvement": value if better == "higher" else -value,
                "change_ci_low": low, "change_ci_high": high}
    rows = [row("bonnie++", "block_write_kBps", "higher", disk),
            row("netperf:TCP_STREAM", "throughput_mbps", "higher", net),
            # CPU use fell 4 % (lower is better: a gain of 4 %)
            row("bonnie++", "block_write_cpu_pct", "lower",
                (-0.04, -0.06, -0.02))]
    verdict = findings.optimisation(rows)
    assert verdict["verdict"] == expected, verdict
    assert "block_write_cpu_pct: 0.04 [0.02, 0.06] at 2 (gain 3-5 %: " \
        "holds)" in verdict["statistic"]
