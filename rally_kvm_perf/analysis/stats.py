"""Statistics of repeated measurements.

Student's t, the least-squares line and Welch's test come from scipy.stats;
what is computed here is only what it has no function for (a ratio of
means with Fieller's interval, a summary cut to where a quantity can be).
tests/unit/test_calibration.py checks by simulation that every interval
covers and every test errs as often as it promises.

scipy.stats is imported on first use: it takes a second or more to load,
and Rally imports every plugin module at each start of its CLI.
"""

import functools
import math
import typing as t

from rally_kvm_perf import exceptions

# (mean, sample standard deviation, n) of one side of a comparison
MeanSdN = t.Tuple[t.Optional[float], float, int]
# where a quantity can be: (low, high), None for no bound
Bounds = t.Tuple[t.Optional[float], t.Optional[float]]


@functools.lru_cache(maxsize=None)
def _sst():
    from scipy import stats as sst
    return sst


def t_quantile(p: float, df: float) -> float:
    """The t with P(T <= t) = p, Student's t with ``df`` (real) degrees of
    freedom."""
    return float(_sst().t.ppf(p, df))


# -- summaries -------------------------------------------------------------

def _clean(samples, what="samples"):
    values = []
    for value in samples:
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)) \
                or math.isnan(value) or math.isinf(value):
            raise exceptions.InvalidArgument(
                "%s must be finite numbers, got %r" % (what, value))
        values.append(float(value))
    return values


def mean(values: t.Sequence[float]) -> float:
    return math.fsum(values) / len(values)


def stddev(values: t.Sequence[float]) -> float:
    """Sample standard deviation (n - 1); 0 for a single value."""
    if len(values) < 2:
        return 0.0
    m = mean(values)
    return math.sqrt(math.fsum((v - m) ** 2 for v in values) / (len(values) - 1))


def summarize(samples: t.Sequence[t.Optional[float]],
              confidence: float = 0.95, keep_samples: bool = True,
              bounds: t.Optional[Bounds] = None) -> dict:
    """Summary of one metric's samples across repetitions.

    ``None`` samples (not measured / too fast) are left out and counted in
    ``missing``. Returns n, mean, stddev, ci_low/ci_high (Student t),
    ci_half_width, cv (stddev / mean), min, max, missing and the samples.
    With n < 2 the interval is None (it cannot be estimated).
    ``keep_samples=False`` leaves the samples out (they are kept elsewhere).

    ``bounds`` (low, high; None for no bound): where the quantity can be,
    e.g. (0, None) for a throughput or a latency. The interval is cut to
    them: the true mean lies within them, so the cut never leaves it out
    (the coverage is the t-interval's) and the interval printed is one
    that can be true, not a latency from -9,630 us. ci_half_width stays
    the t-interval's.
    """
    samples = list(samples)
    values = _clean(samples)
    result: dict = {"n": len(values), "missing": len(samples) - len(values),
              "confidence": confidence,
              "mean": None, "stddev": None, "ci_low": None, "ci_high": None,
              "ci_half_width": None, "cv": None, "min": None, "max": None}
    if keep_samples:
        result["samples"] = samples
    if not values:
        return result
    m, s = mean(values), stddev(values)
    result.update({"mean": m, "stddev": s, "min": min(values),
                   "max": max(values),
                   "cv": (s / abs(m)) if m else None})
    if len(values) >= 2:
        half = t_quantile(0.5 + confidence / 2.0, len(values) - 1) * s \
            / math.sqrt(len(values))
        low, high = m - half, m + half
        if bounds is not None:
            if bounds[0] is not None:
                low = max(low, bounds[0])
            if bounds[1] is not None:
                high = min(high, bounds[1])
        result.update({"ci_low": low, "ci_high": high,
                       "ci_half_width": half})
    return result


# -- VM/host ratio -----------------------------------------------------------

def ratio(vm_samples: t.Iterable[t.Optional[float]],
          host_samples: t.Iterable[t.Optional[float]],
          higher_is_better: bool = True, confidence: float = 0.95) -> dict:
    """VM/host ratio of means with a Fieller confidence interval.

    Orientation: 1.0 means parity and < 1.0 means the VM does worse, for
    every metric. For higher-is-better metrics (throughput) the ratio is
    mean(VM) / mean(host); for lower-is-better ones (latency, CPU %) it is
    mean(host) / mean(VM), so that a VM twice as slow scores 0.5 either way.

    The interval is Fieller's for a ratio of two independent means, with
    Welch-Satterthwaite degrees of freedom; it is None when either side has
    fewer than two samples, and unbounded (None) when the denominator's
    mean is not significantly different from zero.
    """
    vm, host = _clean(vm_samples, "VM samples"), _clean(host_samples,
                                                        "host samples")
    num, den = (vm, host) if higher_is_better else (host, vm)
    result = {"ratio": None, "ci_low": None, "ci_high": None,
              "confidence": confidence, "n_vm": len(vm), "n_host": len(host),
              "orientation": "vm/host" if higher_is_better else "host/vm"}
    if not num or not den:
        return result
    fieller = ratio_from_summaries(
        (mean(num), stddev(num), len(num)), (mean(den), stddev(den), len(den)),
        confidence)
    result.update(fieller)
    return result


def ratio_from_summaries(num: MeanSdN, den: MeanSdN,
                         confidence: float = 0.95) -> dict:
    """Ratio of two independent means with Fieller's interval, from
    (mean, sample stddev, n) of each side. Returns ratio, ci_low, ci_high
    (None where undefined: n < 2, or an unbounded interval)."""
    (m_num, s_num, n_num), (m_den, s_den, n_den) = num, den
    out: dict = {"ratio": None, "ci_low": None, "ci_high": None}
    if not n_num or not n_den or not m_den or m_num is None:
        return out
    r = m_num / m_den
    out["ratio"] = r
    if n_num < 2 or n_den < 2:
        return out
    v_num = s_num ** 2 / n_num
    v_den = s_den ** 2 / n_den
    if v_num == 0 and v_den == 0:
        out["ci_low"] = out["ci_high"] = r
        return out
    df = _welch_df(v_num, n_num, r * r * v_den, n_den)
    t = t_quantile(0.5 + confidence / 2.0, df)
    a = m_den ** 2 - t * t * v_den
    if a <= 0:
        return out  # denominator not significantly non-zero: unbounded
    b = m_num * m_den
    c = m_num ** 2 - t * t * v_num
    root = math.sqrt(max(b * b - a * c, 0.0))
    out["ci_low"], out["ci_high"] = (b - root) / a, (b + root) / a
    return out


def _welch_df(var1, n1, var2, n2):
    """Welch-Satterthwaite df for two variance-of-mean terms."""
    num = (var1 + var2) ** 2
    den = 0.0
    if var1:
        den += var1 ** 2 / (n1 - 1)
    if var2:
        den += var2 ** 2 / (n2 - 1)
    return num / den if den else float(n1 + n2 - 2)


# -- scaling fit -------------------------------------------------------------

def linear_fit(xs: t.Sequence[float],
               ys: t.Sequence[t.Optional[float]]) -> t.Optional[dict]:
    """Least-squares line y = slope * x + intercept.

    Used for ratio vs number of concurrently active instances (the paper
    finds a linear fall). Points whose y is None are left out. Returns
    slope, intercept, r2 (None when all y are equal), slope_stderr and the
    slope's 95% interval slope_ci_low/high (None with fewer than three
    points) and n. Through two points r2 is None: they always lie on a
    line, so the "fit" says nothing beyond their difference (the slope).
    """
    points = [(float(x), float(y)) for x, y in zip(xs, ys) if y is not None]
    if len({x for x, _ in points}) < 2:
        raise exceptions.InvalidArgument(
            "a linear fit needs at least two different x values, got %r"
            % [x for x, _ in points])
    n = len(points)
    fit = _sst().linregress([x for x, _ in points], [y for _, y in points])
    flat = len({y for _, y in points}) == 1
    # two points always lie on a line: no R², the slope is their difference
    r2 = float(fit.rvalue) ** 2 if n > 2 and not flat else None
    stderr = float(fit.stderr) if n > 2 else None
    half = (t_quantile(0.975, n - 2) * stderr) if stderr is not None \
        else None
    slope = float(fit.slope)
    return {"slope": slope, "intercept": float(fit.intercept), "r2": r2,
            "slope_stderr": stderr, "n": n,
            "slope_ci_low": None if half is None else slope - half,
            "slope_ci_high": None if half is None else slope + half}


# -- before / after ------------------------------------------------------------

def welch(before: t.Iterable[t.Optional[float]],
          after: t.Iterable[t.Optional[float]],
          higher_is_better: bool = True) -> dict:
    """Welch's two-sample t-test, before vs after (e.g. unpinned vs pinned).

    Returns t, df, p_value (two-sided), relative_change
    ((mean_after - mean_before) / mean_before) and improvement (the relative
    change signed so that > 0 is better for this metric). p_value is None
    when either side has fewer than two samples or both have no variance.
    """
    a, b = _clean(before, "before samples"), _clean(after, "after samples")
    result: dict = {"n_before": len(a), "n_after": len(b), "t": None, "df": None,
              "p_value": None, "relative_change": None, "improvement": None,
              "mean_before": mean(a) if a else None,
              "mean_after": mean(b) if b else None}
    if a and b and result["mean_before"]:
        change = (result["mean_after"] - result["mean_before"]) \
            / abs(result["mean_before"])
        result["relative_change"] = change
        result["improvement"] = change if higher_is_better else -change
    result.update(welch_from_summaries(
        (result["mean_before"], stddev(a) if a else 0.0, len(a)),
        (result["mean_after"], stddev(b) if b else 0.0, len(b))))
    return result


def welch_from_summaries(before: MeanSdN, after: MeanSdN) -> dict:
    """Welch's t-test from (mean, sample stddev, n) of each side: t, df and
    the two-sided p_value (None with n < 2 or no variance at all)."""
    (ma, sa, na), (mb, sb, nb) = before, after
    out: dict = {"t": None, "df": None, "p_value": None}
    if na < 2 or nb < 2:
        return out
    va, vb = sa ** 2 / na, sb ** 2 / nb
    if va + vb == 0:
        return out
    test = _sst().ttest_ind_from_stats(mb, sb, nb, ma, sa, na,
                                       equal_var=False)
    out.update({"t": float(test.statistic), "df": _welch_df(va, na, vb, nb),
                "p_value": float(test.pvalue)})
    return out
