"""One entry point from a benchmark's name and output to its metrics, shared
by the host baseline and the instance sweep."""

from rally_kvm_perf import metrics
from rally_kvm_perf.benchmarks import bonnie
from rally_kvm_perf.benchmarks import fio
from rally_kvm_perf.benchmarks import netperf

BONNIE = "bonnie++"
FIO = "fio"
# the disk benchmarks: page caches are dropped before them
DISK = (BONNIE, FIO)
NETPERF_PREFIX = "netperf:"


def netperf_name(test: str) -> str:
    return NETPERF_PREFIX + test


def parse_metrics(name: str,
                  text: str) -> tuple[dict[str, float | None], list[str]]:
    """Parse the output of benchmark ``name``.

    :param name: ``"bonnie++"``, ``"fio"`` or ``"netperf:TEST"``
        (TCP_STREAM, ...)
    :returns: ({metric: value}, [warnings]). bonnie++: the metrics it ran,
        None for those it ran too fast to time ("+++++": never averaged
        away later), none for those it did not run (-f, -n 0); netperf
        only the metrics its test reports; fio every metric of the jobs it
        ran (a percentile it did not report: None).
    :raises ParseError: on malformed output
    """
    if name == BONNIE:
        row = bonnie.parse(text)[-1]
        too_fast = set(row["too_fast"])
        return {k: v for k, v in row.items() if k in metrics.METRICS
                and (v is not None or k in too_fast)}, []
    if name == FIO:
        values = {}
        for job_values in fio.parse(text)["jobs"].values():
            values.update(job_values)
        return values, []
    if name.startswith(NETPERF_PREFIX):
        parsed = netperf.parse(text, test=name[len(NETPERF_PREFIX):])
        values = {k: v for k, v in parsed.items()
                  if k in metrics.METRICS and v is not None}
        return values, list(parsed["warnings"])
    raise ValueError("unknown benchmark %r" % name)


def failure(name: str, text: str) -> str | None:
    """What benchmark ``name`` said in its own output of why it failed,
    where its last line does not say it (fio's JSON), or None."""
    return fio.failure(text) if name == FIO else None
