"""The sweep's results record: one home for every number a sweep reports.

Data flows one way: parse (benchmarks/) -> runs (sweep/engine) -> statistics
(analysis/) -> this record -> SLAs, charts, the exporter, the JSON file.
The record keeps full precision; only the charts round, for people to read.
It travels in the iteration's Rally output as one TextArea whose text is the
record's JSON (Rally keeps scenario output only as charts), and in the
sweep's ``output_file``.

Rows are plain dicts keyed by identifiers (columns.py: ``vm_mean``,
``vm_host_ratio``, ...); None where a value does not exist. Only the charts
and the HTML page show the titles. Schema 1 keyed its rows by the titles:
``upgrade`` reads it.
"""

from collections.abc import Iterable
from collections.abc import Iterator
from collections.abc import Sequence
import contextlib
import dataclasses
import json

from rally_kvm_perf import columns
from rally_kvm_perf import contention
from rally_kvm_perf import exceptions
from rally_kvm_perf import metrics
from rally_kvm_perf import telemetry
from rally_kvm_perf.analysis import density

SCHEMA = "rally-kvm-perf/results/2"
SCHEMA_1 = "rally-kvm-perf/results/1"
TITLE = "kvm-perf results record (JSON, full precision)"

# titles of the display tables (the charts use them; older task results
# without a record are read back from them)
LEVEL_TITLE = "%s per level: instances, host and ratio"
FIT_TITLE = "Scaling: fitted line vs active instances"
OVERLAP_TITLE = "Concurrency: how well the runs overlapped"
HOSTS_TITLE = "Compute hosts: EPT/NPT and facts"
PINNING_TITLE = "Instances: vCPU pinning in libvirt"
NOTES_TITLE = "Instances, failures and notes"
TELEMETRY_TITLE = ("Contention per level: means over the repetitions of "
                   "what the kernels counted during the runs")
EXPLAIN_TITLE = "Why the ratio falls: saturation and knees"



def _summary(summary):
    summary = summary or {}
    return [summary.get("mean"), summary.get("stddev"),
            summary.get("ci_low"), summary.get("ci_high")]


def level_rows(result: dict, bench: str,
               neutral: Iterable[str] = ()) -> list[dict]:
    """One row per metric and level of ``bench`` (metrics in ``neutral``,
    which describe a run rather than its performance, left out)."""
    rows = []
    data = result["benchmarks"].get(bench, {})
    for name, m in data.get("metrics", {}).items():
        if name in neutral:
            continue
        metric = metrics.METRICS.get(name)
        no_ratio = (metric is not None and metric.better == metrics.NEUTRAL
                    and "no ratio: %s" % metric.unit)
        for k, d in sorted(m["levels"].items()):
            ratio = d.get("ratio") or {}
            agg = d.get("aggregate_ratio") or {}
            notes = [no_ratio or ratio.get("reason") or ratio.get("ci_note")
                     or d["vm"].get("ci_note"),
                     agg.get("reason") and "aggregate: " + agg["reason"]]
            rows.append(dict(zip(columns.LEVEL, [
                name, k, d["vm"]["n"], d.get("unmeasurable", 0)]
                + _summary(d["vm"])
                + _summary(ratio.get("host") or d.get("host")) + [
                ratio.get("ratio"), ratio.get("ci_low"), ratio.get("ci_high"),
                d.get("instance_ratio_min"), d.get("instance_ratio_max"),
                d.get("fairness"), (d.get("aggregate") or {}).get("mean"),
                agg.get("ratio"),
                "; ".join(n for n in notes if n) or None])))
    return rows


def telemetry_rows(runs: Sequence[dict],
                   benchmarks: Iterable[str]) -> list[dict]:
    """Per benchmark and level, the mean of each contention figure over
    the repetitions (telemetry.level_means); "Repetitions": how many had
    any. Empty where nothing was counted (a sweep before telemetry)."""
    rows = []
    for bench in metrics.bench_order(benchmarks):
        for level in sorted({r["level"] for r in runs
                             if r.get("benchmark") == bench}):
            means = telemetry.level_means(runs, bench, level)
            if not means:
                continue
            row = {"benchmark": bench, "active": level,
                   "repetitions": max(n for _m, n in means.values())}
            row.update({key: (means.get(key) or (None,))[0]
                        for key, _t, _u in telemetry.FIELDS})
            rows.append(row)
    return rows


def fit_rows(result: dict, benchmarks: Iterable[str]) -> list[dict]:
    rows = []
    for bench in metrics.bench_order(benchmarks):
        data = result["benchmarks"].get(bench, {})
        for name, m in data.get("metrics", {}).items():
            fit, what = ((m["fit"], "ratio") if m["fit"]
                         else (m["vm_fit"], "VM mean"))
            if fit:
                rows.append(dict(zip(columns.FIT, [
                    bench, name, what, fit["slope"], fit["intercept"],
                    fit["r2"], fit["slope_stderr"], fit["n"],
                    fit.get("slope_ci_low"), fit.get("slope_ci_high")])))
    return rows


def overlap_rows(result: dict, benchmarks: Iterable[str]) -> list[dict]:
    rows = []
    for bench in metrics.bench_order(benchmarks):
        for k, o in sorted(result["overlap"].get(bench, {}).items()):
            # the in-guest figures where the guests timed their runs; the
            # client's (barrier) figures kept beside them, labelled
            guest = "guest_start_skew_s" in o
            skew = o["guest_start_skew_s"] if guest else o["start_skew_s"]
            frac = o["guest_overlap_fraction"] if guest \
                else o["overlap_fraction"]
            rows.append(dict(zip(columns.OVERLAP, [
                bench, k, o["start_skew_s"]["n"], skew["mean"], skew["max"],
                frac["mean"], frac["min"], o["start_skew_s"]["max"],
                o["overlap_fraction"]["min"], o.get("clock_uncertainty_s"),
                "guests" if guest else "client"])))
    return rows


SAMPLE_FIELDS = ("benchmark", "active", "repetition", "instance",
                 "hypervisor", "metric", "value", "started_at", "error")


def samples(runs: Iterable[dict]) -> dict:
    """Every value the instances measured: {"fields": SAMPLE_FIELDS,
    "rows": [one row per instance, run and metric]} (rows, not dicts: a
    paper-scale sweep has tens of thousands); a run that failed in an
    instance is one row without a metric, with its error: never dropped;
    a value bonnie++ could not time ("+++++") is None."""
    return {"fields": list(SAMPLE_FIELDS),
            "rows": [[s[f] for f in SAMPLE_FIELDS] for s in _samples(runs)]}


def sample_dicts(record: dict) -> list[dict]:
    """The record's samples as dicts ([] for a record without them)."""
    found = record.get("samples") or {}
    fields = found.get("fields") or []
    return [dict(zip(fields, row)) for row in found.get("rows") or []]


def _samples(runs):
    out = []
    for run in runs:
        for inst in run.get("instances") or []:
            base = {"benchmark": run.get("benchmark"),
                    "active": run.get("level"),
                    "repetition": run.get("repetition"),
                    "instance": inst.get("instance"),
                    "hypervisor": inst.get("hypervisor"),
                    "started_at": inst.get("guest_started_at")
                    or inst.get("started_at"),
                    "error": inst.get("error")}
            values = inst.get("metrics") or {}
            if not values:
                out.append(dict(base, metric=None, value=None))
            for name, value in sorted(values.items()):
                out.append(dict(base, metric=name, value=value))
    return out


def all_level_rows(result: dict, benchmarks: Iterable[str],
                   neutral: Iterable[str] = ()) -> list[dict]:
    """level_rows of every benchmark, each row naming its benchmark."""
    return [dict(row, benchmark=bench) for bench in metrics.bench_order(benchmarks)
            for row in level_rows(result, bench, neutral)]


_STATE: dict = {True: "on", False: "OFF"}


def host_rows(hypervisors: dict | None) -> list[dict] | None:
    """The compute hosts as the kvm_perf_hypervisors context found them
    (EPT/NPT with its evidence, facts); None without that context."""
    if hypervisors is None:
        return None
    rows = []
    for name, entry in sorted(hypervisors.items()):
        facts = entry.get("facts") or {}
        ept = entry.get("ept") or {}
        rows.append(dict(zip(columns.HOSTS, [
            name, ept.get("feature"),
            _STATE.get(ept.get("enabled"), "unknown"),
            ept.get("state") or entry.get("error"), facts.get("cpu_model"),
            facts.get("cpus"), facts.get("ram_mb"), facts.get("kernel"),
            ("%s %s" % (entry.get("hypervisor_type") or "",
                        entry.get("hypervisor_version") or "")).strip()
            or None])))
    return rows


def pinning_rows(report: dict | None) -> dict:
    """Each instance's pinning as its libvirt domain showed it
    ({"instances": rows, "problems": [...]}); vcpu_to_cpu maps a vCPU to
    its host CPUs."""
    rows = [dict(zip(columns.PINNING, [
        inst["instance"], inst.get("hypervisor"), inst.get("domain"),
        inst.get("pinned"), dict(inst.get("vcpupin") or {}),
        inst.get("emulatorpin"), inst.get("runtime_pinned")]))
        for inst in (report or {}).get("instances") or []]
    return {"instances": rows,
            "problems": list((report or {}).get("problems") or [])}


@dataclasses.dataclass(frozen=True)
class About:
    """What a record says of its sweep besides the statistics.

    :param notes: the sweep's notes and warnings
    :param parameters: what the runs depended on (image, flavor with its
        extra specs, levels, repetitions, placement, the benchmarks'
        parameters)
    :param hosts: the compute hosts (host_rows); None without the
        kvm_perf_hypervisors context
    :param pinning: the instances' pinning (pinning_rows)
    :param density_threshold: the VM/host ratio of the density answer
    :param instances: the measured instances: ``instance``, the
        ``hypervisor`` it ran on (None: unknown, no admin), ``broken`` (why
        it could not be measured, or None)
    :param host_baseline: whether a host baseline gave the ratios
    """
    notes: Sequence[str] = ()
    parameters: dict | None = None
    hosts: list[dict] | None = None
    pinning: dict | None = None
    density_threshold: float = density.DEFAULT_THRESHOLD
    instances: Sequence[dict] = ()
    host_baseline: bool = False


def build(result: dict, benchmarks: Iterable[str], runs: Sequence[dict] = (),
          about: About | None = None,
          neutral: Iterable[str] = ()) -> dict:
    """The record of one sweep (one Rally iteration); ``runs``: the sweep's
    runs, whose every measured value the record keeps as its samples;
    ``neutral``: metrics that describe a run, not its performance (no
    rows)."""
    about = about or About()
    levels = all_level_rows(result, benchmarks, neutral)
    fits = fit_rows(result, benchmarks)
    table = telemetry_rows(runs, benchmarks)
    return {"schema": SCHEMA,
            "hosts": about.hosts,
            "pinning": about.pinning or pinning_rows(None),
            "unit_of_replication": result.get("unit_of_replication"),
            "benchmarks": metrics.bench_order(benchmarks),
            "levels": levels,
            "fits": fits,
            # instances per host at VM/host >= the threshold
            "density": density.rows(levels, fits, about.density_threshold),
            "overlap": overlap_rows(result, benchmarks),
            "failures": list(result.get("failures") or []),
            "notes": list(about.notes),
            "instances": [dict(i) for i in about.instances],
            "host_baseline": about.host_baseline,
            "parameters": about.parameters,
            "telemetry": table,
            "contention": contention.find(levels, table, benchmarks),
            "samples": samples(runs)}


def note_lines(record: dict) -> list[str]:
    """The notes a person reads: where each instance ran (and why one
    could not be measured), the failed runs and the sweep's notes."""
    lines = ["instance %s on %s%s" % (
        i["instance"], i["hypervisor"] or "unknown hypervisor (no admin)",
        " — %s" % i["broken"] if i.get("broken") else "")
        for i in record.get("instances") or []]
    if not record.get("host_baseline"):
        lines.append("ratios: absent (no host baseline)")
    lines += ["failed: %s at %d active, repetition %d, %s: %s"
              % (f["benchmark"], f["level"], f["repetition"], f["instance"],
                 f["error"]) for f in record.get("failures") or []]
    return lines + ["note: %s" % w for w in record.get("notes") or []]


def to_chart(record: dict) -> dict:
    return {"title": TITLE,
            "description": "Every number of this sweep at full precision, "
                           "for the SLAs, the kvm-perf exporter and other "
                           "tools (schema %s); the tables above round for "
                           "reading." % SCHEMA,
            "chart_plugin": "TextArea",
            "data": [json.dumps(record, sort_keys=True)]}


class RecordError(exceptions.ParseError):
    """An iteration holds a results record that this rally-kvm-perf cannot
    read. Never answered from the rounded display tables instead: a gate
    on 4-digit values passes 0.79996 against 0.8."""


def upgrade(record: dict) -> dict:
    """A record of schema 1 (rows keyed by display titles) as schema 2;
    a record of schema 2 as it is. Schema 1 has no hosts, pinning or
    instances (None: the display tables and the notes chart have them)."""
    if record.get("schema") != SCHEMA_1:
        return record
    out = dict(record, schema=SCHEMA, hosts=None, pinning=None,
               instances=None)
    for key in ("levels", "fits", "overlap", "telemetry", "density"):
        out[key] = [columns.identifiers(r) for r in record.get(key) or []]
    if record.get("contention") is not None:   # since the telemetry
        found = dict(record["contention"])
        found["knees"] = [columns.identifiers(r)
                          for r in found.get("knees") or []]
        out["contention"] = found
    return out


def from_iteration(iteration: dict) -> dict | None:
    """The record in a Rally iteration's output (schema 1 upgraded), or
    None where there is none (a task run by an older rally-kvm-perf, or
    not a sweep); RecordError where there is one that cannot be read."""
    for chart in (iteration.get("output") or {}).get("complete") or []:
        if chart.get("title") != TITLE:
            continue
        try:
            record = json.loads(chart["data"][0])
        except (TypeError, ValueError, KeyError, IndexError) as e:
            raise RecordError("its results record does not parse (%s)"
                              % e) from None
        schema = record.get("schema") if isinstance(record, dict) else None
        if schema not in (SCHEMA, SCHEMA_1):
            raise RecordError(
                "its results record is of schema %r; this rally-kvm-perf "
                "reads %s and %s (a newer rally-kvm-perf wrote it?)"
                % (schema, SCHEMA, SCHEMA_1))
        return upgrade(record)
    return None


@contextlib.contextmanager
def reading(task: dict, workload: dict) -> Iterator[None]:
    """A RecordError inside names the task and the workload it is of."""
    try:
        yield
    except RecordError as e:
        raise RecordError("task %s, workload %s: %s" % (
            task.get("uuid"), workload.get("name"), e)) from None


# -- reading an iteration's output: the record, else the display tables --

_LEVEL_PREFIX, _LEVEL_SUFFIX = LEVEL_TITLE.split("%s")


def _table(chart):
    """A display table's rows keyed by identifiers ("n/a" read as None)."""
    cols = chart["data"]["cols"]
    return [columns.identifiers(
        {c: (None if v == "n/a" else v) for c, v in zip(cols, row)})
        for row in chart["data"]["rows"]]


def _complete(iteration):
    return (iteration.get("output") or {}).get("complete") or []


def iteration_levels(iteration: dict) -> list[dict]:
    """Every benchmark's per-level rows, with "benchmark": from the record
    (full precision), or, for iterations recorded before the record
    existed, from the display tables (rounded, "n/a" read as None)."""
    record = from_iteration(iteration)
    if record is not None:
        return [dict(row) for row in record["levels"]]
    rows = []
    for chart in _complete(iteration):
        title = chart.get("title", "")
        if chart.get("chart_plugin") == "Table" and title.endswith(
                _LEVEL_SUFFIX) and title.startswith(_LEVEL_PREFIX):
            bench = title[len(_LEVEL_PREFIX):-len(_LEVEL_SUFFIX)]
            for row in _table(chart):
                row["benchmark"] = bench
                rows.append(row)
    return rows


def iteration_table(iteration: dict, title: str) -> list[dict]:
    """The rows of one display table by its title, keyed by identifiers."""
    for chart in _complete(iteration):
        if chart.get("title") == title and chart.get("chart_plugin") == "Table":
            return _table(chart)
    return []


def iteration_fits(iteration: dict) -> list[dict]:
    record = from_iteration(iteration)
    if record is not None:
        return [dict(row) for row in record["fits"]]
    return iteration_table(iteration, FIT_TITLE)


def iteration_overlap(iteration: dict) -> list[dict]:
    record = from_iteration(iteration)
    if record is not None:
        return [dict(row) for row in record["overlap"]]
    return iteration_table(iteration, OVERLAP_TITLE)


def iteration_hosts(iteration: dict, record: dict | None) -> list[dict]:
    """The compute hosts: the iteration's ``record``'s (from_iteration,
    parsed once by the caller), else the display table's."""
    if record and record.get("hosts") is not None:
        return [dict(row) for row in record["hosts"]]
    return iteration_table(iteration, HOSTS_TITLE)


def iteration_pinning(iteration: dict, record: dict | None) -> list[dict]:
    """The instances' pinning: the iteration's ``record``'s, else the
    display table's."""
    if record and record.get("pinning") is not None:
        return [dict(row) for row in record["pinning"]["instances"]]
    return iteration_table(iteration, PINNING_TITLE)
