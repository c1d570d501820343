"""Rally output charts of a host baseline document (KVMPerf.host_baseline):
each repetition's headline values, the statistics per metric, the runs
drawn per benchmark and the host's facts. Pure functions.
"""

from rally_kvm_perf import metrics
from rally_kvm_perf.task import charts

# Lines charts per benchmark: (metrics drawn together, title, axis label)
_RUN_CHARTS = {
    "bonnie++": (("char_write_kBps", "block_write_kBps", "rewrite_kBps",
                  "char_read_kBps", "block_read_kBps"),
                 "bonnie++ sequential I/O per run", "KiB/s"),
    "netperf:TCP_STREAM": (("throughput_mbps",),
                           "netperf TCP_STREAM throughput per run",
                           "10^6 bit/s"),
    "netperf:UDP_STREAM": (("throughput_mbps", "send_throughput_mbps"),
                           "netperf UDP_STREAM throughput per run",
                           "10^6 bit/s"),
    "netperf:TCP_RR": (("latency_mean_us", "latency_p50_us", "latency_p90_us",
                        "latency_p99_us"),
                       "netperf TCP_RR latency per run", "microseconds"),
    "fio": (("randread_iops", "randwrite_iops"),
            "fio 4 KiB random IOPS per run", "1/s"),
}


def baseline_additive(doc):
    """Lines of this iteration's mean per metric; Rally draws them over the
    iterations, one line per metric."""
    rows = []
    for bench, data in sorted(doc.get("benchmarks", {}).items()):
        for name in metrics.ordered(data.get("statistics", {})):
            summary = data["statistics"][name]
            metric = metrics.METRICS.get(name)
            if summary["mean"] is None or metric is None \
                    or metric.better == metrics.NEUTRAL:
                continue
            rows.append([charts.label(bench, name), summary["mean"]])
    if not rows:
        return []
    # Lines, not StatsTable: Rally heads a StatsTable's columns "(sec)"
    # whatever they hold; a line per metric over the iterations has no
    # unit but the one in its name
    return [{"title": "Host baseline: mean of each metric per iteration",
             "description": "Mean over the repetitions of each iteration, "
                            "for every metric the host measured, one line "
                            "per metric over the iterations.",
             "chart_plugin": "Lines", "axis_label": "iteration",
             "label": "the metric's own unit (in its name)",
             "data": rows}]


def baseline_complete(doc):
    """Statistics table, per-run charts and host facts of one iteration."""
    out = []
    rows = []
    for bench, data in sorted(doc.get("benchmarks", {}).items()):
        for name in metrics.ordered(data.get("statistics", {})):
            s = data["statistics"][name]
            metric = metrics.METRICS.get(name)
            if s["n"] == 0 and not s["missing"]:
                continue
            rows.append(
                [bench, name, metric.unit if metric else "",
                 metric.better if metric else "", s["n"]]
                + [charts.rounded(s[k])
                   for k in ("mean", "stddev", "ci_low", "ci_high")]
                + [charts.rounded(s["cv"] * 100 if s["cv"] is not None
                                  else None, 3), s["missing"]])
    if rows:
        out.append({
            "title": "Host baseline statistics",
            "description": "Per metric over the repetitions: mean, sample "
                           "standard deviation, 95% Student-t confidence "
                           "interval, coefficient of variation. 'Unmeasured' "
                           "counts runs where bonnie++ printed +++ (too fast "
                           "to measure) or did not run the test.",
            "chart_plugin": "Table",
            "data": {"cols": ["Benchmark", "Metric", "Unit", "Better", "n",
                              "Mean", "Std dev", "95% CI low", "95% CI high",
                              "CV %", "Unmeasured"],
                     "rows": rows}})
    for bench, (names, title, unit) in _RUN_CHARTS.items():
        data = doc.get("benchmarks", {}).get(bench)
        if not data:
            continue
        series = []
        for name in names:
            points = [[s["run"], s["metrics"][name]]
                      for s in data["samples"]
                      if s.get("metrics", {}).get(name) is not None]
            if points:
                series.append([name, points])
        if series:
            out.append({"title": title, "chart_plugin": "Lines",
                        "data": series, "label": unit,
                        "axis_label": "repetition"})
    out.append({"title": "Host facts and tools",
                "chart_plugin": "TextArea", "data": facts_lines(doc)})
    return out


def facts_lines(doc):
    facts = doc.get("facts") or {}
    ept = facts.get("ept") or {}
    tools = doc.get("tools") or {}
    lines = [
        "host: %s (%s)" % (doc.get("host"), facts.get("hostname")),
        "CPU: %s, %s logical CPUs" % (facts.get("cpu_model"),
                                      facts.get("cpus")),
        "RAM: %s MiB, kernel %s" % (facts.get("ram_mb"), facts.get("kernel")),
        "EPT/NPT: %s" % ept.get("state", "not checked"),
        "tools: %s" % ", ".join("%s %s" % (k, v) for k, v in
                                sorted(tools.items())),
        "status: %s" % doc.get("status"),
    ]
    if ept.get("how_to_enable"):
        lines.append("to enable %s: %s" % (ept.get("feature"),
                                          ept["how_to_enable"]))
    lines += ["warning: %s" % w for w in doc.get("warnings", [])]
    lines += ["error: %s" % e["message"] for e in doc.get("errors", [])]
    return lines


# -- the sweep (KVMPerf.bonnie / .fio / .netperf) ---------------------------
