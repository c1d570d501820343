"""The kvm-perf report: the paper's figures redrawn from the data (SVG by
matplotlib, inline), tables, comparisons; one self-contained HTML page."""

import csv
import datetime
import html
import io
import json

import jinja2

from rally_kvm_perf import columns
from rally_kvm_perf import metrics
from rally_kvm_perf import telemetry
from rally_kvm_perf.report import collect
from rally_kvm_perf.report import templates

_IO = metrics.PAPER_IO
_CPU = metrics.PAPER_CPU
FIGURES = (
    # the paper's Fig. 2 plots VM CPU% / host CPU% (above 1: the VM burns
    # more CPU for the same work): that quantity, under that label, not the
    # project's oriented host/VM ratio of the tables
    ("fig2", "Fig. 2: bonnie++ CPU utilisation, VM CPU% / host CPU% "
             "(the paper's quantity; above 1.0 the VM uses more CPU)",
     "bonnie++", _CPU),
    ("fig3", "Fig. 3: bonnie++ char/block write, rewrite, char/block read, "
             "VM/host", "bonnie++", _IO),
    ("fig4", "Fig. 4: netperf TCP_STREAM throughput, VM/host",
     "netperf:TCP_STREAM", ("throughput_mbps",)),
    ("fig5", "Fig. 5: netperf UDP_STREAM throughput received, VM/host",
     "netperf:UDP_STREAM", ("throughput_mbps",)),
)
# Beyond the paper: drawn only when a workload measured the benchmark.
EXTRA_FIGURES = (
    ("fio-iops", "fio: 4 KiB random read and write IOPS, VM/host", "fio",
     ("randread_iops", "randwrite_iops")),
    ("fio-bw", "fio: 1 MiB sequential read and write bandwidth, VM/host",
     "fio", ("seqread_bw_kBps", "seqwrite_bw_kBps")),
    ("fio-p99", "fio: 99th percentile completion latency, VM/host (oriented: "
                "below 1.0 the VM waits longer)", "fio",
     tuple("%s_lat_p99_us" % job for job, _t, _k in metrics.FIO_JOBS)),
)
STYLES = ("-", "--", ":", "-.")


def pyplot():
    """matplotlib's pyplot on the Agg backend, imported at the first
    figure, not with this module: Rally imports every plugin (the kvm-perf
    exporters among them) at each start of its command line, where pyplot
    cost about 0.8 s of the 2.8-3.0 a ``rally plugin show`` took (measured
    before and after; tests/unit/test_plugin_load.py)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def integer_ticks(axis):
    """Whole numbers only on ``axis`` (instance counts, run ranks)."""
    from matplotlib.ticker import MaxNLocator
    axis.set_major_locator(MaxNLocator(integer=True))


def _svg(fig):
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight")
    pyplot().close(fig)
    text = buf.getvalue()
    text = text[text.index("<svg"):]
    # the RDF metadata block only names matplotlib; keep pages lean
    start, end = text.find("<metadata>"), text.find("</metadata>")
    if start != -1 and end != -1:
        text = text[:start] + text[end + len("</metadata>"):]
    return text


def _points(rows, bench, metric, field, invert=False):
    """[(k, value, low, high)] per level of one iteration's ``rows``, with
    the ratio's 95% interval. ``invert``: plot 1/ratio (its interval
    inverted and swapped)."""
    out = []
    for row in rows:
        if (row["benchmark"], row["metric"]) != (bench, metric) \
                or row[field] is None:
            continue
        low = high = None
        if field == "vm_host_ratio":
            low, high = row.get("ratio_ci_low"), row.get("ratio_ci_high")
        value = row[field]
        if invert:
            value = 1.0 / value if value else None
            low, high = ((1.0 / high if high else None),
                         (1.0 / low if low and low > 0 else None))
        if value is not None:
            out.append((row["active"], value, low, high))
    return sorted(out)


def _iterations(ds):
    """[(iteration label, its rows)]: with times > 1 each iteration is a
    sweep of its own, drawn as its own series with its own bars."""
    by = {}
    for row in ds["rows"]:
        by.setdefault(row.get("iteration", 1), []).append(row)
    if len(by) == 1:
        return [("", rows) for rows in by.values()]
    return [(", iteration %d" % i, rows) for i, rows in sorted(by.items())]


def improvement_interval(row):
    """A before/after row's 95% interval in improvement terms (positive =
    better): for lower-is-better metrics the change's interval is negated,
    so its ends swap."""
    low, high = row["change_ci_low"], row["change_ci_high"]
    if row["better"] == metrics.LOWER:
        low, high = (None if high is None else -high,
                     None if low is None else -low)
    return low, high


def _fit_label(ds, bench, metric):
    for fit in ds["fits"]:
        if (fit["benchmark"], fit["metric"]) == (bench, metric) \
                and fit["fitted"] == "ratio" and fit["slope"] is not None:
            if fit.get("levels") == 2:
                return ", two levels: no fit, difference %+.3g" % fit["slope"]
            r2 = fit["r2"]
            return ", slope %+.3g, R² %s" % (
                fit["slope"], "%.2f" % r2 if r2 is not None else "n/a")
    return ""


def figure(sets, bench, names, title, paper_cpu=False):
    """A ratio-vs-active-instances figure with each ratio's 95% interval;
    the VM mean when no ratios. ``paper_cpu``: VM CPU% / host CPU%."""
    has_ratio = any(_points(ds["rows"], bench, n, "vm_host_ratio")
                    for ds in sets for n in names)
    field = "vm_host_ratio" if has_ratio else "vm_mean"
    invert = paper_cpu and has_ratio
    fig, ax = pyplot().subplots(figsize=(7.5, 4.2))
    drawn = 0
    series = [(d_index, ds, it, rows) for d_index, ds in enumerate(sets)
              for it, rows in _iterations(ds)]
    for d_index, ds, it, rows in series:
        for name in names:
            pts = _points(rows, bench, name, field, invert=invert)
            if not pts:
                continue
            drawn += 1
            label = "%s [%s%s]%s" % (name, ds["label"].split(" (")[0], it,
                                     _fit_label(ds, bench, name)
                                     if has_ratio and not invert and not it
                                     else "")
            xs, ys = [p[0] for p in pts], [p[1] for p in pts]
            line, = ax.plot(xs, ys, STYLES[d_index % len(STYLES)],
                            marker="o", label=label)
            bars = [(x, y, lo, hi) for x, y, lo, hi in pts
                    if lo is not None and hi is not None]
            if bars:
                ax.errorbar([b[0] for b in bars], [b[1] for b in bars],
                            yerr=[[b[1] - b[2] for b in bars],
                                  [b[3] - b[1] for b in bars]],
                            fmt="none", ecolor=line.get_color(), capsize=3,
                            linewidth=0.8)
    integer_ticks(ax.xaxis)
    if invert:
        ax.axhline(1.0, color="grey", linewidth=0.8)
        ax.set_ylabel("VM CPU% / host CPU% (1.0 = same CPU use)")
    elif has_ratio or not drawn:
        ax.axhline(1.0, color="grey", linewidth=0.8)
        ax.set_ylabel("VM/host (1.0 = parity, below = worse)")
    else:
        unit = metrics.METRICS[names[0]].unit if names[0] in metrics.METRICS \
            else ""
        ax.set_ylabel("VM mean [%s] (no host baseline)" % unit)
    ax.set_xlabel("instances running at once")
    ax.set_title(title, fontsize=10)
    ax.grid(True, alpha=0.3)
    if drawn:
        ax.legend(fontsize=7, loc="best")
    else:
        ax.text(0.5, 0.5, "not measured in these tasks", ha="center",
                va="center", transform=ax.transAxes)
    return _svg(fig), drawn


def comparison_figure(comp):
    """Fig. 7: relative change of the paper's metrics, before -> after, at
    the largest level both measured, with 95% intervals."""
    paper = set(_IO) | set(_CPU) | {"throughput_mbps"}
    rows = [r for r in comp["rows"] if r["metric"] in paper]
    if not rows:
        return None
    top = max(r["active_instances"] for r in rows)
    rows = [r for r in rows if r["active_instances"] == top]
    fig, ax = pyplot().subplots(figsize=(7.5, 0.45 * len(rows) + 1.5))
    # with times > 1, one bar per iteration, each named
    several = len({r.get("iteration", 1) for r in rows}) > 1
    labels = ["%s %s%s" % (r["benchmark"], r["metric"],
                           ", iteration %d" % r["iteration"]
                           if several else "") for r in rows]
    values = [r["improvement"] * 100 for r in rows]
    intervals = [improvement_interval(r) for r in rows]
    errors = [[0 if low is None else (r["improvement"] - low) * 100
               for r, (low, _) in zip(rows, intervals)],
              [0 if high is None else (high - r["improvement"]) * 100
               for r, (_, high) in zip(rows, intervals)]]
    colors = ["tab:green" if r["verdict"] == "improved" else
              "tab:red" if r["verdict"] == "worse" else "tab:grey"
              for r in rows]
    ax.barh(labels, values, xerr=errors, color=colors)
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_xlabel("improvement %% at %d instances (green: significant gain, "
                  "red: significant loss, grey: no significant change)" % top)
    ax.set_title("Fig. 7: %s -> %s" % (comp["before"], comp["after"]),
                 fontsize=9)
    return _svg(fig)


def ratios_csv(records):
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=collect.RECORD_FIELDS)
    writer.writeheader()
    for rec in records:
        writer.writerow(rec)
    return buf.getvalue()


def _e(value):
    if isinstance(value, float):
        return html.escape("%.4g" % value)
    return html.escape("" if value is None else str(value))


def _table(cols, rows, cls=""):
    head = "".join("<th>%s</th>" % _e(c) for c in cols)
    body = "".join("<tr>%s</tr>" % "".join("<td>%s</td>" % _e(v) for v in r)
                   for r in rows)
    return "<table class='%s'><tr>%s</tr>%s</table>" % (cls, head, body)


def sentence(row):
    """Plain-language verdict of one comparison row."""
    change = row["improvement"] * 100
    ci = ""
    if row["change_ci_low"] is not None:
        low, high = sorted(((row["change_ci_low"]) * 100,
                            (row["change_ci_high"]) * 100))
        if row["better"] == metrics.LOWER:
            low, high = -high, -low
        ci = " (95%% interval %+.1f%% to %+.1f%%)" % (low, high)
    p = ("p = %.3g" % row["p_value"]) if row["p_value"] is not None \
        else "p n/a"
    what = {"improved": "improved by %.1f%%" % abs(change),
            "worse": "got worse by %.1f%%" % abs(change),
            "no significant change": "no significant change (%+.1f%%)"
                                     % change,
            "not enough data": "not enough data"}[row["verdict"]]
    return "%s %s at %d instances: %s%s, %s." % (
        row["benchmark"], row["metric"], row["active_instances"], what, ci, p)


CSS = """
body{font-family:sans-serif;margin:2em;max-width:1200px;color:#222}
table{border-collapse:collapse;margin:0.5em 0 1.5em;font-size:12px}
td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}
th{background:#eee} td:first-child,th:first-child{text-align:left}
.figure{display:inline-block;margin:0.5em;vertical-align:top}
.error{border:2px solid #a00;background:#fee;padding:0 1em;margin:1em 0}
.improved{color:#060}.worse{color:#a00}.pass{color:#060}.fail{color:#a00}
"""


def _cell(value):
    """A table cell's text (escaped by the template): floats to 4
    significant digits, nothing for None."""
    if isinstance(value, float):
        return "%.4g" % value
    if value is None or isinstance(value, jinja2.Undefined):
        return ""
    return str(value)


_ENV = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
_ENV.filters["cell"] = _cell
_PAGE = _ENV.from_string(templates.PAGE)

WORKLOAD_COLS = ["Dataset", "Scenario", "Task", "Optimisation", "SLA",
                 "Arguments"]
COMPARISON_COLS = ["Benchmark", "Metric", "Active", "Before", "After",
                   "Change %", "95% low %", "95% high %", "p", "Ratio before",
                   "Ratio after", "Verdict"]
LEVEL_KEYS = ("benchmark", "metric", "active", "n", "vm_mean", "vm_stddev",
              "host_mean", "vm_host_ratio", "ratio_ci_low", "ratio_ci_high")
LEVEL_COLS = columns.titles(LEVEL_KEYS)
FIT_COLS = columns.titles(("benchmark", "metric", "fitted", "slope",
                           "intercept", "r2"))


def _workload_row(ds):
    return [ds["label"], ds["scenario"], ds["task"], ds["optimised"] or "none",
            "passed" if ds["pass_sla"] else "FAILED" + (
                " (%d failed iteration(s), see below)" % len(ds["errors"])
                if ds["errors"] else ""),
            json.dumps(ds["args"], sort_keys=True) + (
                " (left out of this report, not on its allow-list: %s)"
                % ", ".join(ds["left_out"]) if ds.get("left_out") else "")]


def _percent(value):
    return None if value is None else value * 100


def _comparison(comp):
    return {
        "scenario": comp["scenario"], "before": comp["before"],
        "after": comp["after"], "svg": comparison_figure(comp),
        "sentences": [({"improved": "improved", "worse": "worse"}.get(
            r["verdict"], ""), sentence(r)) for r in comp["rows"]
            if metrics.METRICS[r["metric"]].summary],
        "rows": [[r["benchmark"], r["metric"], r["active_instances"],
                  r["before"], r["after"], r["relative_change"] * 100,
                  _percent(r["change_ci_low"]), _percent(r["change_ci_high"]),
                  r["p_value"], r["ratio_before"], r["ratio_after"],
                  r["verdict"]] for r in comp["rows"]]}


DENSITY_COLS = ("Workload", "Iteration", "Benchmark", "Metric",
                "Threshold", "Instances per host", "95% low", "95% high",
                "How")


FINDINGS_COLS = ("Where", "Iteration", "Finding", "The paper", "Verdict",
                 "On these data", "What would settle it")


def _findings_rows(sets, comps):
    """The paper's five findings, judged: 1-4 per workload, 5 per
    before/after comparison."""
    where = [(ds["label"], f) for ds in sets for f in ds["findings"]]
    where += [("%s -> %s" % (c["before"], c["after"]), f) for c in comps
              for f in c.get("findings", [])]
    return [[label, f["iteration"], f["finding"], f["claim"], f["verdict"],
             f["statistic"], f["settle"] or ""]
            for label, f in sorted(where, key=lambda w: w[1]["finding"])]


def _density_rows(sets):
    """The density answer of every workload's headline metrics, the
    number a capacity plan starts from."""
    return [[ds["label"], row["iteration"], row["benchmark"], row["metric"],
             row["threshold"],
             "n/a" if row["instances"] is None else "%d%s" % (
                 row["instances"], " (extrapolated)"
                 if row["extrapolated"] else ""),
             "n/a" if row["ci_low"] is None else row["ci_low"],
             "open" if row["ci_high"] is None else row["ci_high"],
             row["how"]] for ds in sets for row in ds["density"]]


def _dict_table(rows, keys):
    """{cols, rows} of the record's rows (hosts, pinning), or None for
    none; a key that a row lacks (an older record's table) is left out."""
    if not rows:
        return None
    keys = [k for k in keys if any(k in r for r in rows)]
    return {"cols": columns.titles(keys),
            "rows": [[columns.shown(r.get(k)) for k in keys] for r in rows]}


def _dataset(ds):
    paper = [r for r in ds["rows"] if metrics.METRICS.get(r["metric"])
             and metrics.METRICS[r["metric"]].summary]
    contention = None
    if ds.get("explain") or ds.get("contention"):
        keys = ["benchmark", "active", "repetitions"] + [
            key for key, _t, _u in telemetry.FIELDS
            if any(r.get(key) is not None for r in ds["contention"])]
        contention = {"cols": columns.titles(keys),
                      "rows": [[r.get(c) for c in keys]
                               for r in ds["contention"]]}
    return {
        "label": ds["label"], "errors": ds["errors"],
        "levels": [[r[c] for c in LEVEL_KEYS] for r in paper],
        "explain": ds.get("explain") or [], "contention": contention,
        "fits": [[f["benchmark"], f["metric"], f["fitted"], f["slope"],
                  f["intercept"], "two levels: no fit"
                  if f.get("levels") == 2 else f["r2"]] for f in ds["fits"]],
        "hosts": _dict_table(ds["hosts"], columns.HOSTS),
        "pinning": _dict_table(ds.get("pinning"), columns.PINNING),
        "sla": ds["sla"], "notes": ds["notes"]}


def page(sets, comps, files):
    """The report's HTML page (templates.PAGE)."""
    now = datetime.datetime.now(datetime.timezone.utc).strftime(
        "%Y-%m-%d %H:%M UTC")
    measured = {r["benchmark"] for ds in sets for r in ds["rows"]}
    return _PAGE.render(
        css=CSS, now=now, files=files, sets=sets, alpha=collect.ALPHA,
        workload_cols=WORKLOAD_COLS, comparison_cols=COMPARISON_COLS,
        level_cols=LEVEL_COLS, fit_cols=FIT_COLS,
        workloads=[_workload_row(ds) for ds in sets],
        density_cols=DENSITY_COLS, density=_density_rows(sets),
        findings_cols=FINDINGS_COLS, findings=_findings_rows(sets, comps),
        figures=[(fid, figure(sets, bench, names, title,
                              paper_cpu=fid == "fig2")[0])
                 for fid, title, bench, names in FIGURES] if sets else [],
        extra=[(fid, figure(sets, bench, names, title)[0])
               for fid, title, bench, names in EXTRA_FIGURES
               if bench in measured],
        comps=[_comparison(c) for c in comps],
        datasets=[_dataset(ds) for ds in sets])


def build(tasks_results):
    """{file name: content} of the report."""
    sets = collect.datasets(tasks_results)
    comps = collect.comparisons(sets)
    recs = collect.records(sets)
    files = ["ratios.csv", "ratios.json"]
    return {
        "index.html": page(sets, comps, files),
        "ratios.csv": ratios_csv(recs),
        "ratios.json": json.dumps({"datasets": [
            {k: ds[k] for k in ("label", "task", "scenario", "args", "left_out",
                                "optimised", "pass_sla")} for ds in sets],
            "ratios": recs, "comparisons": comps,
            "findings": [dict(f, dataset=ds["label"]) for ds in sets
                         for f in ds["findings"]],
            "density": [dict(row, dataset=ds["label"]) for ds in sets
                        for row in ds["density"]]},
            indent=1, sort_keys=True),
    }
