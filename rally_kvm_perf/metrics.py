"""The metrics rally-kvm-perf measures, and which direction is better.

Ratios, SLAs and before/after verdicts all read the direction from here, so a
metric is declared once.
"""

from collections.abc import Iterable
import dataclasses
import typing as t

HIGHER = "higher"
LOWER = "lower"
# A value that describes the run (e.g. netperf's elapsed time), not its
# performance: it is reported but never turned into a ratio or a verdict.
NEUTRAL = "neutral"


@dataclasses.dataclass(frozen=True)
class Metric:
    name: str
    tool: str
    unit: str
    better: str
    title: str
    # The metrics the paper plots (Fig. 2-5) come first in every report.
    paper: bool = False
    # Shown in the report's summary tables with the paper's metrics (the
    # headline metrics of benchmarks the paper did not run: fio's).
    key: bool = False

    @property
    def summary(self) -> bool:
        return self.paper or self.key


# bonnie++ operations: (stem, unit suffix of the rate, title, in the paper)
BONNIE_OPERATIONS = (
    ("char_write", "kBps", "Sequential output per char", True),
    ("block_write", "kBps", "Sequential output per block", True),
    ("rewrite", "kBps", "Sequential rewrite", True),
    ("char_read", "kBps", "Sequential input per char", True),
    ("block_read", "kBps", "Sequential input per block", True),
    ("seeks", "per_s", "Random seeks", False),
    ("seq_create", "per_s", "Sequential file create", False),
    ("seq_stat", "per_s", "Sequential file stat", False),
    ("seq_delete", "per_s", "Sequential file delete", False),
    ("ran_create", "per_s", "Random file create", False),
    ("ran_stat", "per_s", "Random file stat", False),
    ("ran_delete", "per_s", "Random file delete", False),
)

_UNITS = {"kBps": "KiB/s", "per_s": "1/s"}


def _bonnie_metrics():
    for stem, suffix, title, paper in BONNIE_OPERATIONS:
        yield Metric("%s_%s" % (stem, suffix), "bonnie++", _UNITS[suffix],
                     HIGHER, title, paper)
        yield Metric("%s_cpu_pct" % stem, "bonnie++", "%", LOWER,
                     "%s, CPU" % title, paper)
        yield Metric("%s_latency_us" % stem, "bonnie++", "us", LOWER,
                     "%s, max latency" % title)


def _netperf_cpu_metrics():
    """netperf's -c/-C CPU use is a share of ALL the machine's CPUs: a
    2-vCPU instance at 50 % and a 64-CPU host at 1.6 % did the same work.
    The CPU a unit of work cost (service demand) is what gets a ratio; the
    raw shares are kept, with the CPU counts, and get none."""
    for stem, unit, better, what in (
            ("cpu_pct", "% of all CPUs", NEUTRAL,
             "CPU, %s side (share of all its CPUs)"),
            ("cpu_count", "CPUs", NEUTRAL, "CPUs, %s side"),
            ("sd_us_per_kb", "us/KB", LOWER,
             "CPU per KB, %s side (service demand)"),
            ("sd_us_per_tran", "us/transaction", LOWER,
             "CPU per transaction, %s side (service demand)")):
        for side in ("local", "remote"):
            yield Metric("%s_%s" % (side, stem), "netperf", unit, better,
                         what % side)


NETPERF_METRICS = (
    Metric("throughput_mbps", "netperf", "10^6 bit/s", HIGHER,
           "Throughput (received)", True),
    Metric("send_throughput_mbps", "netperf", "10^6 bit/s", HIGHER,
           "Throughput (sent)"),
    Metric("elapsed_s", "netperf", "s", NEUTRAL, "Elapsed time"),
    Metric("transactions_per_s", "netperf", "1/s", HIGHER,
           "Request/response transactions"),
    Metric("latency_min_us", "netperf", "us", LOWER, "Latency, minimum"),
    Metric("latency_mean_us", "netperf", "us", LOWER, "Latency, mean"),
    Metric("latency_p50_us", "netperf", "us", LOWER, "Latency, 50th percentile"),
    Metric("latency_p90_us", "netperf", "us", LOWER, "Latency, 90th percentile"),
    Metric("latency_p99_us", "netperf", "us", LOWER, "Latency, 99th percentile"),
    Metric("latency_max_us", "netperf", "us", LOWER, "Latency, maximum"),
    Metric("latency_stddev_us", "netperf", "us", LOWER,
           "Latency, standard deviation"),
    *_netperf_cpu_metrics(),
)

# fio's jobs: (job, title); 4 KiB random jobs are judged by IOPS, 1 MiB
# sequential ones by bandwidth (their key metric), all by p99 latency
FIO_JOBS = (
    ("randread", "fio 4 KiB random read", "iops"),
    ("randwrite", "fio 4 KiB random write", "iops"),
    ("seqread", "fio 1 MiB sequential read", "bw_kBps"),
    ("seqwrite", "fio 1 MiB sequential write", "bw_kBps"),
)


def _fio_metrics():
    for job, title, key in FIO_JOBS:
        for stem, unit, better, what in (
                ("iops", "1/s", HIGHER, "IOPS"),
                ("bw_kBps", "KiB/s", HIGHER, "bandwidth"),
                ("lat_mean_us", "us", LOWER, "mean latency"),
                ("lat_p50_us", "us", LOWER, "completion latency, median"),
                ("lat_p99_us", "us", LOWER,
                 "completion latency, 99th percentile"),
                ("lat_p99_9_us", "us", LOWER,
                 "completion latency, 99.9th percentile"),
                ("cpu_pct", "%", LOWER, "CPU")):
            yield Metric("%s_%s" % (job, stem), "fio", unit, better,
                         "%s, %s" % (title, what),
                         key=stem in (key, "lat_p99_us"))


BONNIE_METRICS = tuple(_bonnie_metrics())
FIO_METRICS = tuple(_fio_metrics())
METRICS = {m.name: m for m in BONNIE_METRICS + NETPERF_METRICS + FIO_METRICS}


def get(name: str) -> Metric:
    """Return the Metric called ``name``; KeyError names unknown metrics."""
    try:
        return METRICS[name]
    except KeyError:
        raise KeyError("unknown metric %r; known: %s"
                       % (name, ", ".join(sorted(METRICS)))) from None


def ordered(names: Iterable[str]) -> list[str]:
    """Sort metric names: the paper's metrics first, then declaration order."""
    order = {name: i for i, name in enumerate(METRICS)}
    return sorted(names, key=lambda n: (not METRICS[n].paper if n in METRICS
                                        else True, order.get(n, len(order)), n))


# The one number a progress line shows per run, first present wins.
HEADLINE = ("block_write_kBps", "throughput_mbps", "transactions_per_s",
            "char_write_kBps", "randread_iops", "randwrite_iops",
            "seqread_bw_kBps", "seqwrite_bw_kBps")


def headline(values: dict[str, t.Any]) -> tuple[str, t.Any] | None:
    """(name, value) of the first headline metric in ``values`` that was
    measured, or None."""
    for key in HEADLINE:
        if values.get(key) is not None:
            return key, values[key]
    return None


# The paper's bonnie++ metrics (Fig. 3: sequential I/O; Fig. 2: its CPU).
PAPER_IO = tuple("%s_%s" % (stem, rate)
                 for stem, rate, _t, paper in BONNIE_OPERATIONS if paper)
PAPER_CPU = tuple("%s_cpu_pct" % stem
                  for stem, _r, _t, paper in BONNIE_OPERATIONS if paper)


# the benchmarks in report order: the paper's first
BENCH_ORDER = ("bonnie++", "netperf:TCP_STREAM", "netperf:UDP_STREAM",
               "netperf:TCP_RR", "fio")


def bench_order(names: Iterable[str]) -> list[str]:
    return sorted(names, key=lambda b: (BENCH_ORDER.index(b)
                                        if b in BENCH_ORDER else 99, b))
