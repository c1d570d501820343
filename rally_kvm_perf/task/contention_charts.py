"""Rally output charts of the contention telemetry: the per-level table,
its percentage curves and the sentences that say why the ratio falls (pure
functions over the results record)."""

from rally_kvm_perf import columns
from rally_kvm_perf import contention
from rally_kvm_perf import results
from rally_kvm_perf import telemetry
from rally_kvm_perf.task.charts import AXIS
from rally_kvm_perf.task.charts import rounded

EXPLAIN_TITLE = results.EXPLAIN_TITLE


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
               "data": contention.sentences(record) or ["nothing read"]}
    return [table, curves, explain]
