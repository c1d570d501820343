"""The results record's field names and the titles people read.

The record (results.py) and everything that reads it (SLAs, findings,
density, the exporter) use the identifiers; only the charts and the HTML
page show the titles. Records of schema 1, and Rally output from before
the record, were keyed by the titles: ``identifiers`` renames them.
"""

from collections.abc import Iterable

# identifier -> title, for every table of the record
TITLES = {
    "benchmark": "Benchmark", "metric": "Metric", "active": "Active",
    "iteration": "Iteration",
    # per level
    "n": "n", "unmeasured": "Unmeasured",
    "vm_mean": "VM mean", "vm_stddev": "VM stddev",
    "vm_ci_low": "VM 95% low", "vm_ci_high": "VM 95% high",
    "host_mean": "Host mean", "host_stddev": "Host stddev",
    "host_ci_low": "Host 95% low", "host_ci_high": "Host 95% high",
    "vm_host_ratio": "VM/host", "ratio_ci_low": "Ratio 95% low",
    "ratio_ci_high": "Ratio 95% high",
    "instance_ratio_min": "Instance ratio min",
    "instance_ratio_max": "Instance ratio max",
    "fairness": "Fairness (Jain)", "aggregate_mean": "Aggregate mean",
    "aggregate_host_ratio": "Aggregate/host", "note": "Note",
    # fitted lines
    "fitted": "Fitted", "slope": "Slope", "intercept": "Intercept",
    "r2": "R²", "slope_stderr": "Slope std err", "levels": "Levels",
    "slope_ci_low": "Slope 95% low", "slope_ci_high": "Slope 95% high",
    # how the runs overlapped
    "runs": "Runs", "start_skew_mean_s": "Start skew mean s",
    "start_skew_max_s": "Start skew max s", "overlap_mean": "Overlap mean",
    "overlap_min": "Overlap min",
    "client_start_skew_max_s": "Client start skew max s",
    "client_overlap_min": "Client overlap min",
    "clock_uncertainty_s": "Clock uncertainty s",
    "measured_in": "Measured in",
    # knees of the ratio curves
    "of": "Of", "knee_at": "Knee at", "p_value": "p",
    "slope_before": "Slope before", "slope_after": "Slope after",
    # contention telemetry (its own fields are identifiers already)
    "repetitions": "Repetitions",
    # density
    "threshold": "Threshold", "instances": "Instances",
    "ci_low": "95% low", "ci_high": "95% high",
    "extrapolated": "Extrapolated", "levels_measured": "Levels measured",
    "how": "How",
    # compute hosts
    "host": "Host", "feature": "Feature", "state": "State",
    "evidence": "Evidence", "cpu": "CPU", "cpus": "CPUs",
    "ram_mib": "RAM MiB", "kernel": "Kernel", "hypervisor": "Hypervisor",
    # instances' pinning
    "instance": "Instance", "domain": "Domain", "pinned": "Pinned",
    "vcpu_to_cpu": "vCPU→CPU", "emulator": "Emulator",
    "runtime_pinned_to": "Runtime pinned to",
}
BY_TITLE = {title: key for key, title in TITLES.items()}
# one identifier per title: a schema-1 row renames without guessing
assert len(BY_TITLE) == len(TITLES)

LEVEL = ("metric", "active", "n", "unmeasured", "vm_mean", "vm_stddev",
         "vm_ci_low", "vm_ci_high", "host_mean", "host_stddev",
         "host_ci_low", "host_ci_high", "vm_host_ratio", "ratio_ci_low",
         "ratio_ci_high", "instance_ratio_min", "instance_ratio_max",
         "fairness", "aggregate_mean", "aggregate_host_ratio", "note")
FIT = ("benchmark", "metric", "fitted", "slope", "intercept", "r2",
       "slope_stderr", "levels", "slope_ci_low", "slope_ci_high")
OVERLAP = ("benchmark", "active", "runs", "start_skew_mean_s",
           "start_skew_max_s", "overlap_mean", "overlap_min",
           "client_start_skew_max_s", "client_overlap_min",
           "clock_uncertainty_s", "measured_in")
KNEE = ("benchmark", "metric", "of", "knee_at", "p_value", "slope_before",
        "slope_after")
DENSITY = ("benchmark", "metric", "threshold", "instances", "ci_low",
           "ci_high", "extrapolated", "levels_measured", "how")
HOSTS = ("host", "feature", "state", "evidence", "cpu", "cpus", "ram_mib",
         "kernel", "hypervisor")
PINNING = ("instance", "hypervisor", "domain", "pinned", "vcpu_to_cpu",
           "emulator", "runtime_pinned_to")


def titles(keys: Iterable[str]) -> list[str]:
    """The titles of ``keys`` (a key without one shows as it is)."""
    return [TITLES.get(k, k) for k in keys]


def identifiers(row: dict) -> dict:
    """A row keyed by titles (schema 1, a display table) keyed by the
    identifiers; keys that are identifiers already stay."""
    return {BY_TITLE.get(k, k): v for k, v in row.items()}


def shown(value: object) -> object:
    """A host or pinning cell as a person reads it: "n/a" for nothing,
    yes/no, a vCPU map as "0→1, 1→2" ("none" when empty)."""
    if value is None or value == "":
        return "n/a"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict):
        return ", ".join("%s→%s" % kv for kv in sorted(value.items())) \
            or "none"
    return value

