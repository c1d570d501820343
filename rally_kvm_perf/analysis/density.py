"""The density answer: how many instances a host carries while the VM/host
ratio stays at or above a threshold -- the number operators plan capacity
with.

It is read from the measured levels, up to the first level whose ratio
falls below the threshold (a later level back above it does not count: a
plan must hold at every density up to its answer). Its interval comes from
the levels' own 95% intervals: the levels *shown* at or above the
threshold (every interval up to there lies at or above it) give the low
end; the levels not *shown* below it (no interval up to there lies wholly
below) give the high end. Where every measured level stays at or above the
threshold, the answer lies beyond them: the fitted line of ratio against
instances is extrapolated to the threshold, marked so, and its high end is
open.
"""

import math

from rally_kvm_perf import columns
from rally_kvm_perf import metrics

DEFAULT_THRESHOLD = 0.8


def answer(points: list[tuple], threshold: float = DEFAULT_THRESHOLD,
           fit: dict | None = None) -> dict:
    """The density at ``threshold`` from ``points``: [(k, ratio, ci_low,
    ci_high)] of one metric (ratio None where there is none; interval ends
    None where not estimable) and ``fit`` ({"slope", "intercept"} of ratio
    against k, or None).

    :returns: {"instances", "low", "high", "extrapolated", "how"}:
        instances None where the data give no answer (the reason in how);
        low/high None where no interval bounds it.
    """
    points = sorted(p for p in points if p[1] is not None)
    out: dict = {"instances": None, "low": None, "high": None,
                 "extrapolated": False, "how": None}
    if not points:
        out["how"] = "no ratio at any level"
        return out
    levels = [p[0] for p in points]
    estimate = _last_before(points, lambda p: p[1] < threshold)
    out["low"] = _last_before(points, lambda p: p[2] is None
                              or p[2] < threshold)
    high = _last_before(points, lambda p: p[3] is not None
                        and p[3] < threshold)
    out["high"] = high if high != levels[-1] else None
    if estimate == 0 and levels[0] > 1:
        out["how"] = ("below %g already at %d instances, the fewest "
                      "measured" % (threshold, levels[0]))
        out["low"] = None
        return out
    out["instances"] = estimate
    if estimate < levels[-1]:
        out["how"] = ("the ratio falls below %g at %d instances"
                      % (threshold, _first(points, threshold)))
        return out
    return _beyond(out, levels[-1], threshold, fit)


def _beyond(out, last, threshold, fit):
    """Every measured level at or above the threshold: extrapolate the fit
    where it falls, else the answer is at least the last level."""
    slope = (fit or {}).get("slope")
    intercept = (fit or {}).get("intercept")
    if slope is None or intercept is None or slope >= 0:
        out["how"] = ("at or above %g at every measured level (up to %d) "
                      "and no fall to extrapolate: at least %d"
                      % (threshold, last, last))
        return out
    crossing = (threshold - intercept) / slope
    if crossing > last:
        # 9.9999999 from (0.8 - 1.0) / -0.02 is 10
        out["instances"] = int(math.floor(crossing + 1e-9))
        out["extrapolated"] = True
        out["how"] = ("at or above %g at every measured level (up to %d); "
                      "the fitted line (slope %.4g per instance) reaches "
                      "it at %.1f instances: extrapolated"
                      % (threshold, last, slope, crossing))
    else:
        out["how"] = ("at or above %g at every measured level (up to %d); "
                      "the fitted line reaches it sooner (%.1f): the "
                      "measured levels decide" % (threshold, last, crossing))
    return out


def _last_before(points, fails):
    """The largest level before the first point that ``fails`` (0 when the
    first one does; the last level when none does)."""
    last = 0
    for point in points:
        if fails(point):
            return last
        last = point[0]
    return last


def _first(points, threshold):
    return next(p[0] for p in points if p[1] < threshold)


def rows(levels: list[dict], fits: list[dict],
         threshold: float = DEFAULT_THRESHOLD) -> list[dict]:
    """The density answer of every headline metric (the paper's and each
    benchmark's key metrics, those with a ratio) from a results record's
    level and fit rows."""
    fit_of = {(f["benchmark"], f["metric"]): f for f in fits
              if f.get("fitted") == "ratio"}
    points: dict = {}
    for row in levels:
        metric = metrics.METRICS.get(row["metric"])
        if metric is None or not metric.summary \
                or metric.better == metrics.NEUTRAL:
            continue
        points.setdefault((row["benchmark"], row["metric"]), []).append(
            (row["active"], row["vm_host_ratio"], row["ratio_ci_low"],
             row["ratio_ci_high"]))
    out = []
    for (bench, name), pts in points.items():
        fit = fit_of.get((bench, name))
        found = answer(pts, threshold, fit and {
            "slope": fit["slope"], "intercept": fit["intercept"]})
        out.append(dict(zip(columns.DENSITY, [
            bench, name, threshold, found["instances"], found["low"],
            found["high"], found["extrapolated"],
            sorted(p[0] for p in pts), found["how"]])))
    return out
