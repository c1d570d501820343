"""Rally output charts built from rally-kvm-perf documents (pure functions).

Each function returns dicts for ``Scenario.add_output`` (keys title,
chart_plugin, data, and optionally description, label, axis_label).
"""

from rally_kvm_perf import metrics

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
}


def _label(bench, name):
    metric = metrics.METRICS.get(name)
    unit = " [%s]" % metric.unit if metric else ""
    return "%s %s%s" % (bench, name, unit)


def _fmt(value, digits=4):
    if value is None:
        return "n/a"
    return float("%.*g" % (digits, value))


def baseline_additive(doc):
    """StatsTable of this iteration's mean per metric; Rally aggregates the
    iterations (min/median/90%ile/max)."""
    rows = []
    for bench, data in sorted(doc.get("benchmarks", {}).items()):
        for name in metrics.ordered(data.get("statistics", {})):
            summary = data["statistics"][name]
            metric = metrics.METRICS.get(name)
            if summary["mean"] is None or metric is None \
                    or metric.better == metrics.NEUTRAL:
                continue
            rows.append([_label(bench, name), summary["mean"]])
    if not rows:
        return []
    return [{"title": "Host baseline: mean of each metric per iteration",
             "description": "Mean over the repetitions of one iteration, "
                            "for every metric the host measured.",
             "chart_plugin": "StatsTable", "data": rows}]


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
            rows.append([
                bench, name, metric.unit if metric else "",
                metric.better if metric else "", s["n"], _fmt(s["mean"]),
                _fmt(s["stddev"]), _fmt(s["ci_low"]), _fmt(s["ci_high"]),
                _fmt(s["cv"] * 100 if s["cv"] is not None else None, 3),
                s["missing"]])
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


# -- the sweep (KVMPerf.bonnie / KVMPerf.netperf) ---------------------------

_PAPER_IO = ("char_write_kBps", "block_write_kBps", "rewrite_kBps",
             "char_read_kBps", "block_read_kBps")
_PAPER_CPU = ("char_write_cpu_pct", "block_write_cpu_pct", "rewrite_cpu_pct",
              "char_read_cpu_pct", "block_read_cpu_pct")
_BONNIE_LATENCY = tuple("%s_latency_us" % stem for stem, _s, _t, _p
                        in metrics.BONNIE_OPERATIONS)
# per benchmark: (group title, metrics); metrics not listed go to "other"
SWEEP_GROUPS = {
    "bonnie++": (("sequential I/O (the paper's Fig. 3)", _PAPER_IO),
                 ("CPU utilisation of the I/O tests (Fig. 2)", _PAPER_CPU),
                 ("maximum latency per operation", _BONNIE_LATENCY)),
    "netperf:TCP_STREAM": (("throughput (Fig. 4)", ("throughput_mbps",)),),
    "netperf:UDP_STREAM": (("throughput (Fig. 5)",
                            ("throughput_mbps", "send_throughput_mbps")),),
    "netperf:TCP_RR": (("transactions and latency",
                        ("transactions_per_s", "latency_mean_us",
                         "latency_p50_us", "latency_p90_us",
                         "latency_p99_us")),),
}
_BENCH_ORDER = ("bonnie++", "netperf:TCP_STREAM", "netperf:UDP_STREAM",
                "netperf:TCP_RR")

RATIO_LABEL = "VM/host (1.0 = parity, < 1 = VM worse)"


def _bench_order(names):
    return sorted(names, key=lambda b: (_BENCH_ORDER.index(b)
                                        if b in _BENCH_ORDER else 99, b))


def _groups(bench, metric_names):
    groups = []
    listed = set()
    for title, names in SWEEP_GROUPS.get(bench, ()):
        present = [n for n in names if n in metric_names]
        listed.update(names)
        if present:
            groups.append((title, present))
    rest = [n for n in metric_names if n not in listed]
    if rest:
        groups.append(("other metrics", rest))
    return groups


def _ratio_of(level_data):
    return (level_data.get("ratio") or {}).get("ratio")


def sweep_complete(result, runs, targets, has_baseline, warnings):
    """The complete (per-iteration) charts of one sweep."""
    out = []
    fits = []
    for bench in _bench_order(result["benchmarks"]):
        data = result["benchmarks"][bench]
        names = [n for n in data["metrics"]
                 if metrics.METRICS.get(n) is None
                 or metrics.METRICS[n].better != metrics.NEUTRAL]
        for title, group in _groups(bench, names):
            if has_baseline:
                series = [[name, [[k, _ratio_of(d)] for k, d in
                                  sorted(data["metrics"][name]["levels"]
                                         .items())
                                  if _ratio_of(d) is not None]]
                          for name in group]
                series = [s for s in series if s[1]]
                if series:
                    out.append({
                        "title": "%s VM/host ratio vs active instances: %s"
                                 % (bench, title),
                        "description": "Mean of the instances over all "
                                       "repetitions divided by the host's "
                                       "mean; oriented so that 1.0 is parity "
                                       "and below 1.0 the VM does worse, for "
                                       "latency and CPU%% too.",
                        "chart_plugin": "Lines", "data": series,
                        "label": RATIO_LABEL,
                        "axis_label": "instances running at once"})
            by_unit = {}
            for name in group:
                unit = metrics.METRICS[name].unit \
                    if name in metrics.METRICS else ""
                points = [[k, d["vm"]["mean"]] for k, d in
                          sorted(data["metrics"][name]["levels"].items())
                          if d["vm"]["mean"] is not None]
                if points:
                    by_unit.setdefault(unit, []).append([name, points])
            for unit, series in by_unit.items():
                out.append({
                    "title": "%s per instance vs active instances: %s%s"
                             % (bench, title,
                                " [%s]" % unit if len(by_unit) > 1 else ""),
                    "description": "Mean over the active instances and "
                                   "repetitions of each level.",
                    "chart_plugin": "Lines", "data": series,
                    "label": unit, "axis_label": "instances running at once"})
        out.append(_level_table(bench, data, names))
        for name in names:
            m = data["metrics"][name]
            fit, what = ((m["fit"], "ratio") if m["fit"]
                         else (m["vm_fit"], "VM mean"))
            if fit:
                fits.append([bench, name, what, _fmt(fit["slope"]),
                             _fmt(fit["intercept"]), _fmt(fit["r2"]),
                             _fmt(fit["slope_stderr"]), fit["n"]])
    if fits:
        out.append({
            "title": "Scaling: fitted line vs active instances",
            "description": "Least squares over the levels: slope per added "
                           "instance, intercept, R² (1.0 = perfectly "
                           "linear), standard error of the slope. The paper "
                           "finds a linear fall of the ratio.",
            "chart_plugin": "Table",
            "data": {"cols": ["Benchmark", "Metric", "Fitted", "Slope",
                              "Intercept", "R²", "Slope std err", "Levels"],
                     "rows": fits}})
    out.append(_overlap_table(result))
    out.append({"title": "Instances, failures and notes",
                "chart_plugin": "TextArea",
                "data": _notes(result, targets, has_baseline, warnings)})
    return out


def _level_table(bench, data, names):
    rows = []
    for name in names:
        for k, d in sorted(data["metrics"][name]["levels"].items()):
            vm, ratio = d["vm"], d.get("ratio") or {}
            rows.append([name, k, vm["n"], vm["missing"], _fmt(vm["mean"]),
                         _fmt(vm["ci_low"]), _fmt(vm["ci_high"]),
                         _fmt(vm["cv"] * 100 if vm["cv"] is not None
                              else None, 3),
                         _fmt(ratio.get("ratio")), _fmt(ratio.get("ci_low")),
                         _fmt(ratio.get("ci_high"))])
    return {"title": "%s per level" % bench,
            "description": "VM values over all instances and repetitions of "
                           "a level, with 95% intervals; the ratio's "
                           "interval is Fieller's (one host) or Student-t of "
                           "per-instance ratios (several hosts).",
            "chart_plugin": "Table",
            "data": {"cols": ["Metric", "Active", "n", "Unmeasured (+++)",
                              "VM mean",
                              "VM 95% low", "VM 95% high", "VM CV %",
                              "VM/host", "Ratio 95% low", "Ratio 95% high"],
                     "rows": rows}}


def _overlap_table(result):
    rows = []
    for bench in _bench_order(result["overlap"]):
        for k, o in sorted(result["overlap"][bench].items()):
            rows.append([bench, k, o["start_skew_s"]["n"],
                         _fmt(o["start_skew_s"]["mean"]),
                         _fmt(o["start_skew_s"]["max"]),
                         _fmt(o["overlap_fraction"]["mean"]),
                         _fmt(o["overlap_fraction"]["min"])])
    return {"title": "Concurrency: how well the runs overlapped",
            "description": "Start skew: last start minus first start of the "
                           "k runs of a repetition. Overlap: time all k ran "
                           "together over the span from first start to last "
                           "end (1.0 = fully together). Low overlap means "
                           "the level did not measure contention.",
            "chart_plugin": "Table",
            "data": {"cols": ["Benchmark", "Active", "Runs",
                              "Start skew mean s", "Start skew max s",
                              "Overlap mean", "Overlap min"],
                     "rows": rows}}


def _notes(result, targets, has_baseline, warnings):
    lines = ["instance %s on %s%s" % (t.name, t.hypervisor or
                                      "unknown hypervisor (no admin)",
                                      " — %s" % t.broken if t.broken else "")
             for t in targets]
    if not has_baseline:
        lines.append("ratios: absent (no host baseline)")
    lines += ["failed: %s at %d active, repetition %d, %s: %s"
              % (f["benchmark"], f["level"], f["repetition"], f["instance"],
                 f["error"]) for f in result["failures"]]
    lines += ["note: %s" % w for w in warnings]
    return lines


def sweep_additive(result):
    """StatsTable of the ratio (or, without baseline, the VM mean) of each
    benchmark's headline metrics at every level; Rally aggregates it over
    iterations."""
    rows = []
    for bench in _bench_order(result["benchmarks"]):
        data = result["benchmarks"][bench]
        # the first group with measured values (bonnie++'s I/O rates can all
        # be "+++" on small files)
        for _title, group in _groups(bench, list(data["metrics"])):
            found = []
            for name in group:
                for k, d in sorted(data["metrics"][name]["levels"].items()):
                    ratio = _ratio_of(d)
                    if ratio is not None:
                        found.append(["%s %s ratio, %d active"
                                      % (bench, name, k), ratio])
                    elif d["vm"]["mean"] is not None:
                        found.append(["%s %s, %d active" % (bench, name, k),
                                      d["vm"]["mean"]])
            if found:
                rows += found
                break
    if not rows:
        return []
    return [{"title": "Headline metrics per level",
             "description": "VM/host ratio (or the VM mean without a host "
                            "baseline) of the paper's metrics at each level.",
             "chart_plugin": "StatsTable", "data": rows}]
