"""Contention telemetry: why a ratio falls (pure functions, no I/O).

During every run the kernel's own counters are read twice, just before the
benchmark starts and just after it ends, in each active instance
(``/proc/stat``, ``/proc/diskstats``, ``/proc/net/dev``) and on each compute
host (``/proc/stat``, ``/proc/diskstats`` and every measured instance's qemu
process and vhost threads, ``/proc/PID/stat``). The counters are cumulative,
so the difference over the run gives its exact means -- steal, iowait, CPU
use, disk utilisation and queue, packets and drops -- with nothing running
beside the benchmark while it runs: nothing to perturb it, no extra package
in the guest.

Per level the means of the repetitions are reported beside the ratios, and
the first resource that saturates is named with the instance count where
it does (``saturation``); ``knee`` finds where a fitted straight line stops
describing a ratio curve.
"""

from collections.abc import Iterable
import functools
import math
import re

import numpy

from rally_kvm_perf.analysis import stats

BEGIN = "KVMPERF-TELEMETRY-BEGIN"
END = "KVMPERF-TELEMETRY-END"
GUEST_FILES = ("/proc/stat", "/proc/diskstats", "/proc/net/dev")

# (key, title, unit) of what a run's telemetry holds, in report order
GUEST = (
    ("guest_steal_pct", "guest CPU steal", "%"),
    ("guest_iowait_pct", "guest iowait", "%"),
    ("guest_cpu_busy_pct", "guest CPU busy (user+system+irq)", "%"),
    ("guest_disk_util_pct", "guest disk utilisation", "%"),
    ("guest_disk_queue", "guest disk queue (mean I/Os in flight)", "I/Os"),
    ("guest_net_pps", "guest NIC packets (rx+tx)", "1/s"),
    ("guest_net_drops", "guest NIC drops (rx+tx)", "count"),
)
HOST = (
    ("host_cpu_busy_pct", "host CPU busy (all cores)", "%"),
    ("host_cpu_max_core_pct", "host busiest core", "%"),
    ("host_iowait_pct", "host iowait", "%"),
    ("host_disk_util_pct", "host disk utilisation", "%"),
    ("qemu_cpu_pct", "qemu CPU per instance (100 = one core)", "%"),
    ("vhost_cpu_pct", "vhost threads per instance", "%"),
)
# netperf's netserver instance(s) ("peer"/"peers"), read while their
# clients run: whether the server, not the clients, set the pace
NETSERVER = (
    ("netserver_cpu_busy_pct", "netserver instance CPU busy", "%"),
    ("netserver_steal_pct", "netserver instance CPU steal", "%"),
)
FIELDS = GUEST + HOST + NETSERVER
TITLES = {key: title for key, title, _u in FIELDS}
UNITS = {key: unit for key, _t, unit in FIELDS}
# A resource is saturated at a level whose mean reaches this (the first one,
# in this order, is named): the host's CPUs, its disk, the guest's disk,
# the guest waiting for a CPU the host gave to someone else
SATURATION = (
    ("host_cpu_busy_pct", 90.0, "the host's CPUs"),
    ("host_cpu_max_core_pct", 95.0, "one host CPU core"),
    ("host_disk_util_pct", 90.0, "the host's disk"),
    ("guest_disk_util_pct", 90.0, "the instances' virtual disk"),
    ("guest_steal_pct", 20.0, "CPU time (steal: vCPUs waiting for the host)"),
)

_IGNORED_DISK = re.compile(r"^(loop|ram|sr|fd|zram|nbd|dm-|md)\d")
_PROC_STAT = re.compile(r"^\d+ \(.*\) ")


def snapshot_script(files: Iterable[str] = GUEST_FILES) -> str:
    """Shell words that print the counters between BEGIN and END markers
    (one ``cat``: the files are read within a millisecond)."""
    return "echo %s; cat %s 2>/dev/null; echo %s" % (
        BEGIN, " ".join(files), END)


def host_argv(domains: Iterable[str]) -> list[str]:
    """argv printing the compute host's counters and, per libvirt domain,
    its qemu process and vhost threads (``/proc/PID/stat``)."""
    script = (
        'echo %s; echo "CLK_TCK $(getconf CLK_TCK)"; '
        'cat /proc/stat /proc/diskstats; '
        'for d in "$@"; do '
        'p=$(cat "/run/libvirt/qemu/$d.pid" 2>/dev/null) || continue; '
        'echo "QEMU $d $(cat /proc/$p/stat 2>/dev/null)"; '
        'for t in $(pgrep -x "vhost-$p" 2>/dev/null); do '
        'echo "VHOST $d $(cat /proc/$t/stat 2>/dev/null)"; done; '
        'done; echo %s' % (BEGIN, END))
    return ["sh", "-c", script, "sh"] + [str(d) for d in domains]


def split(text: str | None) -> tuple[str, list[str]]:
    """(text without telemetry blocks, [block, ...])."""
    kept: list[str] = []
    blocks: list[str] = []
    block: list[str] | None = None
    for line in (text or "").splitlines(True):
        stripped = line.strip()
        if stripped == BEGIN:
            block = []
            continue
        if stripped == END and block is not None:
            blocks.append("".join(block))
            block = None
            continue
        (block if block is not None else kept).append(line)
    if block is not None:        # an unfinished block is not a snapshot
        kept.extend(block)
    return "".join(kept), blocks


def parse(text: str | None) -> dict:
    """Counters of one snapshot: {"cpu": [...], "cores": {name: [...]},
    "disks": {dev: (ios, io_ticks_ms, weighted_ms)}, "nics": {iface:
    (packets, drops)}, "qemu": {domain: ticks}, "vhost": {domain: ticks},
    "clk_tck": int or None}."""
    snap: dict = {"cpu": None, "cores": {}, "disks": {}, "nics": {},
                  "qemu": {}, "vhost": {}, "clk_tck": None}
    for line in (text or "").splitlines():
        parts = line.split()
        if not parts:
            continue
        head = parts[0]
        try:
            if head == "cpu":
                snap["cpu"] = [int(x) for x in parts[1:9]]
            elif re.match(r"^cpu\d+$", head):
                snap["cores"][head] = [int(x) for x in parts[1:9]]
            elif head == "CLK_TCK":
                snap["clk_tck"] = int(parts[1])
            elif head in ("QEMU", "VHOST") and len(parts) > 2:
                ticks = _proc_ticks(line.split(None, 2)[2])
                if ticks is not None:
                    key = "qemu" if head == "QEMU" else "vhost"
                    snap[key][parts[1]] = snap[key].get(parts[1], 0) + ticks
            elif len(parts) >= 14 and parts[0].isdigit() \
                    and parts[1].isdigit():
                # /proc/diskstats: major minor name reads ... (field 13:
                # io_ticks, 14: weighted time in queue, both ms)
                snap["disks"][parts[2]] = (int(parts[3]) + int(parts[7]),
                                           int(parts[12]), int(parts[13]))
            elif head.endswith(":") and len(parts) >= 17:
                # /proc/net/dev: iface: rx bytes packets errs drop ... tx
                # bytes packets errs drop ...
                snap["nics"][head[:-1]] = (int(parts[2]) + int(parts[10]),
                                           int(parts[4]) + int(parts[12]))
        except (ValueError, IndexError):
            continue    # a line of another shape: not a counter we read
    return snap


def _proc_ticks(stat):
    """utime + stime of a /proc/PID/stat line (the name may hold spaces)."""
    if not _PROC_STAT.match(stat or ""):
        return None
    fields = stat[stat.rindex(")") + 2:].split()
    try:
        return int(fields[11]) + int(fields[12])
    except (IndexError, ValueError):
        return None


def _cpu_pcts(before, after):
    """{user..steal: %} of the time between two cpu lines."""
    if not before or not after:
        return None
    delta = [max(a - b, 0) for a, b in zip(after, before)]
    total = sum(delta)
    if total <= 0:
        return None
    user, nice, system, idle, iowait, irq, softirq, steal = (
        delta + [0] * 8)[:8]
    return {"busy": 100.0 * (user + nice + system + irq + softirq) / total,
            "iowait": 100.0 * iowait / total, "steal": 100.0 * steal / total,
            "idle": 100.0 * idle / total}


def _whole_disks(disks):
    names = [d for d in disks if not _IGNORED_DISK.match(d)]

    def partition(name: str) -> bool:
        m = re.match(r"^(.*\d)p\d+$", name) or re.match(r"^(\D+)\d+$", name)
        return m is not None and m.group(1) in disks
    return [d for d in names if not partition(d)]


def _busiest_disk(before, after):
    """(name, ios, io_ticks_ms, weighted_ms) of the whole disk that did the
    most I/O between the snapshots, or None."""
    best = None
    for name in _whole_disks(after["disks"]):
        if name not in before["disks"]:
            continue
        d = [a - b for a, b in zip(after["disks"][name],
                                   before["disks"][name])]
        if best is None or (d[0], d[1]) > (best[1], best[2]):
            best = (name, d[0], d[1], d[2])
    return best


def guest_usage(before_text: str, after_text: str,
                seconds: float | None) -> dict | None:
    """A run's means in one instance from its two snapshots, or None."""
    before, after = parse(before_text), parse(after_text)
    cpu = _cpu_pcts(before["cpu"], after["cpu"])
    if cpu is None or not seconds or seconds <= 0:
        return None
    out = {"guest_steal_pct": cpu["steal"], "guest_iowait_pct": cpu["iowait"],
           "guest_cpu_busy_pct": cpu["busy"]}
    disk = _busiest_disk(before, after)
    if disk:
        name, _ios, ticks, weighted = disk
        out.update({"guest_disk": name,
                    "guest_disk_util_pct": min(100.0, ticks / (10.0 * seconds)),
                    "guest_disk_queue": weighted / (1000.0 * seconds)})
    pps = drops = 0
    nics = 0
    for iface, (packets, dropped) in after["nics"].items():
        if iface == "lo" or iface not in before["nics"]:
            continue
        nics += 1
        pps += packets - before["nics"][iface][0]
        drops += dropped - before["nics"][iface][1]
    if nics:
        out["guest_net_pps"] = pps / seconds
        out["guest_net_drops"] = float(drops)
    return out


def host_usage(before_text: str, after_text: str | None,
               seconds: float | None) -> dict | None:
    """A run's means on one compute host, or None: CPU (all cores, the
    busiest core), iowait, its busiest disk, and per domain its qemu
    process's and vhost threads' CPU (100 = one core)."""
    before, after = parse(before_text), parse(after_text)
    cpu = _cpu_pcts(before["cpu"], after["cpu"])
    if cpu is None or not seconds or seconds <= 0:
        return None
    out = {"host_cpu_busy_pct": cpu["busy"], "host_iowait_pct": cpu["iowait"]}
    cores = [_cpu_pcts(before["cores"].get(c), after["cores"][c])
             for c in after["cores"]]
    cores = [c["busy"] for c in cores if c]
    if cores:
        out["host_cpu_max_core_pct"] = max(cores)
    disk = _busiest_disk(before, after)
    if disk:
        out["host_disk"] = disk[0]
        out["host_disk_util_pct"] = min(100.0, disk[2] / (10.0 * seconds))
    tck = after["clk_tck"] or 100
    for key in ("qemu", "vhost"):
        per = {d: 100.0 * (ticks - before[key][d]) / tck / seconds
               for d, ticks in after[key].items() if d in before[key]}
        if per:
            out["%s_cpu_pct_by_domain" % key] = per
    return out


def level_means(runs: Iterable[dict], benchmark: str,
                level: int) -> dict[str, tuple[float, int]]:
    """{field: (mean over repetitions, n)} at one level: in each repetition
    the mean over its instances (guest) or the domains and hosts (host),
    then the mean of the repetitions -- the repetition is the unit."""
    per: dict[str, list[float]] = {key: [] for key, _t, _u in FIELDS}
    for run in runs:
        if (run.get("benchmark"), run.get("level")) != (benchmark, level):
            continue
        guest = [i.get("telemetry") or {} for i in run.get("instances", [])]
        for key, _t, _u in GUEST:
            values = [g[key] for g in guest if g.get(key) is not None]
            if values:
                per[key].append(stats.mean(values))
        hosts = list((run.get("host_telemetry") or {}).values())
        for key, _t, _u in HOST:
            if key in ("qemu_cpu_pct", "vhost_cpu_pct"):
                name = key.replace("_pct", "_pct_by_domain")
                values = [v for h in hosts
                          for v in (h.get(name) or {}).values()]
            else:
                values = [h[key] for h in hosts if h.get(key) is not None]
            if values:
                per[key].append(stats.mean(values))
        served = [u for u in (run.get("netserver_telemetry") or {}).values()
                  if u and "error" not in u]
        for key, source in (("netserver_cpu_busy_pct", "guest_cpu_busy_pct"),
                            ("netserver_steal_pct", "guest_steal_pct")):
            values = [u[source] for u in served if u.get(source) is not None]
            if values:
                per[key].append(stats.mean(values))
    return {key: (stats.mean(v), len(v)) for key, v in per.items() if v}


def saturation(
        per_level: dict[int, dict]) -> tuple[str, float, str, int] | None:
    """The first resource to saturate: (field, threshold, what, level) at
    the lowest level where a mean reaches its threshold (ties: SATURATION's
    order), or None. ``per_level``: {level: {field: mean or None}}."""
    for level in sorted(per_level):
        for key, threshold, what in SATURATION:
            mean = per_level[level].get(key)
            if mean is not None and mean >= threshold:
                return key, threshold, what, level
    return None


MIN_KNEE_LEVELS = 5


# Monte Carlo draws of the knee statistic under "one straight line"
KNEE_SIMULATIONS = 9999
KNEE_SEED = 2016


def knee(points: list[tuple[float, float | None]],
         alpha: float = 0.05) -> dict | None:
    """Where a straight line stops describing ``points`` [(k, value)]:
    the best split into two fitted lines (each of at least two levels)
    against one line, kept when the two lines explain significantly more
    than one (p < alpha). Returns {"level": first level of the second line,
    "p_value", "slopes": (before, after)} or None (fewer than
    MIN_KNEE_LEVELS levels, or no significant split).

    The split is the one that fits best, so its F statistic is the largest
    of several: read against the F distribution, as if the split had been
    fixed in advance, straight lines showed a "knee" in 25 % of noisy
    sweeps at a nominal 5 %. The p-value here is that of the largest F
    (a sup-F test): its distribution under one straight line with normal
    noise does not depend on the line or the noise's size, only on the
    levels, so KNEE_SIMULATIONS draws of pure noise at these levels give it
    (seeded: the same points always get the same answer). Its calibration
    is tests/unit/test_calibration.py's."""
    pts = sorted((float(k), float(v)) for k, v in points
                 if v is not None and math.isfinite(v))
    n = len(pts)
    if n < MIN_KNEE_LEVELS:
        return None
    xs = tuple(p[0] for p in pts)
    sse1, sse2 = _split_sse(numpy.array([[p[1] for p in pts]]), xs)
    if sse1[0] <= 0:
        return None   # exactly one line
    f = _sup_f(sse1, sse2, n)[0]
    null = _knee_null(xs)
    p = (1 + int(numpy.count_nonzero(null >= f))) / (len(null) + 1.0)
    if p >= alpha:
        return None
    i = _knee_projections(xs)[1][int(numpy.argmin(sse2[:, 0]))][0]
    return {"level": int(pts[i][0]), "p_value": p,
            "slopes": (_slope(pts[:i]), _slope(pts[i:]))}


def _split_sse(ys, xs):
    """Residual sums of squares of each row y of ys (B x n) at levels xs:
    of one line (B) and of two lines at every split (splits x B)."""
    residual_one, splits = _knee_projections(xs)

    def sse(m: int) -> float:
        return numpy.einsum("bi,ij,bj->b", ys, m, ys)
    return sse(residual_one), numpy.array([sse(m) for _, m in splits])


def _sup_f(sse1, sse2, n):
    """The largest F over the splits: sse1 (B), sse2 (splits x B)."""
    least = sse2.min(axis=0)
    with numpy.errstate(divide="ignore", invalid="ignore"):
        f = ((sse1 - least) / 2.0) / (least / (n - 4))
    return numpy.where(least > 0, f, numpy.inf)


@functools.lru_cache(maxsize=64)
def _knee_projections(xs):
    """The residual makers (I - H) of one line through all levels, and of
    two lines split before each index i (two levels at least each side)."""
    n = len(xs)
    x = numpy.array(xs)
    one = numpy.ones(n)

    def residual(design: numpy.ndarray) -> numpy.ndarray:
        return numpy.eye(n) - design @ numpy.linalg.pinv(design)

    splits = []
    for i in range(2, n - 1):
        left = (numpy.arange(n) < i).astype(float)
        design = numpy.column_stack([left, left * x, 1 - left,
                                     (1 - left) * x])
        splits.append((i, residual(design)))
    return residual(numpy.column_stack([one, x])), splits


@functools.lru_cache(maxsize=64)
def _knee_null(xs):
    """KNEE_SIMULATIONS draws of the sup-F statistic for pure normal noise
    at these levels (its null distribution, whatever the line and sd)."""
    noise = numpy.random.default_rng(KNEE_SEED).standard_normal(
        (KNEE_SIMULATIONS, len(xs)))
    return _sup_f(*_split_sse(noise, xs), len(xs))


def _slope(pts):
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    return (sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx
            if sxx else 0.0)
