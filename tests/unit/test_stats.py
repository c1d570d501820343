"""Statistics wired to scipy.stats as they should be: checked against its
reference functions on the raw samples and against published tables; what
the intervals promise is checked by simulation in test_calibration."""

import math

import pytest
from scipy import stats as sst

from rally_kvm_perf import exceptions
from rally_kvm_perf.analysis import stats

# Student t critical values, two-sided 95% (published table values)
T_TABLE_975 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 9: 2.262,
               10: 2.228, 20: 2.086, 30: 2.042, 120: 1.980}


@pytest.mark.parametrize("df, value", sorted(T_TABLE_975.items()))
def test_t_quantile_matches_published_table(df, value):
    assert stats.t_quantile(0.975, df) == pytest.approx(value, abs=5e-4)


def test_no_hand_written_special_functions_remain():
    # scipy.stats computes the t distribution (issue 23: a library, not
    # Numerical Recipes); these were the hand-written ones
    for name in ("betainc", "_betacf", "t_sf", "t_ppf"):
        assert not hasattr(stats, name)


def test_summarize_matches_scipy():
    samples = [812.4, 799.1, 805.7, 830.2, 790.0, 808.8, 801.3, 815.9, 797.6,
               809.4]
    s = stats.summarize(samples)
    low, high = sst.t.interval(0.95, len(samples) - 1,
                               loc=sst.tmean(samples), scale=sst.sem(samples))
    assert s["n"] == 10 and s["missing"] == 0
    assert s["mean"] == pytest.approx(sum(samples) / 10)
    assert s["stddev"] == pytest.approx(sst.tstd(samples))
    assert (s["ci_low"], s["ci_high"]) == (pytest.approx(low), pytest.approx(high))
    assert s["cv"] == pytest.approx(sst.tstd(samples) / s["mean"])
    assert (s["min"], s["max"]) == (790.0, 830.2)
    assert s["samples"] == samples


def test_summarize_leaves_out_unmeasured_samples_and_counts_them():
    s = stats.summarize([10.0, None, 14.0, None])
    assert s["n"] == 2 and s["missing"] == 2 and s["mean"] == 12.0
    assert s["samples"] == [10.0, None, 14.0, None]
    one = stats.summarize([5.0])
    assert one["mean"] == 5.0 and one["stddev"] == 0 and one["ci_low"] is None
    none = stats.summarize([None, None])
    assert none["n"] == 0 and none["mean"] is None


def test_summarize_rejects_non_numbers():
    with pytest.raises(exceptions.InvalidArgument):
        stats.summarize([1.0, float("nan")])
    with pytest.raises(exceptions.InvalidArgument):
        stats.summarize([1.0, "2"])


def _fieller_by_search(num, den, conf=0.95):
    """Independent Fieller: scan theta for (x - th*y)^2 <= t^2 var(th)."""
    mx, my = sst.tmean(num), sst.tmean(den)
    vx, vy = sst.tvar(num) / len(num), sst.tvar(den) / len(den)
    r = mx / my
    var2 = r * r * vy
    df = (vx + var2) ** 2 / (vx ** 2 / (len(num) - 1) + var2 ** 2 / (len(den) - 1))
    t = sst.t.ppf(0.5 + conf / 2, df)
    inside = [th / 10000.0 for th in range(0, 30000)
              if (mx - th / 10000.0 * my) ** 2
              <= t * t * (vx + (th / 10000.0) ** 2 * vy)]
    return r, min(inside), max(inside)


def test_ratio_higher_is_better_vm_over_host_with_fieller_interval():
    vm = [720.0, 705.5, 731.2, 698.4, 715.0]
    host = [910.3, 925.1, 900.8, 918.2, 905.6, 921.7]
    res = stats.ratio(vm, host, higher_is_better=True)
    r, low, high = _fieller_by_search(vm, host)
    assert res["ratio"] == pytest.approx(r) and res["ratio"] < 1
    assert res["ci_low"] == pytest.approx(low, abs=2e-4)
    assert res["ci_high"] == pytest.approx(high, abs=2e-4)
    assert res["orientation"] == "vm/host"


def test_ratio_lower_is_better_is_oriented_so_below_one_is_worse():
    vm_latency = [200.0, 210.0, 190.0]     # VM twice as slow
    host_latency = [100.0, 105.0, 95.0]
    res = stats.ratio(vm_latency, host_latency, higher_is_better=False)
    assert res["ratio"] == pytest.approx(0.5)
    assert res["orientation"] == "host/vm"
    assert res["ci_low"] < 0.5 < res["ci_high"]


def test_ratio_edge_cases():
    assert stats.ratio([1.0], [2.0])["ratio"] == 0.5
    assert stats.ratio([1.0], [2.0])["ci_low"] is None
    assert stats.ratio([], [2.0])["ratio"] is None
    assert stats.ratio([1.0, 1.0], [0.0, 0.0])["ratio"] is None
    exact = stats.ratio([3.0, 3.0], [4.0, 4.0])
    assert exact["ci_low"] == exact["ci_high"] == 0.75
    noisy = stats.ratio([1.0, 2.0], [0.1, 5.0])   # denominator ~ 0: unbounded
    assert noisy["ratio"] is not None and noisy["ci_low"] is None


def test_linear_fit_matches_scipy():
    xs = list(range(1, 11))
    ys = [0.95, 0.91, 0.88, 0.83, 0.80, 0.78, 0.72, 0.70, 0.66, 0.62]
    fit = stats.linear_fit(xs, ys)
    ref = sst.linregress(xs, ys)
    assert fit["slope"] == pytest.approx(ref.slope)
    assert fit["intercept"] == pytest.approx(ref.intercept)
    assert fit["r2"] == pytest.approx(ref.rvalue ** 2)
    assert fit["slope_stderr"] == pytest.approx(ref.stderr)
    assert fit["n"] == 10


def test_linear_fit_edge_cases():
    flat = stats.linear_fit([1, 2, 3], [0.9, 0.9, 0.9])
    assert flat["slope"] == 0 and flat["r2"] is None
    with pytest.raises(exceptions.InvalidArgument):
        stats.linear_fit([1, 2], [1.0, None])  # only one usable point
    two = stats.linear_fit([1, 2], [1.0, 0.8])
    assert two["slope"] == pytest.approx(-0.2) and two["slope_stderr"] is None
    # two points always lie on a line: no R² of 1 that claims a fit
    assert two["r2"] is None
    with pytest.raises(exceptions.InvalidArgument):
        stats.linear_fit([3, 3, 3], [1.0, 2.0, 3.0])


def test_welch_matches_scipy():
    before = [812.0, 790.5, 805.2, 799.9, 820.1, 801.7]
    after = [850.3, 861.2, 845.9, 858.8, 849.0]
    res = stats.welch(before, after, higher_is_better=True)
    ref = sst.ttest_ind(after, before, equal_var=False)
    assert res["t"] == pytest.approx(ref.statistic)
    assert res["p_value"] == pytest.approx(ref.pvalue, rel=1e-9)
    change = (sum(after) / 5 - sum(before) / 6) / (sum(before) / 6)
    assert res["relative_change"] == pytest.approx(change)
    assert res["improvement"] == pytest.approx(change) and change > 0


def test_welch_lower_is_better_improvement_sign():
    res = stats.welch([100.0, 110.0, 105.0], [80.0, 85.0, 82.0],
                      higher_is_better=False)
    assert res["relative_change"] < 0 < res["improvement"]
    ref = sst.ttest_ind([80.0, 85.0, 82.0], [100.0, 110.0, 105.0],
                        equal_var=False)
    assert res["p_value"] == pytest.approx(ref.pvalue, rel=1e-9)


def test_welch_without_variance_or_samples():
    res = stats.welch([1.0, 1.0], [1.0, 1.0])
    assert res["p_value"] is None and res["relative_change"] == 0
    assert stats.welch([1.0], [2.0])["p_value"] is None
    assert math.isclose(stats.welch([1.0], [2.0])["relative_change"], 1.0)


def test_slope_interval_matches_scipy():
    xs, ys = [1, 2, 3, 4, 5], [0.91, 0.83, 0.78, 0.69, 0.62]
    fit = stats.linear_fit(xs, ys)
    ref = sst.linregress(xs, ys)
    half = sst.t.ppf(0.975, 3) * ref.stderr
    assert fit["slope_ci_low"] == pytest.approx(ref.slope - half)
    assert fit["slope_ci_high"] == pytest.approx(ref.slope + half)
    two = stats.linear_fit([1, 2], [0.9, 0.8])
    assert two["slope_ci_low"] is None and two["slope_ci_high"] is None
