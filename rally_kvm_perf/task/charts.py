"""Rally output charts built from rally-kvm-perf documents (pure functions).

Each function returns dicts for ``Scenario.add_output`` (keys title,
chart_plugin, data, and optionally description, label, axis_label).
"""

from rally_kvm_perf import columns
from rally_kvm_perf import metrics
from rally_kvm_perf import results


def label(bench, name):
    """A metric's row label: benchmark, name and unit."""
    metric = metrics.METRICS.get(name)
    unit = " [%s]" % metric.unit if metric else ""
    return "%s %s%s" % (bench, name, unit)


def rounded(value, digits=4):
    """A value as a person reads it (4 significant digits; "n/a")."""
    if value is None:
        return "n/a"
    return float("%.*g" % (digits, value))


def _bonnie(stems, suffix):
    return tuple("%s_%s" % (stem, suffix if suffix else rate)
                 for stem, rate, _t, _p in metrics.BONNIE_OPERATIONS
                 if stem in stems)


def _fio(*stems):
    return tuple("%s_%s" % (job, stem) for stem in stems
                 for job, _title, _key in metrics.FIO_JOBS)


_IO = ("char_write", "block_write", "rewrite", "char_read", "block_read")
_FILES = ("seeks", "seq_create", "seq_stat", "seq_delete", "ran_create",
          "ran_stat", "ran_delete")
# netperf's CPU use is a share of all the machine's CPUs (no ratio: a
# 2-vCPU guest and a 64-CPU host); the CPU a unit of work cost compares
_NET_CPU = ("CPU utilisation, share of all CPUs (no ratio)",
            ("local_cpu_pct", "remote_cpu_pct"))
_NET_SD_KB = ("CPU per KB (service demand)",
              ("local_sd_us_per_kb", "remote_sd_us_per_kb"))
_NET_SD_TRAN = ("CPU per transaction (service demand)",
                ("local_sd_us_per_tran", "remote_sd_us_per_tran"))
_NET_CPUS = ("CPUs counted", ("local_cpu_count", "remote_cpu_count"))
_LATENCY = ("latency", ("latency_mean_us", "latency_p50_us", "latency_p90_us",
                        "latency_p99_us", "latency_min_us", "latency_max_us",
                        "latency_stddev_us"))
# per benchmark, in report order: (group title, metrics of one unit). The
# paper's metrics come first; every metric of a benchmark is in one group.
SWEEP_GROUPS = {
    "bonnie++": (
        ("sequential I/O (the paper's Fig. 3)", _bonnie(_IO, None)),
        ("CPU utilisation of sequential I/O (Fig. 2)", _bonnie(_IO, "cpu_pct")),
        ("seeks and file operations", _bonnie(_FILES, None)),
        ("CPU utilisation of seeks and file operations",
         _bonnie(_FILES, "cpu_pct")),
        ("maximum latency per operation",
         _bonnie(_IO + _FILES, "latency_us"))),
    "netperf:TCP_STREAM": (
        ("throughput (the paper's Fig. 4)", ("throughput_mbps",
                                             "send_throughput_mbps")),
        _NET_SD_KB, _NET_CPU, _NET_CPUS),
    "netperf:UDP_STREAM": (
        ("throughput received and sent (Fig. 5)",
         ("throughput_mbps", "send_throughput_mbps")),
        _NET_SD_KB, _NET_CPU, _NET_CPUS),
    "netperf:TCP_RR": (
        ("transactions", ("transactions_per_s",)), _LATENCY, _NET_SD_TRAN,
        _NET_CPU, _NET_CPUS),
    "fio": (
        ("IOPS", _fio("iops")),
        ("bandwidth", _fio("bw_kBps")),
        ("latency: mean and completion percentiles",
         _fio("lat_mean_us", "lat_p50_us", "lat_p99_us", "lat_p99_9_us")),
        ("CPU utilisation", _fio("cpu_pct"))),
}

RATIO_LABEL = "VM/host (1.0 = parity, < 1 = VM worse)"
# titles the SLAs and the exporter look tables up by
LEVEL_TITLE = results.LEVEL_TITLE
FIT_TITLE = results.FIT_TITLE
OVERLAP_TITLE = results.OVERLAP_TITLE
# metrics that describe a run, not its performance: no row in the tables
# (netperf's CPU shares and counts, neutral too, have rows without ratios)
NEUTRAL = ("elapsed_s",)
AXIS = "instances running at once"


_bench_order = metrics.bench_order


def _ratio_of(level_data):
    return (level_data.get("ratio") or {}).get("ratio")


def _series(data, group, value_of):
    series = []
    for name in group:
        levels = data.get("metrics", {}).get(name, {}).get("levels", {})
        points = [[k, value_of(d)] for k, d in sorted(levels.items())
                  if value_of(d) is not None]
        if points:
            series.append([name, points])
    return series


def _fit_text(data, group):
    parts = []
    for name in group:
        fit = data.get("metrics", {}).get(name, {}).get("fit")
        if fit and fit["n"] == 2:
            parts.append("%s: two levels, no fit (the difference: %+.4g "
                         "per added instance)" % (name, fit["slope"]))
        elif fit:
            parts.append("%s: slope %+.4g per added instance, R² %s"
                         % (name, fit["slope"],
                            "%.3f" % fit["r2"] if fit["r2"] is not None
                            else "n/a (flat)"))
    return ("Fitted lines: " + "; ".join(parts) + ".") if parts else ""


def sweep_complete(result, runs, benchmarks, record):
    """The complete (per-iteration) charts of one sweep: of its analysis
    (``result``), its ``runs`` (their raw outputs) and its results
    ``record`` (density, instances and notes).

    The same charts come in the same order for the same ``benchmarks``,
    whatever was measured: a chart without data says why in its
    description.
    """
    has_baseline = record["host_baseline"]
    out = []
    for bench in _bench_order(benchmarks):
        data = result["benchmarks"].get(bench, {})
        for title, group in SWEEP_GROUPS.get(bench, ()):
            unit = metrics.METRICS[group[0]].unit
            if has_baseline:
                note = _fit_text(data, group)
            else:
                note = "No host baseline: no ratios (see the notes)."
            out.append({
                "title": "%s VM/host ratio vs active instances: %s"
                         % (bench, title),
                "description": "Mean of the instances over all repetitions "
                               "of a level divided by the host's mean, "
                               "oriented so that 1.0 is parity and below 1.0 "
                               "the VM does worse (for latency and CPU too). "
                               + note,
                "chart_plugin": "Lines",
                "data": _series(data, group, _ratio_of),
                "label": RATIO_LABEL, "axis_label": AXIS})
            out.append({
                "title": "%s per instance vs active instances: %s"
                         % (bench, title),
                "description": "Mean over the active instances and "
                               "repetitions of each level, in %s. Empty "
                               "series: not measured (bonnie++ '+++': too "
                               "fast; or the test did not run)." % unit,
                "chart_plugin": "Lines",
                "data": _series(data, group, lambda d: d["vm"]["mean"]),
                "label": unit, "axis_label": AXIS})
        out.append(_level_table(bench, result))
    out.append(_fit_table(result, benchmarks))
    out.append(_density_table(record["density"]))
    out.append(_overlap_table(result, benchmarks))
    out.append({"title": results.NOTES_TITLE,
                "chart_plugin": "TextArea",
                "data": results.note_lines(record)})
    out.append({"title": "Raw benchmark outputs",
                "description": "stdout of every run in every instance "
                               "(stderr too where it failed)",
                "chart_plugin": "TextArea", "data": raw_lines(runs)})
    return out


def _summary_cells(summary):
    if not summary:
        return ["n/a"] * 4
    return [rounded(summary.get("mean")), rounded(summary.get("stddev")),
            rounded(summary.get("ci_low")), rounded(summary.get("ci_high"))]


def _table_data(rows, keys):
    """A display table's data: titles, and cells rounded (the only place
    numbers are)."""
    return {"cols": columns.titles(keys),
            "rows": [[rounded(row[c]) if not isinstance(row[c], str)
                      else row[c] for c in keys] for row in rows]}


def _level_table(bench, result):
    rows = results.level_rows(result, bench, NEUTRAL)
    for row in rows:
        row["note"] = row["note"] or ""
    return {"title": LEVEL_TITLE % bench,
            "description": "Per metric and number of active instances. The "
                           "unit of replication is the repetition: n counts "
                           "repetitions, and the level's value in one "
                           "repetition is the mean over its k concurrent "
                           "instances (which share the host and are not "
                           "independent). VM mean, standard deviation and "
                           "95% Student-t interval over repetitions; the "
                           "host baseline's; the VM/host ratio with its 95% "
                           "interval (Fieller's for one host; Student-t of "
                           "per-repetition ratios when instances span "
                           "hosts; none below 3 repetitions). Between the k "
                           "instances: the lowest and highest per-instance "
                           "ratio and Jain's fairness index (1 = the host "
                           "shared itself evenly). Aggregate: the k "
                           "instances' sum per repetition, and that sum "
                           "over the host's value (capacity). A metric that "
                           "any run could not time (bonnie++ '+++++') is "
                           "'not measurable at this size' at that level: "
                           "'Unmeasured' counts those runs.",
            "chart_plugin": "Table",
            "data": _table_data(rows, columns.LEVEL)}


def _fit_table(result, benchmarks):
    rows = results.fit_rows(result, benchmarks)
    return {"title": FIT_TITLE,
            "description": "Least squares over the levels: slope per added "
                           "instance with its 95% interval (from 3 levels "
                           "on), intercept, R² (1.0 = perfectly linear; "
                           "information only: a flat line, the best result, "
                           "has R² 0), standard error of the slope. The "
                           "paper finds a linear fall of the ratio. The VM "
                           "mean is fitted where there is no ratio.",
            "chart_plugin": "Table",
            "data": _table_data(rows, columns.FIT)}


DENSITY_TITLE = "Density: instances per host at a VM/host threshold"


def _density_table(rows):
    cells = [[row["benchmark"], row["metric"], row["threshold"],
              "n/a" if row["instances"] is None else row["instances"],
              "n/a" if row["ci_low"] is None else row["ci_low"],
              "open" if row["ci_high"] is None else row["ci_high"],
              "yes" if row["extrapolated"] else "no",
              ", ".join(str(k) for k in row["levels_measured"]),
              row["how"]] for row in rows]
    return {"title": DENSITY_TITLE,
            "description": "The most instances a host carries while the "
                           "headline metrics' VM/host ratio stays at or "
                           "above the threshold: up to the first measured "
                           "level below it. 95% low: every level up to it "
                           "is shown at or above (its interval); 95% high: "
                           "no level up to it is shown below ('open': none "
                           "is, the answer may lie beyond the levels "
                           "measured). Beyond the measured levels the "
                           "fitted line is extrapolated, and says so.",
            "chart_plugin": "Table",
            "data": {"cols": columns.titles(columns.DENSITY),
                     "rows": cells}}


def _overlap_table(result, benchmarks):
    rows = results.overlap_rows(result, benchmarks)
    return {"title": OVERLAP_TITLE,
            "description": "When the k runs of a repetition really ran, as "
                           "the instances themselves timed them (their "
                           "clocks set against ours from SSH round trips; "
                           "'Clock uncertainty s' is that estimate's error): "
                           "start skew, last start minus first start; "
                           "overlap, the time all k ran together over the "
                           "span from first start to last end (1.0 = fully "
                           "together). 'Client ...': the same from when the "
                           "SSH requests left our barrier, which hides SSH "
                           "set-up, sudo and process start under load. "
                           "'Measured in' says which the first columns are. "
                           "Low overlap: the level did not measure "
                           "contention.",
            "chart_plugin": "Table",
            "data": _table_data(rows, columns.OVERLAP)}


def raw_lines(runs):
    lines = []
    for run in runs:
        for inst in run["instances"]:
            text = (inst.get("stdout") or "").strip()
            if inst.get("error"):
                text = "%s | stderr: %s | error: %s" % (
                    text, (inst.get("stderr") or "").strip(), inst["error"])
            lines.append("%s, %d active, repetition %d, %s: %s" % (
                run["benchmark"], run["level"], run["repetition"],
                inst["instance"], " | ".join(
                    ln.strip() for ln in text.splitlines() if ln.strip())))
    return lines


def sweep_additive(result, benchmarks):
    """Lines of every benchmark's first group (the paper's metrics):
    the ratio at every level, or the VM mean without a baseline. Always
    emitted, so that Rally matches it across iterations."""
    rows = []
    for bench in _bench_order(benchmarks):
        data = result["benchmarks"].get(bench, {})
        groups = SWEEP_GROUPS.get(bench, ())
        for name in (groups[0][1] if groups else ()):
            levels = data.get("metrics", {}).get(name, {}).get("levels", {})
            for k, d in sorted(levels.items()):
                ratio = _ratio_of(d)
                if ratio is not None:
                    rows.append(["%s %s ratio, %d active [VM/host, no unit]"
                                 % (bench, name, k), ratio])
                elif d["vm"]["mean"] is not None:
                    metric = metrics.METRICS.get(name)
                    rows.append(["%s %s, %d active [%s]" % (
                        bench, name, k, metric.unit if metric else "?"),
                        d["vm"]["mean"]])
    # Lines, not StatsTable: Rally heads a StatsTable's columns "Min
    # (sec)", "Median (sec)", ... whatever they hold, and a ratio has no
    # unit; a line per level over the iterations carries none
    return [{"title": "Headline metrics per level",
             "description": "VM/host ratio (or the VM mean without a host "
                            "baseline) of the paper's metrics per level, "
                            "one line per level over the iterations.",
             "chart_plugin": "Lines", "axis_label": "iteration",
             "label": "VM/host ratio (no unit), or the VM mean in the "
                      "unit its name gives",
             "data": rows}]


def pinning_table(hosts, pinning):
    """Two tables: the compute hosts (EPT/NPT, facts) and the instances'
    CPU pinning as their libvirt domains show it, from the record's
    ``hosts`` and ``pinning`` (results.host_rows, results.pinning_rows).
    Always both, empty with a reason when the kvm_perf_hypervisors context
    is not used (``hosts`` None)."""
    why = ("" if hosts is not None else
           " (empty: the kvm_perf_hypervisors context is not used)")
    pins = [dict(row, emulator=row["emulator"] or "none",
                 runtime_pinned_to=row["runtime_pinned_to"] or "no")
            for row in pinning["instances"]]
    problems = pinning["problems"]
    return [
        {"title": results.HOSTS_TITLE,
         "description": "Two-level paging (EPT on Intel, NPT on AMD) per "
                        "compute host, with the evidence: kvm_intel.ept / "
                        "kvm_amd.npt and the CPU flags." + why,
         "chart_plugin": "Table",
         "data": {"cols": columns.titles(columns.HOSTS),
                  "rows": [[columns.shown(row[k]) for k in columns.HOSTS]
                           for row in hosts or []]}},
        {"title": results.PINNING_TITLE,
         "description": "Each instance's <vcpupin> (vCPU→host CPUs) and "
                        "<emulatorpin> as its libvirt domain shows them after "
                        "boot (and after runtime pinning). Problems: "
                        + ("; ".join(problems) if problems else "none") + why,
         "chart_plugin": "Table",
         "data": {"cols": columns.titles(columns.PINNING),
                  "rows": [[columns.shown(row[k]) for k in columns.PINNING]
                           for row in pins]}}]
