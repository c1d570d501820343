"""A host baseline is the denominator of a sweep's ratios only if it ran
the same benchmarks the same way (host/baseline.differences): pure, no
host, no sshd."""

import dataclasses

from rally_kvm_perf.benchmarks import params
from rally_kvm_perf.host import baseline

BONNIE = params.BonnieParams(directory="/var/tmp", size_mb=256, files=0,
                             fast=True, extra_args=("-D",))
FIO = params.FioParams(directory="/var/tmp", jobs=("randread", "seqwrite"))
NETPERF = params.NetperfParams(host="10.0.0.5", port=12865,
                               tests=("TCP_STREAM", "TCP_RR"), duration=5)


def _doc(bonnie=BONNIE, fio=FIO, netperf=NETPERF):
    """A baseline document's parameters as the baseline writes them."""
    out = {}
    if bonnie:
        out["bonnie"] = dict(dataclasses.asdict(bonnie),
                             files=str(bonnie.files),
                             extra_args=list(bonnie.extra_args))
    if fio:
        out["fio"] = dict(dataclasses.asdict(fio), jobs=list(fio.jobs),
                          extra_args=list(fio.extra_args))
    if netperf:
        out["netperf"] = dict(dataclasses.asdict(netperf),
                              tests=list(netperf.tests))
    return {"parameters": out}


def test_the_same_benchmarks_have_no_difference():
    assert baseline.differences(_doc(), BONNIE, NETPERF, FIO) == []
    # a tool the sweep does not run is not compared
    assert baseline.differences(_doc(bonnie=None), None, NETPERF) == []


def test_each_difference_is_named_with_both_values():
    found = baseline.differences(
        _doc(),
        dataclasses.replace(BONNIE, size_mb=512, extra_args=()),
        dataclasses.replace(NETPERF, tests=("UDP_STREAM",), cpu=True),
        dataclasses.replace(FIO, jobs=("randwrite",), iodepth=4))
    assert found == [
        "bonnie++ size_mb: host baseline 256, instances 512",
        "bonnie++ extra_args: host baseline ['-D'], instances []",
        "fio jobs randwrite: not in the host baseline (randread, seqwrite)",
        "fio iodepth: host baseline 16, instances 4",
        "netperf tests UDP_STREAM: not in the host baseline "
        "(TCP_STREAM, TCP_RR)",
        "netperf cpu: host baseline False, instances True",
    ]


def test_a_tool_the_baseline_did_not_run_is_said():
    assert baseline.differences(_doc(bonnie=None, fio=None), BONNIE,
                                None, FIO) == [
        "bonnie++: the host baseline has no bonnie++ run",
        "fio: the host baseline has no fio run"]


def test_another_netperf_path_is_refused():
    other = dataclasses.replace(NETPERF, host="10.0.0.6")
    assert baseline.differences(_doc(), None, other) == [
        "netperf target: host baseline measured against 10.0.0.5:12865, "
        "instances against 10.0.0.6:12865 (another path)"]
    peer = dataclasses.replace(NETPERF, host="peer")
    assert "the instances measure against the peer instance" in \
        baseline.differences(_doc(), None, peer)[0]
