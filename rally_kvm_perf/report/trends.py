"""Ratios over time: for each sweep (scenario and its optimisation),
benchmark, metric and instance count, the VM/host ratio and its interval in
each of several task results, oldest first, and whether the newest run
differs significantly from the runs before it.

The test behind the verdict is Welch's, on repetition-level ratios: within
one run, each repetition's VM value over that run's host mean (the ratio
the tables show, oriented so that higher is better; its spread by the delta
method, r * VM stddev / VM mean, n = the repetitions). The runs before the
newest are pooled (their between-run differences count as spread), so a
cloud whose ratio wanders from run to run needs a larger drop to be
flagged. The host baseline's own uncertainty is in the interval each run
shows (Fieller's), not in this test.
"""

import json
import math

from rally_kvm_perf import metrics
from rally_kvm_perf.analysis import stats
from rally_kvm_perf.report import collect
from rally_kvm_perf.report import render

ALPHA = collect.ALPHA
REGRESSION = "regression"


def _when(task):
    return task.get("created_at") or task.get("updated_at") or ""


def points(tasks_results):
    """{series key: [point, ...]} oldest task first; a key is (scenario,
    optimisation, benchmark, metric, active instances), a point one
    iteration's level row of one task."""
    order = sorted(range(len(tasks_results)),
                   key=lambda i: (_when(tasks_results[i]), i))
    rank = {i + 1: pos for pos, i in enumerate(order)}
    out = {}
    for ds in collect.datasets(tasks_results):
        task = tasks_results[ds["task_index"] - 1]
        for row in ds["rows"]:
            metric = metrics.METRICS.get(row["metric"])
            if metric is not None and metric.better == metrics.NEUTRAL:
                continue
            key = (ds["scenario"], ds["optimised"] or "not optimised",
                   row["benchmark"], row["metric"], row["active"])
            out.setdefault(key, []).append({
                "rank": rank[ds["task_index"]], "task": ds["task"],
                "when": _when(task), "iteration": row.get("iteration", 1),
                "ratio": row.get("vm_host_ratio"),
                "ci_low": row.get("ratio_ci_low"),
                "ci_high": row.get("ratio_ci_high"),
                "n": row.get("n") or 0, "vm_mean": row.get("vm_mean"),
                "vm_stddev": row.get("vm_stddev"),
                "host_mean": row.get("host_mean"),
                "note": row.get("note")})
    for series in out.values():
        series.sort(key=lambda p: (p["rank"], p["iteration"]))
    return out


def ratio_summary(point):
    """(mean, stddev, n) of a run's repetition-level ratios, or None where
    the run has no ratio or no spread to test with."""
    r, n = point["ratio"], point["n"]
    vm_mean, vm_sd = point["vm_mean"], point["vm_stddev"]
    if r is None or not n or not vm_mean or vm_sd is None:
        return None
    return (r, abs(r) * vm_sd / abs(vm_mean), n)


def pooled(summaries):
    """One (mean, stddev, n) of several runs' repetitions together; the
    differences between the runs' means are part of its spread."""
    total = sum(n for _, _, n in summaries)
    if not total:
        return None
    mean = math.fsum(m * n for m, _, n in summaries) / total
    if total < 2:
        return (mean, 0.0, total)
    ss = math.fsum((n - 1) * s * s + n * (m - mean) ** 2
                   for m, s, n in summaries)
    return (mean, math.sqrt(ss / (total - 1)), total)


def verdict(series, alpha=ALPHA):
    """The newest task against the tasks before it: relative change of the
    ratio with its 95% interval, Welch's p-value, and "regression",
    "improved", "no significant change" or "not enough data" (with why).
    Every iteration of the newest task is on its side (pooled), none in
    the reference: judging its last iteration alone, with its earlier
    ones counted as "before", compared a task with itself."""
    newest_rank = series[-1]["rank"]
    mine = [p for p in series if p["rank"] == newest_rank]
    before = [p for p in series if p["rank"] < newest_rank]
    newest = mine[-1]
    out = {"newest": newest["task"], "runs_before": len(before),
           "iterations": len(mine),
           "ratio": newest["ratio"], "reference_ratio": None,
           "relative_change": None, "change_ci_low": None,
           "change_ci_high": None, "p_value": None,
           "verdict": "not enough data", "why": None}
    ref = pooled([s for s in map(ratio_summary, before) if s])
    new = pooled([s for s in map(ratio_summary, mine) if s])
    if new is not None:
        out["ratio"] = new[0]
    if not before:
        out["why"] = "no earlier run"
        return out
    if ref is None or new is None:
        out["why"] = ("the newest run has no ratio with a spread"
                      if new is None else
                      "no earlier run has a ratio with a spread")
        return out
    out["reference_ratio"] = ref[0]
    change = stats.ratio_from_summaries(new, ref)
    if change["ratio"] is not None:
        out["relative_change"] = change["ratio"] - 1.0
    if change["ci_low"] is not None:
        out["change_ci_low"] = change["ci_low"] - 1.0
        out["change_ci_high"] = change["ci_high"] - 1.0
    welch = stats.welch_from_summaries(ref, new)
    out["p_value"] = welch["p_value"]
    if welch["p_value"] is None:
        out["why"] = "fewer than 2 repetitions on a side, or no spread at all"
    elif welch["p_value"] >= alpha:
        out["verdict"] = "no significant change"
    else:
        out["verdict"] = (REGRESSION if new[0] < ref[0] else "improved")
    return out


def trends(tasks_results, alpha=ALPHA):
    """Every series with its points and the newest point's verdict."""
    found = points(tasks_results)
    order = {m: i for i, m in enumerate(metrics.ordered({k[3] for k in found}))}
    out = []
    for key, series in sorted(found.items(), key=lambda kv: (
            kv[0][:3], order[kv[0][3]], kv[0][4])):
        scenario, optimised, bench, metric, active = key
        out.append({"scenario": scenario, "optimised": optimised,
                    "benchmark": bench, "metric": metric,
                    "active_instances": active, "points": series,
                    "verdict": verdict(series, alpha)})
    return out


def regressions(rows):
    return [t for t in rows if t["verdict"]["verdict"] == REGRESSION]


# -- the trends page ------------------------------------------------------------

def _figure(group, title):
    """Ratio vs run (oldest first) for one sweep, benchmark and metric: one
    line per instance count, 95% intervals as bars, the newest run's
    verdict beside its level in the legend."""
    fig, ax = render.pyplot().subplots(figsize=(7.5, 4.0))
    for index, row in enumerate(group):
        pts = [p for p in row["points"] if p["ratio"] is not None]
        if not pts:
            continue
        xs = [p["rank"] + 1 for p in pts]
        line, = ax.plot(xs, [p["ratio"] for p in pts],
                        render.STYLES[index % len(render.STYLES)], marker="o",
                        label="%d instance(s): %s" % (
                            row["active_instances"],
                            row["verdict"]["verdict"]))
        bars = [p for p in pts if p["ci_low"] is not None
                and p["ci_high"] is not None]
        if bars:
            ax.errorbar([p["rank"] + 1 for p in bars],
                        [p["ratio"] for p in bars],
                        yerr=[[p["ratio"] - p["ci_low"] for p in bars],
                              [p["ci_high"] - p["ratio"] for p in bars]],
                        fmt="none", ecolor=line.get_color(), capsize=3,
                        linewidth=0.8)
        if row["verdict"]["verdict"] == REGRESSION:
            ax.plot([xs[-1]], [pts[-1]["ratio"]], "x", color="#a00",
                    markersize=12, markeredgewidth=2)
    render.integer_ticks(ax.xaxis)
    ax.set_xlabel("run (oldest first)")
    ax.set_ylabel("VM/host (1.0 = parity, below = worse)")
    ax.set_title(title, fontsize=10)
    ax.grid(True, alpha=0.3)
    if ax.get_legend_handles_labels()[0]:   # no series: no empty legend
        ax.legend(fontsize=7, loc="best")
    return render._svg(fig)


def sentence(row):
    v = row["verdict"]
    where = "%s %s at %d instance(s)" % (row["benchmark"], row["metric"],
                                          row["active_instances"])
    if v["verdict"] == "not enough data":
        return "%s: not enough data (%s)." % (where, v["why"])
    ci = ""
    if v["change_ci_low"] is not None:
        ci = " (95%% interval %+.1f%% to %+.1f%%)" % (
            v["change_ci_low"] * 100, v["change_ci_high"] * 100)
    return "%s: ratio %.4g against %.4g in the %d run(s) before, %+.1f%%%s, " \
           "Welch's p = %.3g: %s." % (
               where, v["ratio"], v["reference_ratio"], v["runs_before"],
               v["relative_change"] * 100, ci, v["p_value"], v["verdict"])


def page(rows, tasks):
    e = render._e
    parts = ["<!DOCTYPE html><html><head><meta charset='utf-8'>"
             "<title>rally-kvm-perf: VM/host ratios over time</title>"
             "<style>%s</style></head><body>" % render.CSS,
             "<h1>VM/host ratios over time</h1>",
             "<p>%d task(s), oldest first: %s. Each run's ratio with its 95%% "
             "interval; the newest run against the runs before it by "
             "Welch's test on repetition-level ratios (the earlier runs "
             "pooled, their differences counted as spread; alpha %.2g). "
             "The host baseline's own uncertainty is in each run's interval, "
             "not in the test.</p>" % (
                 len(tasks), ", ".join("%d. %s (%s)" % (
                     i + 1, e(t.get("uuid")), e(_when(t)))
                     for i, t in enumerate(tasks)), ALPHA)]
    flagged = regressions(rows)
    if flagged:
        parts.append("<div class='error'><h2>Regression</h2><ul>%s</ul>"
                     "</div>" % "".join("<li class='worse'>%s %s</li>" % (
                         e(t["scenario"]), e(sentence(t))) for t in flagged))
    else:
        parts.append("<p class='pass'>No significant drop of any ratio in "
                     "the newest run.</p>")
    groups = {}
    for row in rows:
        groups.setdefault((row["scenario"], row["optimised"],
                           row["benchmark"], row["metric"]), []).append(row)
    for (scenario, optimised, bench, metric), group in groups.items():
        title = "%s (%s): %s %s" % (scenario, optimised, bench, metric)
        parts.append("<h2>%s</h2>" % e(title))
        parts.append("<div class='figure'>%s</div>" % _figure(group, title))
        parts.append("<ul>%s</ul>" % "".join(
            "<li class='%s'>%s</li>" % (
                "worse" if r["verdict"]["verdict"] == REGRESSION else
                "improved" if r["verdict"]["verdict"] == "improved" else "",
                e(sentence(r))) for r in group))
    parts.append("</body></html>")
    return "\n".join(parts)


def ordered_tasks(tasks_results):
    return sorted(tasks_results, key=_when)


def build(tasks_results, alpha=ALPHA):
    """{file name: content}: trends.html and trends.json."""
    rows = trends(tasks_results, alpha)
    tasks = ordered_tasks(tasks_results)
    return {"trends.html": page(rows, tasks),
            "trends.json": json.dumps({
                "tasks": [{"uuid": t.get("uuid"), "created_at": _when(t)}
                          for t in tasks],
                "alpha": alpha, "series": rows,
                "regressions": len(regressions(rows))},
                indent=1, sort_keys=True)}
