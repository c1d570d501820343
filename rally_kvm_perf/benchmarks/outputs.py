"""One entry point from a benchmark's name and output to its metrics, shared
by the host baseline and the instance sweep."""

from rally_kvm_perf import metrics
from rally_kvm_perf.benchmarks import bonnie
from rally_kvm_perf.benchmarks import netperf

BONNIE = "bonnie++"
NETPERF_PREFIX = "netperf:"


def netperf_name(test):
    return NETPERF_PREFIX + test


def parse_metrics(name, text):
    """Parse the output of benchmark ``name``.

    :param name: ``"bonnie++"`` or ``"netperf:TEST"`` (TCP_STREAM, ...)
    :returns: ({metric: value}, [warnings]). bonnie++: the metrics it ran,
        None for those it ran too fast to time ("+++++": never averaged
        away later), none for those it did not run (-f, -n 0); netperf
        only the metrics its test reports.
    :raises ParseError: on malformed output
    """
    if name == BONNIE:
        row = bonnie.parse(text)[-1]
        too_fast = set(row["too_fast"])
        return {k: v for k, v in row.items() if k in metrics.METRICS
                and (v is not None or k in too_fast)}, []
    if name.startswith(NETPERF_PREFIX):
        parsed = netperf.parse(text, test=name[len(NETPERF_PREFIX):])
        values = {k: v for k, v in parsed.items()
                  if k in metrics.METRICS and v is not None}
        return values, list(parsed["warnings"])
    raise ValueError("unknown benchmark %r" % name)
