"""Analysis of a sweep: k = 1..N instances running a benchmark at once.

Pure functions over plain data, so they are tested without a cloud:

``runs``: one record per (benchmark, level, repetition)::

    {"benchmark": "bonnie++" | "netperf:TCP_STREAM" | ...,
     "level": k, "repetition": r,
     "instances": [{"instance": name, "hypervisor": host name or None,
                    "started_at": epoch s, "finished_at": epoch s,
                    "metrics": {metric: value} or None,
                    "error": None or "what went wrong"}]}

``baselines``: host samples per hypervisor and benchmark::

    {hypervisor: {benchmark: {metric: [values]}}}
"""

import math

from rally_kvm_perf import metrics
from rally_kvm_perf.analysis import stats

# The key the baseline of a sweep whose hypervisors are unknown is filed
# under (e.g. a baseline file given for a cloud without admin access).
ANY_HOST = "*"
# where a summarised quantity can be (stats.summarize's bounds): every
# metric measured, skew and sum is >= 0; an overlap is a fraction
POSITIVE = (0.0, None)
FRACTION = (0.0, 1.0)


def overlap(intervals: list[tuple[float, float]]) -> dict:
    """How well concurrent runs overlapped.

    :param intervals: [(started_at, finished_at), ...] of the k runs of one
        level and repetition
    :returns: start_skew_s (last start - first start), end_skew_s,
        overlap_fraction (time all k ran together / span from first start to
        last end; 1.0 = perfectly together, 0 = never all at once) and n
    """
    intervals = [(s, e) for s, e in intervals if s is not None and e is not None]
    if not intervals:
        return {"n": 0, "start_skew_s": None, "end_skew_s": None,
                "overlap_fraction": None}
    starts = [s for s, _ in intervals]
    ends = [e for _, e in intervals]
    span = max(ends) - min(starts)
    together = max(0.0, min(ends) - max(starts))
    return {"n": len(intervals), "start_skew_s": max(starts) - min(starts),
            "end_skew_s": max(ends) - min(ends),
            "overlap_fraction": (together / span) if span > 0 else 1.0}


def baseline_samples(doc: dict) -> dict[str, dict[str, list]]:
    """{benchmark: {metric: [values]}} from a host baseline document."""
    out: dict = {}
    for bench, data in (doc.get("benchmarks") or {}).items():
        per_metric = out.setdefault(bench, {})
        for sample in data.get("samples", []):
            for name, value in (sample.get("metrics") or {}).items():
                per_metric.setdefault(name, []).append(value)
    return out


def _host_for(baselines, hypervisor):
    if hypervisor in baselines:
        return baselines[hypervisor]
    return baselines.get(ANY_HOST)


def _oriented(value, host_mean, higher):
    """One value as a VM/host ratio, 1.0 = parity, below = worse."""
    if higher:
        return value / host_mean if host_mean else None
    return host_mean / value if value else None


def _host_values(baselines, hypervisor, bench, name):
    return (_host_for(baselines, hypervisor) or {}).get(bench, {}).get(name)


def jain(values: list[float | None]) -> float | None:
    """Jain's fairness index of per-instance performance: 1.0 when every
    instance got the same, 1/n when one got everything."""
    found = [v for v in values if v is not None]
    if not found or not any(found):
        return None
    return sum(found) ** 2 / (len(found) * sum(v * v for v in found))


def _not_estimable(summary):
    """Intervals from fewer than 3 repetitions say nothing useful (n = 2:
    t = 12.7); they are dropped and the reason is given instead."""
    if summary and summary.get("n") is not None and summary["n"] < 3:
        summary = dict(summary, ci_low=None, ci_high=None,
                       ci_half_width=None,
                       ci_note="not estimable with n = %d" % summary["n"])
    return summary


def _summary(values, bounds=POSITIVE):
    """A level's summary of ``values``: its interval cut to ``bounds``, none
    below 3 values (see _not_estimable), samples kept elsewhere."""
    return _not_estimable(stats.summarize(values, keep_samples=False,
                                          bounds=bounds))


def level_cell(reps: dict[int, list[tuple]], baselines: dict | None,
               bench: str, name: str, level: int | None = None) -> dict:
    """Everything one metric says at one level (``level``: its number of
    active instances, k).

    ``reps`` is {repetition: [(instance, value, hypervisor)]} of the
    instance runs that succeeded. The unit of replication is the
    repetition: the k concurrent runs of one repetition share the host and
    disturb each other, so the level's value in a repetition is the mean
    over its k instances, and means, intervals and the ratio use
    n = repetitions. The spread between instances is reported apart
    (min/max per-instance ratio, Jain's fairness index), and so is the
    aggregate (the k instances' sum over the host: the capacity view).

    A metric that any run could not measure at this level (bonnie++
    "+++++": too fast to time) is "not measurable at this size": no mean of
    the runs that could, and no ratio.
    """
    metric = metrics.METRICS.get(name)
    neutral = metric is None or metric.better == metrics.NEUTRAL
    higher = metric is None or metric.better == metrics.HIGHER
    samples = [(i, v, hv) for items in reps.values() for i, v, hv in items]
    unmeasured = sum(1 for _, v, _ in samples if v is None)
    cell: dict = {"unmeasurable": unmeasured, "samples": len(samples)}
    if unmeasured:
        cell["vm"] = stats.summarize([], keep_samples=False)
        cell["vm"]["missing"] = unmeasured
        cell["ratio"] = None if neutral else _no_ratio(
            None, "not measurable at this size: %d of %d run(s) too fast to "
            "time ('+++++'): raise the file size or use -D"
            % (unmeasured, len(samples)))
        return cell
    rep_means = {r: stats.mean([v for _, v, _ in items])
                 for r, items in sorted(reps.items()) if items}
    cell["vm"] = _summary(list(rep_means.values()))
    cell["instances_per_repetition"] = sorted({len(items)
                                               for items in reps.values()})
    if neutral:
        cell["ratio"] = None
        cell["host"] = _neutral_host(baselines, samples, bench, name)
        return cell
    host_data = {hv: _host_values(baselines, hv, bench, name)
                 for hv in {hv for _, _, hv in samples}}
    per_instance: dict = {}
    for i, v, hv in samples:
        per_instance.setdefault(i, []).append((v, hv))
    inst_means = {i: stats.mean([v for v, _ in vals])
                  for i, vals in per_instance.items()}
    cell["fairness"] = jain([m if higher else (1.0 / m if m else None)
                             for m in inst_means.values()])
    cell["ratio"] = _why_no_ratio(samples, host_data)
    if cell["ratio"] is not None:
        return cell
    host_means = {hv: stats.mean(values) for hv, values in host_data.items()}
    inst_ratios = [_oriented(inst_means[i], host_means[vals[0][1]], higher)
                   for i, vals in per_instance.items()]
    inst_ratios = [x for x in inst_ratios if x is not None]
    cell["instance_ratio_min"] = min(inst_ratios) if inst_ratios else None
    cell["instance_ratio_max"] = max(inst_ratios) if inst_ratios else None
    if len(host_data) == 1:
        [hv] = host_data
        result = stats.ratio(list(rep_means.values()), host_data[hv],
                             higher_is_better=higher)
        result.update({"method": "fieller", "hosts": [hv], "host":
                       _summary(host_data[hv])})
        if higher and metric is not None and metric.unit != "%":
            _aggregate(cell, reps, host_data[hv], level)
    else:
        result = _per_instance_ratio(reps, host_data, higher)
    cell["ratio"] = _interval_note(result)
    return cell


def _neutral_host(baselines, samples, bench, name):
    """The host's summary of a metric that gets no ratio (netperf's share
    of all CPUs): shown beside the instances' where one host has it."""
    hosts = {hv for _, _, hv in samples}
    if len(hosts) != 1:
        return None
    values = _host_values(baselines, hosts.pop(), bench, name)
    if not values or None in values:
        return None
    return _summary(values)


def _no_ratio(missing, reason):
    return {"ratio": None, "ci_low": None, "ci_high": None, "method": None,
            "missing_baseline": missing, "reason": reason}


def _why_no_ratio(samples, host_data):
    """The ratio cell saying why there is none (no run, a host with no
    baseline or one too fast to time), or None."""
    missing = sorted(str(hv) for hv, values in host_data.items()
                     if not values)
    host_unmeasured = sorted(str(hv) for hv, values in host_data.items()
                             if values and None in values)
    if missing:
        return _no_ratio(missing, "no host baseline for %s"
                         % ", ".join(missing))
    if host_unmeasured:
        return _no_ratio(None, "host baseline not measurable at this size "
                         "on %s ('+++++'): raise the file size or use -D"
                         % ", ".join(host_unmeasured))
    if not samples:
        return _no_ratio(None, "no value")
    return None


def _per_instance_ratio(reps, host_data, higher):
    """Instances on several hosts: each instance's value over its own
    host's mean, the repetition's mean of those, their mean over the
    repetitions (VM/host); for a lower-is-better metric the ratio is its
    inverse, as a single host's is mean(host) / mean(VM).

    Its interval counts both sides' noise (first-order, the delta method):
    the spread of the repetitions' values, and each host mean's own
    uncertainty -- a host's share c_h of the VM/host mean moves by c_h
    times the host mean's relative error -- with Welch-Satterthwaite
    degrees of freedom over the parts. A host mean not significantly above
    zero makes it unbounded, as Fieller's is; so does, for a lower-is-better
    metric, a VM/host interval that reaches zero."""
    host_means = {hv: stats.mean(values) for hv, values in host_data.items()}
    per_rep, shares = [], {hv: 0.0 for hv in host_data}
    for items in reps.values():
        if not items:
            continue
        values = [(v / host_means[hv], hv) for _, v, hv in items]
        per_rep.append(stats.mean([x for x, _ in values]))
        for x, hv in values:
            shares[hv] += x / len(values)
    vm_host = stats.mean(per_rep) if per_rep else None
    out = {"ratio": None, "ci_low": None, "ci_high": None,
           "confidence": 0.95, "n_vm": len(per_rep),
           "n_host": min(len(values) for values in host_data.values()),
           "method": "per-instance",
           "orientation": "vm/host" if higher else "host/vm",
           "hosts": sorted(str(h) for h in host_data)}
    if vm_host is None or (not higher and not vm_host):
        return out
    out["ratio"] = vm_host if higher else 1.0 / vm_host
    interval = _delta_interval(per_rep, host_data, host_means, shares)
    if interval is None:
        return out
    low, high = interval
    if higher:
        out["ci_low"], out["ci_high"] = max(low, 0.0), high
    elif low > 0:
        out["ci_low"], out["ci_high"] = 1.0 / high, 1.0 / low
    return out


def _delta_interval(per_rep, host_data, host_means, shares):
    """The 95 % interval of the mean of ``per_rep`` (VM/host values, host
    means as estimated) with the host means' uncertainty added; None where
    it cannot be bounded."""
    if len(per_rep) < 2 or min(len(v) for v in host_data.values()) < 2:
        return None
    center = stats.mean(per_rep)
    parts = [(stats.stddev(per_rep) ** 2 / len(per_rep), len(per_rep) - 1)]
    for hv, values in host_data.items():
        n, mean, sd = len(values), host_means[hv], stats.stddev(values)
        if mean <= stats.t_quantile(0.975, n - 1) * sd / math.sqrt(n):
            return None    # the host's mean may be zero: unbounded
        share = shares[hv] / len(per_rep)
        parts.append(((share * sd / mean) ** 2 / n, n - 1))
    variance = sum(v for v, _ in parts)
    if variance == 0:
        return center, center
    df = variance ** 2 / sum(v * v / d for v, d in parts if v)
    half = stats.t_quantile(0.975, df) * math.sqrt(variance)
    return center - half, center + half


def _interval_note(result):
    """No interval where n < 3; say why an interval is unbounded."""
    if result.get("n_vm", 0) < 3 or result.get("n_host", 3) < 3:
        if result.get("ratio") is not None:
            result.update({"ci_low": None, "ci_high": None,
                           "ci_note": "not estimable with n = %d"
                           % min(result.get("n_vm", 0),
                                 result.get("n_host", 3))})
    elif result.get("ratio") is not None and result.get("ci_low") is None:
        result["ci_note"] = "unbounded (the host's mean is not " \
            "significantly different from zero)"
    return result


def _aggregate(cell, reps, host_samples, level=None):
    """Sum of the k instances per repetition over the host's value; only
    repetitions where every one of the level's k instances delivered a
    value (a sum of k - 1 is not level k's capacity; with none, no
    aggregate, and the reason)."""
    k = level or max(len(items) for items in reps.values())
    sums = [sum(v for _, v, _ in items) for items in reps.values()
            if len(items) == k]
    cell["aggregate"] = _summary(sums)
    if not sums:
        reason = ("no repetition in which all %d instances delivered a "
                  "value" % k)
        cell["aggregate"]["reason"] = reason
        cell["aggregate_ratio"] = {"ratio": None, "ci_low": None,
                                   "ci_high": None, "reason": reason}
        return
    agg = stats.ratio(sums, host_samples, higher_is_better=True)
    if agg.get("n_vm", 0) < 3 or agg.get("n_host", 0) < 3:
        agg.update({"ci_low": None, "ci_high": None})
    cell["aggregate_ratio"] = agg


def analyze(runs: list[dict], baselines: dict | None = None) -> dict:
    """Per benchmark and metric: the level's statistics (see level_cell:
    the repetition is the unit) and the linear fit of ratio against the
    number of active instances.

    :returns: {"benchmarks": {bench: {"levels": [k...], "metrics": {metric:
        {"levels": {k: level_cell(...)},
         "fit": fit of ratio vs k or None,
         "vm_fit": fit of the VM mean vs k or None}}}},
        "overlap": {bench: {k: summary of overlap_fraction, start_skew_s}},
        "failures": [{"benchmark", "level", "repetition", "instance",
        "error"}]}
    """
    baselines = baselines or {}
    grouped: dict = {}   # bench -> level -> metric -> rep -> [(inst, value, hv)]
    overlaps: dict = {}  # bench -> level -> [overlap dicts]
    failures = []
    for run in runs:
        bench, level, rep = run["benchmark"], run["level"], run["repetition"]
        per_level = grouped.setdefault(bench, {}).setdefault(level, {})
        ok_intervals, guest_intervals, uncertainty = [], [], []
        for inst in run["instances"]:
            if inst.get("error"):
                failures.append({"benchmark": bench, "level": level,
                                 "repetition": rep,
                                 "instance": inst["instance"],
                                 "error": inst["error"]})
                continue
            ok_intervals.append((inst.get("started_at"),
                                 inst.get("finished_at")))
            guest_intervals.append((inst.get("guest_started_at"),
                                    inst.get("guest_finished_at")))
            uncertainty.append(inst.get("clock_uncertainty_s"))
            for name, value in (inst.get("metrics") or {}).items():
                per_level.setdefault(name, {}).setdefault(rep, []).append(
                    (inst["instance"], value, inst.get("hypervisor")))
        client = overlap(ok_intervals)
        # in the guests' own times, when every run of the level has them
        if guest_intervals and all(a is not None and b is not None
                                   for a, b in guest_intervals):
            guest = overlap(guest_intervals)
            guest["uncertainty_s"] = max(u or 0.0 for u in uncertainty)
        else:
            guest = None
        overlaps.setdefault(bench, {}).setdefault(level, []).append(
            (client, guest))
    result: dict = {"benchmarks": {}, "overlap": {}, "failures": failures,
              "unit_of_replication": "repetition"}
    for bench, levels in grouped.items():
        names = metrics.ordered({n for per in levels.values() for n in per})
        bench_out: dict = {"levels": sorted(levels), "metrics": {}}
        for name in names:
            per = {level: level_cell(levels[level].get(name, {}), baselines,
                                     bench, name, level)
                   for level in sorted(levels)}
            bench_out["metrics"][name] = {
                "levels": per,
                "fit": _fit(per, lambda d: (d["ratio"] or {}).get("ratio")),
                "vm_fit": _fit(per, lambda d: d["vm"]["mean"])}
        result["benchmarks"][bench] = bench_out
    for bench, levels in overlaps.items():
        result["overlap"][bench] = {
            level: _overlap_summary(items)
            for level, items in sorted(levels.items())}
    return result


def _overlap_summary(items):
    """Client-side figures (when the requests left the barrier) and, where
    the guests timed their own runs, the in-guest ones (when the benchmark
    really ran), with the clock estimate's uncertainty."""
    client = [c for c, _ in items]
    out = {"overlap_fraction": _summary([o["overlap_fraction"]
                                         for o in client], FRACTION),
           "start_skew_s": _summary([o["start_skew_s"] for o in client])}
    guest = [g for _, g in items if g is not None]
    if guest and len(guest) == len(items):
        out["guest_overlap_fraction"] = _summary(
            [o["overlap_fraction"] for o in guest], FRACTION)
        out["guest_start_skew_s"] = _summary([o["start_skew_s"]
                                              for o in guest])
        out["clock_uncertainty_s"] = max(o["uncertainty_s"] for o in guest)
    return out


def _fit(per_level, value_of):
    points = [(level, value_of(data)) for level, data in per_level.items()]
    points = [(x, y) for x, y in points if y is not None]
    if len({x for x, _ in points}) < 2:
        return None
    return stats.linear_fit([x for x, _ in points], [y for _, y in points])

