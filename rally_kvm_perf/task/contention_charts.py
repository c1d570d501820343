"""Rally output charts of the contention telemetry: the per-level table,
its percentage curves and the sentences that say why the ratio falls (pure
functions over the results record)."""

from rally_kvm_perf import columns
from rally_kvm_perf import results
from rally_kvm_perf import telemetry
from rally_kvm_perf.task.charts import AXIS
from rally_kvm_perf.task.charts import rounded

EXPLAIN_TITLE = results.EXPLAIN_TITLE


def _pct(value):
    return "n/a" if value is None else "%.3g%%" % value


def lines(record):
    """Sentences on what explains the curve (record["contention"])."""
    found = record.get("contention") or {}
    levels = sorted({r["active"] for r in record.get("telemetry") or []})
    out = []
    for bench, sat in sorted((found.get("saturation") or {}).items()):
        if sat:
            out.append(
                "%s: the first resource to saturate is %s: %s %s (>= %g%%) "
                "at %d instance(s) at once" % (
                    bench, sat["resource"], telemetry.TITLES[sat["field"]],
                    _pct(sat["mean"]), sat["threshold"], sat["active"]))
            continue
        highest = (found.get("highest") or {}).get(bench) or {}
        out.append("%s: no resource saturated%s (highest means: %s)" % (
            bench, " up to %d instance(s) at once" % max(levels)
            if levels else "",
            "; ".join("%s %s at %d" % (telemetry.TITLES[k], _pct(v["mean"]),
                                       v["active"])
                      for k, v in sorted(highest.items())) or "none read"))
    for bench, sat in sorted((found.get("netserver") or {}).items()):
        if sat:
            seen = "; ".join(
                "%s %s" % (_pct(sat.get(key)), what) for key, what in (
                    ("remote_cpu_pct", "by netperf's remote CPU"),
                    ("netserver_cpu_busy_pct", "by its own counters"))
                if sat.get(key) is not None)
            out.append(
                "%s: the netserver saturated before the clients: its CPU "
                "busy %s at %d instance(s) at once, the clients' %s; from "
                "there the ratio measures the netserver as much as the "
                "clients (netserver \"peers\" gives each client its own)"
                % (bench, seen, sat["active"], _pct(sat["local_cpu_pct"])))
    for knee in found.get("knees") or []:
        out.append(
            "%s %s: the %s follows one line, then another from %d "
            "instance(s) at once (slope %.3g then %.3g per instance; "
            "sup-F test p = %.3g)" % (
                knee["benchmark"], knee["metric"], knee["of"],
                knee["knee_at"], knee["slope_before"], knee["slope_after"],
                knee["p_value"]))
    if len(levels) < telemetry.MIN_KNEE_LEVELS:
        out.append("knees: not looked for; that needs at least %d levels "
                     "(this sweep has %d)" % (telemetry.MIN_KNEE_LEVELS,
                                              len(levels)))
    elif not found.get("knees"):
        out.append("knees: none; every summary metric's curve is "
                     "described by one straight line (sup-F test, p >= 0.05)")
    return out


def charts(record):
    """The contention table, its curves and the sentences that explain
    the ratios (always the same three charts: empty ones say why)."""
    rows = record.get("telemetry") or []
    keys = ["benchmark", "active", "repetitions"] + [
        key for key, _t, _u in telemetry.FIELDS]
    table = {"title": results.TELEMETRY_TITLE,
             "description": "Read in every active instance (/proc/stat, "
                            "/proc/diskstats, /proc/net/dev) and on its "
                            "compute host (/proc/stat, /proc/diskstats, "
                            "the qemu process and vhost threads) just "
                            "before and just after each run: exact means "
                            "over the run; netperf's netserver instances "
                            "(netserver peer or peers) over the same "
                            "moments. Per repetition the mean over "
                            "instances (guest, netserver) or domains and "
                            "hosts (host), "
                            "then the mean of the repetitions. Columns: "
                            + "; ".join("%s = %s [%s]" % (k, t, u) for k, t, u
                                        in telemetry.FIELDS)
                            + (". Nothing read in this sweep." if not rows
                               else ""),
             "chart_plugin": "Table",
             # the telemetry fields' own names head their columns: the
             # description says what each is
             "data": {"cols": columns.titles(keys), "rows": [
                 [rounded(r.get(c)) if not isinstance(r.get(c), str)
                  else r.get(c) for c in keys] for r in rows]}}
    series = {}
    for r in rows:
        for key, _t, unit in telemetry.FIELDS:
            if unit == "%" and r.get(key) is not None:
                series.setdefault("%s %s" % (r["benchmark"], key), []).append(
                    [r["active"], rounded(r[key])])
    curves = {"title": "Contention vs active instances (percentages)",
             "description": "The percentage columns of the table above, "
                            "beside the ratio curves: where host CPU or "
                            "disk near 100%, or steal grows, the ratio "
                            "falls for that reason.",
             "chart_plugin": "Lines", "data": sorted(series.items()),
             "label": "%", "axis_label": AXIS}
    explain = {"title": EXPLAIN_TITLE,
               "description": "The first resource whose mean reaches its "
                              "threshold (%s), and where a ratio curve "
                              "stops following one fitted line." % ", ".join(
                                  "%s >= %g%%" % (telemetry.TITLES[k], t)
                                  for k, t, _w in telemetry.SATURATION),
               "chart_plugin": "TextArea",
               "data": lines(record) or ["nothing read"]}
    return [table, curves, explain]
