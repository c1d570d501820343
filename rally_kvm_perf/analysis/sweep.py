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

from rally_kvm_perf import metrics
from rally_kvm_perf.analysis import stats

# The key the baseline of a sweep whose hypervisors are unknown is filed
# under (e.g. a baseline file given for a cloud without admin access).
ANY_HOST = "*"


def overlap(intervals):
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


def baseline_samples(doc):
    """{benchmark: {metric: [values]}} from a host baseline document."""
    out = {}
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


def level_ratio(vm_values, baselines, bench, name):
    """VM/host ratio of one metric at one level.

    ``vm_values`` is [(value, hypervisor)]. When all values come from one
    host, the ratio of means with Fieller's interval (stats.ratio); when the
    instances span hosts, each VM value is divided by its own host's mean
    and the ratios are averaged with a Student-t interval (host variance is
    then not propagated; the result says so in ``method``).
    """
    metric = metrics.METRICS.get(name)
    if metric is None or metric.better == metrics.NEUTRAL:
        return None
    higher = metric.better == metrics.HIGHER
    values = [(v, hv) for v, hv in vm_values if v is not None]
    hosts = {hv for _, hv in values}
    host_data = {hv: (_host_for(baselines, hv) or {}).get(bench, {}).get(name)
                 for hv in hosts}
    missing = sorted(str(hv) for hv, samples in host_data.items()
                     if not [s for s in (samples or []) if s is not None])
    if not values or missing:
        return {"ratio": None, "ci_low": None, "ci_high": None,
                "method": None,
                "missing_baseline": missing or None}
    if len(hosts) == 1:
        [hv] = hosts
        result = stats.ratio([v for v, _ in values], host_data[hv],
                             higher_is_better=higher)
        result["method"] = "fieller"
        result["hosts"] = [hv]
        result["host"] = stats.summarize(host_data[hv], keep_samples=False)
        return result
    normalized = []
    for value, hv in values:
        host_mean = stats.mean([s for s in host_data[hv] if s is not None])
        if higher:
            normalized.append(value / host_mean if host_mean else None)
        else:
            normalized.append(host_mean / value if value else None)
    summary = stats.summarize(normalized)
    return {"ratio": summary["mean"], "ci_low": summary["ci_low"],
            "ci_high": summary["ci_high"], "confidence": 0.95,
            "n_vm": summary["n"], "method": "per-instance",
            "orientation": "vm/host" if higher else "host/vm",
            "hosts": sorted(str(h) for h in hosts)}


def analyze(runs, baselines=None):
    """Per benchmark and metric: VM statistics and VM/host ratio per level,
    and the linear fit of ratio against the number of active instances.

    :returns: {"benchmarks": {bench: {"levels": [k...], "metrics": {metric:
        {"levels": {k: {"vm": summary, "ratio": ratio or None}},
         "fit": fit of ratio vs k or None,
         "vm_fit": fit of the VM mean vs k or None}}}},
        "overlap": {bench: {k: summary of overlap_fraction, start_skew_s}},
        "failures": [{"benchmark", "level", "repetition", "instance",
        "error"}]}
    """
    baselines = baselines or {}
    grouped = {}   # bench -> level -> metric -> [(value, hypervisor)]
    overlaps = {}  # bench -> level -> [overlap dicts]
    failures = []
    for run in runs:
        bench, level = run["benchmark"], run["level"]
        per_level = grouped.setdefault(bench, {}).setdefault(level, {})
        ok_intervals = []
        for inst in run["instances"]:
            if inst.get("error"):
                failures.append({"benchmark": bench, "level": level,
                                 "repetition": run["repetition"],
                                 "instance": inst["instance"],
                                 "error": inst["error"]})
                continue
            ok_intervals.append((inst.get("started_at"),
                                 inst.get("finished_at")))
            for name, value in (inst.get("metrics") or {}).items():
                per_level.setdefault(name, []).append(
                    (value, inst.get("hypervisor")))
        overlaps.setdefault(bench, {}).setdefault(level, []).append(
            overlap(ok_intervals))
    result = {"benchmarks": {}, "overlap": {}, "failures": failures}
    for bench, levels in grouped.items():
        names = metrics.ordered({n for per in levels.values() for n in per})
        bench_out = {"levels": sorted(levels), "metrics": {}}
        for name in names:
            per = {}
            for level in sorted(levels):
                values = levels[level].get(name, [])
                per[level] = {
                    "vm": stats.summarize([v for v, _ in values],
                                          keep_samples=False),
                    "ratio": level_ratio(values, baselines, bench, name)}
            bench_out["metrics"][name] = {
                "levels": per,
                "fit": _fit(per, lambda d: (d["ratio"] or {}).get("ratio")),
                "vm_fit": _fit(per, lambda d: d["vm"]["mean"])}
        result["benchmarks"][bench] = bench_out
    for bench, levels in overlaps.items():
        result["overlap"][bench] = {
            level: {
                "overlap_fraction": stats.summarize(
                    [o["overlap_fraction"] for o in items],
                    keep_samples=False),
                "start_skew_s": stats.summarize(
                    [o["start_skew_s"] for o in items], keep_samples=False),
            } for level, items in sorted(levels.items())}
    return result


def _fit(per_level, value_of):
    points = [(level, value_of(data)) for level, data in per_level.items()]
    points = [(x, y) for x, y in points if y is not None]
    if len({x for x, _ in points}) < 2:
        return None
    return stats.linear_fit([x for x, _ in points], [y for _, y in points])

