"""What explains a sweep's curve: the first resource that saturates, a
netserver saturated before its clients, and where a ratio curve bends
(the record's ``contention``), and the sentences that say so (pure)."""

from collections.abc import Iterable

from rally_kvm_perf import columns
from rally_kvm_perf import metrics
from rally_kvm_perf import telemetry


def find(levels: list[dict], telemetry_table: list[dict],
         benchmarks: Iterable[str]) -> dict:
    """What explains the curve, per benchmark: the first resource that
    saturates (telemetry.saturation) and where each summary metric's ratio
    (the VM mean without a baseline) stops following one line
    (telemetry.knee, at least MIN_KNEE_LEVELS levels)."""
    out: dict = {"saturation": {}, "knees": [], "highest": {},
                 "netserver": {}}
    for bench in metrics.bench_order(benchmarks):
        per_level = {r["active"]: r for r in telemetry_table
                     if r["benchmark"] == bench}
        if bench.startswith("netperf:"):
            out["netserver"][bench] = netserver_saturation(
                [r for r in levels if r["benchmark"] == bench], per_level)
        found = telemetry.saturation(per_level)
        if found:
            key, threshold, what, level = found
            out["saturation"][bench] = {
                "field": key, "resource": what, "threshold": threshold,
                "active": level, "mean": per_level[level][key]}
        else:
            out["saturation"][bench] = None
        out["highest"][bench] = {}
        for key, _threshold, _what in telemetry.SATURATION:
            values = [(row[key], level) for level, row in per_level.items()
                      if row.get(key) is not None]
            if values:
                mean, level = max(values)
                out["highest"][bench][key] = {"mean": mean, "active": level}
        rows = [r for r in levels if r["benchmark"] == bench]
        for name in sorted({r["metric"] for r in rows}):
            metric = metrics.METRICS.get(name)
            if metric is None or not metric.summary:
                continue
            mine = [r for r in rows if r["metric"] == name]
            field = ("vm_host_ratio" if any(r["vm_host_ratio"] is not None
                                            for r in mine) else "vm_mean")
            of = "ratio" if field == "vm_host_ratio" else "VM mean"
            k = telemetry.knee([(r["active"], r[field]) for r in mine])
            if k:
                out["knees"].append(dict(zip(columns.KNEE, [
                    bench, name, of, k["level"], k["p_value"],
                    k["slopes"][0], k["slopes"][1]])))
    return out


# the netserver's CPU busy (% of all its CPUs: netperf's -C, or the
# netserver instance's own counters) at which it is saturated
NETSERVER_SATURATED_PCT = 90.0


def netserver_saturation(rows: list[dict],
                         per_level: dict | None = None) -> dict | None:
    """The first level whose netserver side is saturated while the
    clients' is not: its CPU at NETSERVER_SATURATED_PCT or more by
    netperf's remote CPU (the clients' mean) or by the netserver
    instance's own counters (``per_level``: the telemetry rows by level),
    the clients' own CPU (netperf's local CPU, else their counters) below
    it. There the k clients share one netserver, and the ratio measures
    its capacity as much as theirs. None where no level is, or no CPU was
    measured on the netserver's side."""
    by: dict = {}
    for row in rows:
        if row["metric"] in ("local_cpu_pct", "remote_cpu_pct"):
            by.setdefault(row["active"], {})[row["metric"]] = row["vm_mean"]
    for level, tel in (per_level or {}).items():
        for key in ("netserver_cpu_busy_pct", "guest_cpu_busy_pct"):
            if tel.get(key) is not None:
                by.setdefault(level, {})[key] = tel[key]
    for level, cpu in sorted(by.items()):
        server = [v for v in (cpu.get("remote_cpu_pct"),
                              cpu.get("netserver_cpu_busy_pct"))
                  if v is not None]
        client = next((v for v in (cpu.get("local_cpu_pct"),
                                   cpu.get("guest_cpu_busy_pct"))
                       if v is not None), None)
        if server and max(server) >= NETSERVER_SATURATED_PCT and (
                client is None or client < NETSERVER_SATURATED_PCT):
            return {"active": level,
                    "remote_cpu_pct": cpu.get("remote_cpu_pct"),
                    "netserver_cpu_busy_pct": cpu.get(
                        "netserver_cpu_busy_pct"),
                    "local_cpu_pct": client}
    return None


def _pct(value):
    return "n/a" if value is None else "%.3g%%" % value


def sentences(record: dict) -> list[str]:
    """What explains the curve in sentences, from a record's contention
    (find) and telemetry."""
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
