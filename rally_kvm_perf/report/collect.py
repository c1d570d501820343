"""From Rally task results (the JSON report format) to the numbers the
kvm-perf report shows: per-level ratios of every KVMPerf sweep workload and
before/after comparisons (pure functions)."""

from rally_kvm_perf import columns
from rally_kvm_perf import contention
from rally_kvm_perf import metrics
from rally_kvm_perf import results
from rally_kvm_perf.analysis import density
from rally_kvm_perf.analysis import findings
from rally_kvm_perf.analysis import stats

SWEEPS = ("KVMPerf.bonnie", "KVMPerf.netperf", "KVMPerf.fio")
ALPHA = 0.05


def _optimised(contexts):
    flavor = contexts.get("kvm_perf_flavor") or {}
    hyper = contexts.get("kvm_perf_hypervisors") or {}
    parts = []
    if flavor.get("pinning"):
        parts.append("pinned flavor")
    if hyper.get("runtime_pinning"):
        parts.append("runtime pinning")
    if hyper.get("ept") == "required":
        parts.append("EPT/NPT required")
    return ", ".join(parts)


# what task/reportable.py left out of a workload's arguments and contexts
# (its allow-list), by name: the report says so
LEFT_OUT = "kvm_perf_left_out"

# task arguments that are secrets: never copied into a report (a second
# line of defence behind task/reportable.py's allow-list)
SECRET_KEYS = ("password", "passwd", "secret", "token", "private_key", "pkey",
               "api_key", "apikey", "credential")


def _secret(key):
    key = str(key).lower()
    return any(x in key for x in SECRET_KEYS) or key.endswith("_pass")


def redact(value):
    """A copy of task arguments with every secret replaced."""
    if isinstance(value, dict):
        return {k: ("***" if _secret(k) and v not in (None, "")
                    else redact(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value


def report_tasks(doc):
    """The tasks of a 'rally task report --json' document in the form task
    exporters receive: each workload's scenario name and arguments under
    "name" and "args" (the report keeps them as {"scenario": {name: args}});
    [] when it holds none."""
    tasks = doc.get("tasks") if isinstance(doc, dict) else None
    if not isinstance(tasks, list):
        return []
    for task in tasks:
        for subtask in task.get("subtasks") or []:
            for wl in subtask.get("workloads") or []:
                scenario = wl.get("scenario")
                if "name" not in wl and isinstance(scenario, dict) \
                        and len(scenario) == 1:
                    [(wl["name"], wl["args"])] = scenario.items()
    return tasks


def datasets(tasks_results):
    """One dataset per KVMPerf sweep workload, in task order."""
    out = []
    for t_index, task in enumerate(tasks_results, 1):
        for subtask in task.get("subtasks", []):
            for wl in subtask.get("workloads", []):
                with results.reading(task, wl):
                    dataset = _dataset(wl)
                if dataset is not None:
                    optimised = dataset["optimised"]
                    dataset.update(
                        label="%d. %s (%s)" % (
                            len(out) + 1, subtask.get("title") or wl["name"],
                            optimised or "not optimised"),
                        task=task.get("uuid"), task_index=t_index)
                    out.append(dataset)
    return out


def _dataset(wl):
    """One workload's rows, fits, tables and notes, or None where it is no
    sweep: neither a KVMPerf scenario nor a replay of one's output."""
    data = wl.get("data") or []
    if wl.get("name") not in SWEEPS and not any(
            results.iteration_levels(it) for it in data):
        return None
    ctx = wl.get("contexts") or {}
    rows, fits, hosts, pins, notes = [], [], [], [], []
    contention, explain, errors, dense, found = [], [], [], [], []
    for i, iteration in enumerate(data, 1):
        levels = results.iteration_levels(iteration)
        its_fits = results.iteration_fits(iteration)
        rows += [dict(row, iteration=i) for row in levels]
        fits += its_fits
        record = results.from_iteration(iteration) or {}
        # the record's, at the task's threshold; else from the levels and
        # fits (a record from before the density has them)
        dense += [dict(row, iteration=i) for row in (
            record.get("density") if "density" in record
            else density.rows(levels, its_fits))]
        # the paper's findings 1-4 on this iteration's sweep
        found += [dict(f, iteration=i)
                  for f in findings.from_record(levels, its_fits)]
        hosts += results.iteration_hosts(iteration, record)
        pins += results.iteration_pinning(iteration, record)
        notes += _notes(record, iteration)
        explain += _explain(record, iteration)
        contention += [dict(r, iteration=i)
                       for r in record.get("telemetry") or []]
        if iteration.get("error"):
            # [type, message, traceback]: what failed, not how
            errors.append("iteration %d failed: %s" % (
                i, ": ".join(iteration["error"][:2])))
    return {"scenario": wl["name"], "args": redact(wl.get("args") or {}),
            "contexts": redact(ctx), "left_out": wl.get(LEFT_OUT) or [],
            "optimised": _optimised(ctx), "rows": rows, "fits": fits,
            "hosts": hosts, "pinning": pins, "notes": notes,
            "errors": errors, "contention": contention, "explain": explain,
            "density": dense, "findings": found,
            "pass_sla": wl.get("pass_sla"),
            "sla": wl.get("sla_results", {}).get("sla", [])}


def _chart_text(iteration, title):
    for chart in (iteration.get("output") or {}).get("complete", []):
        if chart.get("title") == title:
            return list(chart["data"])
    return []


def _notes(record, iteration):
    """The record's notes; a record from before it kept its instances:
    the notes chart's."""
    if record.get("instances") is not None:
        return results.note_lines(record)
    return _chart_text(iteration, results.NOTES_TITLE)


def _explain(record, iteration):
    """Why the ratio falls, from the record's contention; an iteration
    without one: that chart's, if any."""
    if record.get("contention") is not None:
        return contention.sentences(record)
    return _chart_text(iteration, results.EXPLAIN_TITLE)


RECORD_FIELDS = (
    "dataset", "scenario", "iteration", "benchmark", "metric", "better",
    "active_instances", "n", "unmeasured", "vm_mean", "vm_stddev",
    "vm_ci_low", "vm_ci_high", "host_mean", "host_stddev", "host_ci_low",
    "host_ci_high", "ratio", "ratio_ci_low", "ratio_ci_high",
    "instance_ratio_min", "instance_ratio_max", "fairness_jain",
    "aggregate_mean", "aggregate_ratio", "note")
# the results record's level keys, from "n" on, in RECORD_FIELDS' order
_COLUMNS = columns.LEVEL[2:]
assert len(RECORD_FIELDS) == 7 + len(_COLUMNS)


def records(sets):
    """Flat rows for ratios.csv / ratios.json."""
    out = []
    for ds in sets:
        for row in ds["rows"]:
            metric = metrics.METRICS.get(row["metric"])
            out.append(dict(zip(RECORD_FIELDS, (
                ds["label"], ds["scenario"], row["iteration"],
                row["benchmark"], row["metric"],
                metric.better if metric else None, row["active"])
                + tuple(row.get(c) for c in _COLUMNS))))
    return out


def verdict(p_value, improvement):
    if p_value is None or improvement is None:
        return "not enough data"
    if p_value >= ALPHA:
        return "no significant change"
    return "improved" if improvement > 0 else "worse"


def compare(before, after):
    """Before vs after (e.g. unpinned vs pinned) per benchmark, metric and
    level, over the repetitions' values (each the mean of its k
    instances: the unit of replication): relative change with its 95%
    interval (Fieller, from the two summaries), Welch's p-value and a
    verdict. Calibrated in tests/unit/test_calibration.py."""
    def index(ds):
        # with times > 1 each iteration is a sweep of its own: compare
        # iteration i with iteration i
        return {(r["benchmark"], r["metric"], r["active"],
                 r.get("iteration", 1)): r for r in ds["rows"]}
    b_rows, a_rows = index(before), index(after)
    out = []
    for key in sorted(set(b_rows) & set(a_rows),
                      key=lambda k: (k[3], k[0], metrics.ordered([k[1]])[0],
                                     k[2])):
        metric = metrics.METRICS.get(key[1])
        if metric is None or metric.better == metrics.NEUTRAL:
            continue
        b, a = b_rows[key], a_rows[key]
        if not b["n"] or not a["n"] or not b["vm_mean"]:
            continue
        summary_b = (b["vm_mean"], b["vm_stddev"] or 0.0, b["n"])
        summary_a = (a["vm_mean"], a["vm_stddev"] or 0.0, a["n"])
        welch = stats.welch_from_summaries(summary_b, summary_a)
        ratio = stats.ratio_from_summaries(summary_a, summary_b)
        change = ratio["ratio"] - 1.0
        higher = metric.better == metrics.HIGHER
        improvement = change if higher else -change
        out.append({
            "benchmark": key[0], "metric": key[1], "active_instances": key[2],
            "iteration": key[3],
            "better": metric.better, "before": b["vm_mean"],
            "after": a["vm_mean"], "relative_change": change,
            "change_ci_low": (None if ratio["ci_low"] is None
                              else ratio["ci_low"] - 1.0),
            "change_ci_high": (None if ratio["ci_high"] is None
                               else ratio["ci_high"] - 1.0),
            "p_value": welch["p_value"], "improvement": improvement,
            "ratio_before": b["vm_host_ratio"], "ratio_after": a["vm_host_ratio"],
            "verdict": verdict(welch["p_value"], improvement)})
    return out


def comparisons(sets):
    """Pairs to compare: per scenario, the first dataset (before) with each
    later one (after)."""
    out = []
    by_scenario = {}
    for ds in sets:
        by_scenario.setdefault(ds["scenario"], []).append(ds)
    for scenario, group in by_scenario.items():
        for after in group[1:]:
            rows = compare(group[0], after)
            # finding 5 per iteration (times > 1: each a sweep)
            fives = [dict(findings.optimisation(
                [r for r in rows if r["iteration"] == i]), iteration=i)
                for i in sorted({r["iteration"] for r in rows})]
            out.append({"scenario": scenario, "before": group[0]["label"],
                        "after": after["label"], "rows": rows,
                        "findings": fives})
    return out
