"""What the instances' values are divided by: the host baselines of a sweep.

A baseline comes from one of three places: the kvm_perf_baseline context
(one per compute host), a file from ``rally-kvm-perf baseline``
(``host_baseline``), or, for netperf's netserver "peer", measured in this
run on each compute host against the peer instance (``peer_baseline``).
Whichever it is, it must have been taken with the instances' benchmark
parameters (else the ratio compares two benchmarks: refused), and the
report says which path each side measured and which tool versions ran.
"""

import dataclasses
import typing as t

from rally.task import atomic

from rally_kvm_perf import exceptions
from rally_kvm_perf.analysis import levels as analysis
from rally_kvm_perf.benchmarks import params
from rally_kvm_perf.host import baseline
from rally_kvm_perf.host import runner as host_runner
from rally_kvm_perf.task.contexts import common
from rally_kvm_perf.task.scenarios.kvm_perf import progress

NO_BASELINE = ("no host baseline (give host_baseline, a file from "
               "'rally-kvm-perf baseline', or use the kvm_perf_baseline "
               "context): ratios are absent, absolute values only")


@dataclasses.dataclass
class Baselines:
    """The samples by compute host (analysis.ANY_HOST: the one baseline
    given for every host), the documents they came from, and what the
    report must say about them."""

    samples: t.Dict[str, dict] = dataclasses.field(default_factory=dict)
    docs: t.Dict[str, dict] = dataclasses.field(default_factory=dict)
    notes: t.List[str] = dataclasses.field(default_factory=list)
    # why there is none, said first in the report
    missing: t.Optional[str] = None


def version_notes(targets, docs, tools) -> t.List[str]:
    """A ratio of two different versions of a tool measures the tools too:
    say so wherever host and instances ran different versions."""
    notes = []
    for tool in tools:
        if tool == "netserver":
            continue
        vm = sorted({tg.tools.get(tool) for tg in targets
                     if getattr(tg, "tools", None) and tg.tools.get(tool)})
        for host, doc in sorted(docs.items(), key=lambda kv: str(kv[0])):
            version = (doc.get("tools") or {}).get(tool)
            if version and vm and vm != [version]:
                notes.append("WARNING: %s %s on the host (%s) but %s in the "
                             "instances: the ratio compares two versions"
                             % (tool, version, host, ", ".join(vm)))
    return notes


def path_note(host, doc, netperf_params) -> str:
    """Which path each side of a netperf ratio measured (report notes)."""
    n = (doc.get("parameters") or {}).get("netperf") or {}
    return ("netperf path: the instances measured against %s:%s, the host "
            "baseline of %s against %s:%s" % (
                netperf_params.host, netperf_params.port, host,
                n.get("host"), n.get("port")))


def load(context: t.Optional[dict], path: t.Optional[str],
         wanted: params.Wanted, peer_baseline: bool) -> Baselines:
    """The baselines the context measured, else the file at ``path``;
    none (said in the notes) without either; none yet with
    ``peer_baseline`` (measured once the peer is up)."""
    netperf_params = wanted.netperf
    if context:  # keyed by hypervisor host name (kvm_perf_baseline)
        for hv, doc in context.items():
            diffs = baseline.differences(doc, *wanted)
            if diffs:
                raise exceptions.InvalidArgument(
                    "the kvm_perf_baseline context measured %s with other "
                    "parameters than the instances use: %s"
                    % (hv, "; ".join(diffs)))
        return Baselines(
            samples={hv: analysis.baseline_samples(doc)
                     for hv, doc in context.items()},
            docs=dict(context),
            notes=[path_note(hv, doc, netperf_params)
                   for hv, doc in sorted(context.items())
                   if netperf_params is not None and hv != "*"])
    if not path:
        return Baselines(missing=None if peer_baseline else NO_BASELINE)
    doc = baseline.load(path)
    diffs = baseline.differences(doc, *wanted)
    if diffs:
        raise exceptions.InvalidArgument(
            "host baseline %s was taken with other parameters than the "
            "instances use (a ratio of different benchmarks is "
            "meaningless): %s" % (path, "; ".join(diffs)))
    samples = analysis.baseline_samples(doc)
    host = (doc.get("facts") or {}).get("hostname") or doc.get("host")
    return Baselines(
        samples={analysis.ANY_HOST: samples, host: samples},
        docs={host: doc},
        notes=([path_note(host, doc, netperf_params)]
               if netperf_params is not None else []))


def check_peer_baseline(context: dict, host_baseline: t.Optional[str]):
    """peer_baseline: the only baseline, and a way to reach the hosts --
    checked before anything boots."""
    shared = context.get(common.KEY, {})
    if host_baseline or shared.get("baselines"):
        raise exceptions.InvalidArgument(
            "peer_baseline measures the host baseline in this run; it "
            "cannot be combined with %s" % (
                "host_baseline" if host_baseline
                else "the kvm_perf_baseline context"))
    if "hypervisors" not in shared:
        raise exceptions.InvalidArgument(
            "peer_baseline runs netperf on the compute hosts: add the "
            "kvm_perf_hypervisors context (how to reach them: ssh, "
            "hosts, or local: true on an all-in-one cloud)")


def _hosts_of(targets, hypervisors) -> t.List[str]:
    unknown = [tg.name for tg in targets if tg.hypervisor is None]
    if unknown:
        raise exceptions.SweepFailed(
            "peer_baseline: the compute host of %s is unknown (admin "
            "lookup failed), so no host baseline can be measured for it"
            % ", ".join(unknown))
    hosts = sorted({tg.hypervisor for tg in targets})
    missing = [h for h in hosts if h not in hypervisors]
    if missing:
        raise exceptions.SweepFailed(
            "peer_baseline: %s not inspected by kvm_perf_hypervisors "
            "(its 'only' list?): cannot measure its baseline"
            % ", ".join(missing))
    return hosts


def _measure_one(name, hypervisor, wanted, peer_ip):
    runner = host_runner.for_host(hypervisor)
    try:
        doc = baseline.measure(runner, wanted)
    except exceptions.KVMPerfError as e:
        raise exceptions.SweepFailed(
            "peer_baseline on %s against %s failed: %s"
            % (name, peer_ip, e)) from None
    finally:
        runner.close()
    if doc.get("errors"):
        raise exceptions.SweepFailed(
            "peer_baseline on %s against %s: %s" % (
                name, peer_ip,
                "; ".join(str(x) for x in doc["errors"])))
    return doc


def measure_peer(scenario, peer_ip: str, targets, repetitions: int,
                 netperf_params: params.NetperfParams) -> Baselines:
    """The fair baseline of netserver "peer": each compute host that
    holds a measured instance runs the same netperf tests, as many
    times as a level is repeated, against the same peer instance, in
    this run, before the sweep."""
    hypervisors = scenario.context[common.KEY]["hypervisors"]
    hosts = _hosts_of(targets, hypervisors)
    host, port = peer_ip.rsplit(":", 1)
    wanted = params.BaselineParams(
        runs=repetitions, bonnie=None, drop_caches=False,
        netperf=dataclasses.replace(netperf_params, host=host,
                                    port=int(port)))
    docs = {}
    with atomic.ActionTimer(scenario, "kvm_perf.peer_baseline"):
        for hv in hosts:
            progress.say("host baseline of %s against the peer netserver "
                         "%s (%d run(s))" % (hv, peer_ip, repetitions))
            docs[hv] = _measure_one(hv, hypervisors[hv], wanted, peer_ip)
    return Baselines(
        samples={hv: analysis.baseline_samples(doc)
                 for hv, doc in docs.items()},
        docs=docs,
        notes=["host baseline: measured in this run on %s against the peer "
               "instance's netserver %s, the same target as the instances"
               % (", ".join(hosts), peer_ip)])
