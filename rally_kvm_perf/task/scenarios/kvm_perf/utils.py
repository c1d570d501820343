"""Shared helper actions of the KVMPerf sweep scenarios (bonnie.py,
fio.py, netperf.py), as rally-openstack keeps its VM scenarios' in
``task/scenarios/vm/utils.py``.

One Rally iteration of a sweep, in the order it happens:

1. plan (rally_kvm_perf.sweep.plan): the run() arguments checked together,
   the levels, placements and root disks decided before anything boots;
2. baselines (baselines.py): what the instances' values will be divided by;
3. fleet (fleet.py): the servers booted once, placement checked;
   pinning applied and read back (domains.py);
4. guests (guests.py): SSH, the end of each guest's boot, the tools;
5. engine (rally_kvm_perf.sweep.engine): for each number k of active
   instances and each repetition, the benchmark in the first k instances
   at the same time;
6. record: rally_kvm_perf.analysis.levels -> rally_kvm_perf.results ->
   the charts (task/charts.py) and the sweep's JSON file;
7. cleanup: every server, floating IP, volume and server group deleted.
"""

import dataclasses
import json
import os
import typing as t

from oslo_log import log as logging
from rally import consts as rally_consts
from rally.common import objects as rally_objects
from rally.task import atomic
from rally_openstack.task.scenarios.vm import utils as vm_utils

from rally_kvm_perf import documents
from rally_kvm_perf import exceptions
from rally_kvm_perf import opts
from rally_kvm_perf import results
from rally_kvm_perf.analysis import levels as analysis
from rally_kvm_perf.benchmarks import params
from rally_kvm_perf.host import probe as probe_mod
from rally_kvm_perf.host import runner as host_runner
from rally_kvm_perf.sweep import engine
from rally_kvm_perf.sweep import plan as plan_mod
from rally_kvm_perf.sweep import schedule
from rally_kvm_perf.sweep import status
from rally_kvm_perf.task import charts
from rally_kvm_perf.task import contention_charts
from rally_kvm_perf.task.contexts import common
from rally_kvm_perf.task.scenarios.kvm_perf import baselines as base_mod
from rally_kvm_perf.task.scenarios.kvm_perf import domains
from rally_kvm_perf.task.scenarios.kvm_perf import fleet as fleet_mod
from rally_kvm_perf.task.scenarios.kvm_perf import guests as guests_mod
from rally_kvm_perf.task.scenarios.kvm_perf import progress as progress_mod

CONF = opts.CONF
LOG = logging.getLogger(__name__)

progress = progress_mod.say
SweepFailed = exceptions.SweepFailed


class Work(t.Protocol):
    """What the instances run, each scenario's own (BonnieWork,
    NetperfWork, FioWork): built by its run() from its arguments."""

    def benchmarks(self, flavor_ram_mb: int,
                   peers: t.Optional[t.Dict[str, str]] = None,
                   watched: t.Optional[t.Dict[str, engine.Target]] = None,
                   ) -> t.List[engine.Benchmark]:
        """The benchmarks of one run, in order; ``peers``: each measured
        instance's netserver instance, ``watched`` those read around the
        runs (netperf only)."""

    def wanted(self, flavor_ram_mb: int) -> params.Wanted:
        """The benchmark parameters the instances run: what a host
        baseline must have measured alike."""


@dataclasses.dataclass
class _Iteration:
    """One iteration's state, handed from step to step (never kept on
    the scenario, whose methods would then depend on their order)."""

    plan: plan_mod.Plan
    work: Work
    flavor_ram: int
    vcpus: int
    parameters: dict
    done: list                   # runs kept from the sweep resumed
    baselines: base_mod.Baselines
    notes: t.List[str]
    fleet: fleet_mod.Fleet
    pinning: domains.Pinning
    guests: guests_mod.Guests
    targets: t.List[engine.Target] = dataclasses.field(default_factory=list)
    # {measured instance: the netserver instance it measures against},
    # whose counters are read around its runs
    watched: t.Dict[str, engine.Target] = dataclasses.field(
        default_factory=dict)
    adaptive: dict = dataclasses.field(default_factory=dict)


class KVMPerfScenario(vm_utils.VMScenario):
    """Base of KVMPerf.bonnie, KVMPerf.fio and KVMPerf.netperf: boot once,
    sweep, report, clean up."""

    # never shown in a report (task/reportable.py): the SSH password, and
    # free text run in the guests and nova's boot arguments (user_data,
    # admin_pass), which may carry one
    UNREPORTED_ARGS = ("password", "install_command", "boot_kwargs")

    TOOLS: t.Tuple[str, ...] = ()

    # -- the whole iteration --

    def _sweep(self, work: Work, **kwargs) -> None:
        """The whole iteration: ``work`` is what the instances run; the
        scenarios pass their run() arguments on as keywords
        (plan.SweepArgs)."""
        plan = plan_mod.make_plan(plan_mod.SweepArgs(**kwargs))
        it = self._begin(plan, work)
        shared = self.context.get(common.KEY, {})
        plan_mod.check_host_count(shared.get("hypervisors"), plan)
        plan_mod.check_runtime_pinning(shared.get("runtime_pinning"), plan,
                                       it.vcpus)
        try:
            self._boot_and_measure(it)
        except BaseException:
            for leak in it.fleet.cleanup():   # the first error stays
                LOG.error("kvm-perf cleanup: %s", leak)
            raise
        leaks = it.fleet.cleanup()
        if leaks:
            # measured and reported, but the cloud is not as it was
            raise SweepFailed("cleanup failed: %s" % "; ".join(leaks))

    def _flavor(self, flavor):
        """(flavor ID, its RAM, its extra specs or None when unreadable,
        a note when so), from the argument or the kvm_perf_flavor
        context."""
        shared = self.context.get(common.KEY, {})
        specs = None
        if flavor is None:
            if "flavor" not in shared:
                raise exceptions.InvalidArgument(
                    "no flavor: give 'flavor' or add the kvm_perf_flavor "
                    "context")
            flavor = shared["flavor"]["id"]
            specs = shared["flavor"]["extra_specs"]
        obj = self.clients("nova").flavors.get(flavor)
        note = None
        if specs is None:
            try:
                specs = obj.get_keys()
            except Exception as e:  # not readable by every user
                specs = {}
                note = ("the flavor's extra specs could not be read (%s): "
                        "whether it asks for pinned vCPUs is unknown, so the "
                        "pinned-flavor check was not made" % e)
        shape = plan_mod.FlavorShape(
            vcpus=int(obj.vcpus), ram_mb=int(obj.ram),
            disk_gb=int(obj.disk), extra_specs=dict(specs or {}))
        return flavor, shape, specs, note

    def _begin(self, plan, work):
        """Everything before the boot: flavor, parameters, the sweep to
        resume, baselines, notes, and the parts that will do the work."""
        args = plan.args
        shared = self.context.get(common.KEY, {})
        flavor, shape, specs, note = self._flavor(args.flavor)
        plan = dataclasses.replace(plan, args=dataclasses.replace(
            args, flavor=flavor))
        wanted = work.wanted(shape.ram_mb)
        parameters = plan_mod.parameters(
            plan, self._name(), shape, wanted._asdict())
        done, resumed = (self._resumable(args.output_file, parameters)
                         if args.resume else ([], None))
        loaded = base_mod.load(shared.get("baselines"), args.host_baseline,
                               wanted, args.peer_baseline)
        notes = [loaded.missing] if loaded.missing else []
        if plan.boot_volume:
            notes.append(
                "root disks: new %d GB volumes%s made from the image (boot "
                "from volume); the host baseline must be of the storage "
                "that backs them" % (plan.boot_volume["size"], (
                    " of type %s" % plan.boot_volume["type"]
                    if plan.boot_volume["type"] else "")))
        notes += ([resumed] if resumed else []) + loaded.notes
        notes += ([note] if note else []) + shared.get("warnings", [])
        fleet = fleet_mod.Fleet(self, plan, notes)
        pinning = domains.Pinning(self, specs, notes)
        guests = guests_mod.Guests(
            self, fleet, notes, args.ssh_timeout,
            after_reboot=lambda targets, n: pinning.after_reboot(
                fleet, targets, n))
        return _Iteration(plan=plan, work=work, flavor_ram=shape.ram_mb,
                          vcpus=shape.vcpus,
                          parameters=parameters, done=done,
                          baselines=loaded, notes=notes, fleet=fleet,
                          pinning=pinning, guests=guests)

    def _boot_and_measure(self, it):
        """Boot, reach, measure, record; SweepFailed when anything asked
        for could not be measured (after the report is written)."""
        args, notes = it.plan.args, it.notes
        it.fleet.boot(args.image, args.flavor)
        it.fleet.check_placement()
        it.pinning.after_boot(it.fleet)
        notes += it.fleet.placement_notes(it.baselines.samples)
        it.guests.connect(args.username, args.password, args.port,
                          args.install_command, args.image)
        # what is measured, reported and saved: the peers are none of it
        it.targets = [i.target for i in it.fleet.measured]
        peer_ips = self._start_peers(it) if args.peer else {}
        peer_ip = next(iter(peer_ips.values()), None)
        healthy = [tg for tg in it.targets if not tg.broken]
        if args.peer_baseline:
            it.baselines = base_mod.measure_peer(
                self, peer_ip, healthy, args.repetitions,
                it.work.wanted(it.flavor_ram).netperf)
            notes += it.baselines.notes
            if args.peer_each:
                notes.append(
                    "netserver peers: each instance measures against its "
                    "own netserver instance; the hosts were measured "
                    "against one of them (%s), of the same flavor, image "
                    "and placement" % peer_ip)
        levels_run = [k for k in it.plan.levels if k <= len(healthy)]
        if len(levels_run) < len(it.plan.levels):
            notes.append(
                "only %d of %d instances answered: levels %s were not run"
                % (len(healthy), args.instances,
                   [k for k in it.plan.levels if k > len(healthy)]))
        benchmarks = it.work.benchmarks(it.flavor_ram, peer_ips, it.watched)
        runs, sw = self._run_levels(it, healthy, benchmarks, levels_run)
        self._finish(it, runs, sw, benchmarks, healthy, levels_run)

    def _start_peers(self, it) -> t.Dict[str, str]:
        """netserver in netperf's peer instance(s): {measured instance's
        name: "address:port" of the netserver it measures against}. One
        shared peer that cannot serve fails the workload; with one peer
        per instance ("peers"), only that peer's client is lost."""
        measured, peers = it.fleet.measured, it.fleet.peers
        if not it.plan.args.peer_each:
            address = it.guests.start_peer_netserver(peers[0])
            it.watched = {i.name: peers[0].target for i in measured}
            return {i.name: address for i in measured}
        out = {}
        for client, peer in zip(measured, peers):
            try:
                out[client.name] = it.guests.start_peer_netserver(peer)
            except exceptions.KVMPerfError as e:
                if not client.target.broken:
                    client.target.broken = (
                        "its netserver peer %s cannot serve: %s"
                        % (peer.name, e))
                continue
            it.watched[client.name] = peer.target
        if not out:
            raise SweepFailed("no netserver peer could serve: %s" % "; ".join(
                str(c.target.broken) for c in measured))
        return out

    def _run_levels(self, it, healthy, benchmarks, levels_run):
        """The engine over the levels that can run: (runs, the engine's
        Sweep or None)."""
        if not levels_run:
            return [], None
        args = it.plan.args
        probe = self._host_probe(it)
        sw = engine.Sweep(healthy, benchmarks, schedule.Schedule(
            levels_run, repetitions=args.repetitions,
            between=args.between_repetitions,
            command_timeout=(args.command_timeout
                             or CONF.kvm_perf.command_timeout),
            done=it.done, min_repetitions=args.min_repetitions,
            target_half_width=args.target_half_width), schedule.Hooks(
            reboot=it.guests.reboot,
            timer=lambda name: atomic.ActionTimer(self, name),
            progress=progress,
            on_run=lambda so_far: self._save_partial(it, so_far),
            should_stop=self._aborted, host_probe=probe))
        try:
            runs = sw.run()
        finally:
            if probe:
                probe.close()
        it.adaptive = {level: {k: v for k, v in a.items() if k != "widths"}
                       for level, a in sw.adaptive.items()}
        it.notes.extend("adaptive repetitions, %d instance(s) at once: %d "
                        "run(s), %s" % (level, a["repetitions"], a["why"])
                        for level, a in sorted(sw.adaptive.items()))
        if sw.stopped:
            it.notes.append("sweep stopped: %s; the runs before it are "
                            "reported" % sw.stopped)
        return runs, sw

    def _finish(self, it, runs, sw, benchmarks, healthy, levels_run):
        """Analysis, record, report, file; then fail, saying why, if
        anything asked for was not measured."""
        result = analysis.analyze(runs, it.baselines.samples)
        versions = sorted({"%s %s" % kv for tg in healthy
                           for kv in getattr(tg, "tools", {}).items()
                           if kv[1]})
        if versions:
            it.notes.append("tools in the instances: %s"
                            % ", ".join(versions))
        it.notes += base_mod.version_notes(healthy, it.baselines.docs,
                                           self.TOOLS)
        warnings = list(it.notes) + (sw.warnings if sw else [])
        names = [b.name for b in benchmarks]
        record = results.build(result, names, runs, results.About(
            notes=warnings, parameters=it.parameters,
            hosts=results.host_rows(
                self.context.get(common.KEY, {}).get("hypervisors")),
            pinning=results.pinning_rows(it.pinning.report),
            density_threshold=it.plan.args.density_threshold,
            instances=[{"instance": tg.name, "hypervisor": tg.hypervisor,
                        "broken": str(tg.broken) if tg.broken else None}
                       for tg in it.targets],
            host_baseline=bool(it.baselines.samples)),
            neutral=charts.NEUTRAL)
        self._report(it, result, runs, names, record)
        stopped = sw.stopped if sw else None
        self._save(it, runs, result, warnings, record,
                   status="stopped" if stopped else "complete")
        problems = [tg.broken for tg in it.targets
                    if tg.broken and tg not in healthy]
        message = status.failure_message(runs)
        if problems or message or not levels_run or stopped:
            raise SweepFailed("; ".join(
                (["sweep stopped: %s" % stopped] if stopped else [])
                + ([message] if message else [])
                + ["%s" % p for p in problems]
                + ([] if levels_run else ["no level could run"])))

    def _name(self):
        # a subclass that is no registered plugin has no Rally name
        return (self.get_name() if self._meta_is_inited(raise_exc=False)
                else type(self).__name__)

    # -- contention telemetry, the hosts' side (kvm_perf_hypervisors) --

    def _host_probe(self, it):
        """The compute hosts' counters around every run, where the
        kvm_perf_hypervisors context says how to reach them and the
        instances' libvirt domains are known; else said in the notes."""
        hypervisors = self.context.get(common.KEY, {}).get("hypervisors")
        found = [i for i in (it.pinning.report or {}).get("instances") or []
                 if i.get("domain")]
        if not hypervisors or not found:
            it.notes.append(
                "host telemetry: not read (%s); the instances' own counters "
                "are" % ("no kvm_perf_hypervisors context to reach the "
                         "compute hosts" if not hypervisors else
                         "the instances' libvirt domains are unknown: "
                         "needs an admin"))
            return None
        return probe_mod.HostProbe(
            lambda host: (host_runner.for_host(hypervisors[host])
                          if host in hypervisors else None),
            {i["instance"]: i["domain"] for i in found})

    # -- report --

    def _report(self, it, result, runs, benchmarks, record):
        for complete in charts.sweep_complete(result, runs, benchmarks,
                                              record):
            self.add_output(complete=complete)
        for complete in contention_charts.charts(record):
            self.add_output(complete=complete)
        # what the SLAs and the exporter read: full precision
        self.add_output(complete=results.to_chart(record))
        for complete in charts.pinning_table(record["hosts"],
                                             record["pinning"]):
            self.add_output(complete=complete)
        for additive in charts.sweep_additive(result, benchmarks):
            self.add_output(additive=additive)

    def _resumable(self, path, parameters):
        """(the finished runs of the interrupted sweep in ``path``, a note
        saying so): none without a file; a finished or foreign sweep is
        refused before anything boots."""
        if not path:
            raise exceptions.InvalidArgument(
                "resume needs output_file: the sweep resumes from it")
        if not os.path.exists(path):
            return [], None
        doc = documents.read_json(path, "the sweep to resume,")
        if doc.get("status") == "complete":
            raise exceptions.InvalidArgument(
                "resume: the sweep in %s is complete; nothing to resume "
                "(move the file away for a new sweep)" % path)
        # JSON round trip: tuples become lists on both sides
        mine = json.loads(json.dumps(parameters))
        theirs = doc.get("parameters") or {}
        diffs = ["%s: %r there, %r here" % (k, theirs.get(k), mine[k])
                 for k in sorted(mine) if theirs.get(k) != mine[k]]
        if diffs:
            raise exceptions.InvalidArgument(
                "resume: %s holds a sweep of other parameters (%s); runs of "
                "another benchmark cannot continue this one" % (
                    path, "; ".join(diffs)))
        runs = doc.get("runs") or []
        return runs, "resumed from %s: %d earlier run(s) kept" % (
            path, len([r for r in runs if not any(
                i.get("error") for i in r["instances"])]))

    def _aborted(self):
        """'rally task abort' (soft or not) asked for this task: the sweep
        stops before its next run, and reports what it has."""
        try:
            status = rally_objects.Task.get_status(
                self.context["task"]["uuid"])
        except Exception:  # no task record (tests, a broken database)
            return None
        if status in (rally_consts.TaskStatus.ABORTING,
                      rally_consts.TaskStatus.SOFT_ABORTING,
                      rally_consts.TaskStatus.ABORTED):
            return "rally task abort"
        return None

    def _save_partial(self, it, runs):
        """After every run: what a long sweep has so far, so that an
        interruption (abort, a killed Rally, a lost host) keeps it."""
        self._save(it, runs, None, list(it.notes), None, status="running")

    def _save(self, it, runs, result, warnings, record, status):
        """Everything measured, raw outputs included, to a JSON file."""
        path = it.plan.args.output_file
        if not path:
            return
        # how each instance was reached: its fixed IP, or a floating IP
        by_name = {i.name: i for i in it.fleet.instances}
        documents.write_json(path, {
            "schema": "rally-kvm-perf/sweep/1", "status": status,
            "parameters": it.parameters, "runs": runs,
            "analysis": result, "record": record, "warnings": warnings,
            "instances": [_instance_doc(tg, by_name.get(tg.name))
                          for tg in it.targets],
            # libvirt's pinning as read after the boot and after each
            # reboot: what every run between them ran with
            "pinning": it.pinning.history,
            # how each instance went down at each reboot (orderly or not)
            "reboots": it.guests.history,
            # adaptive repetitions: how many each level ran, and why
            "adaptive": {str(k): v for k, v in sorted(it.adaptive.items())}})


def _instance_doc(target, instance):
    return {"name": target.name, "hypervisor": target.hypervisor,
            "broken": target.broken, "boot": target.boot,
            "fixed_ip": instance.fixed_ip if instance else None,
            "floating_ip": (instance.fip or {}).get("ip") if instance
            else None}
