"""Shared helper actions of the KVMPerf sweep scenarios (bonnie.py,
netperf.py), as rally-openstack keeps its VM scenarios' in
``task/scenarios/vm/utils.py``.

One Rally iteration boots ``instances`` servers once, then for each number
k of active instances and each repetition runs the benchmark in the first k
instances at the same time (rally_kvm_perf.sweep.engine), and reports every
metric per level (rally_kvm_perf.analysis.levels -> rally_kvm_perf.results
-> charts), as VM/host ratios when a host baseline is known.
"""

import dataclasses
import json
import os
import re
import threading
import time

from novaclient import api_versions as nova_api_versions
from oslo_log import log as logging
from rally import consts as rally_consts
from rally.common import objects as rally_objects
from rally.task import atomic
from rally.task import utils as task_utils
from rally.task import validation
from rally_openstack.common import consts
from rally_openstack.task.scenarios.vm import utils as vm_utils

from rally_kvm_perf import exceptions
from rally_kvm_perf import opts
from rally_kvm_perf import results
from rally_kvm_perf.analysis import levels as analysis
from rally_kvm_perf.benchmarks import tools
from rally_kvm_perf.host import baseline
from rally_kvm_perf.host import probe as probe_mod
from rally_kvm_perf.host import runner as host_runner
from rally_kvm_perf.sweep import console
from rally_kvm_perf.sweep import engine
from rally_kvm_perf.task import charts
from rally_kvm_perf.task.contexts import common
from rally_kvm_perf.task.contexts import hypervisors as hyper_ctx
from rally_kvm_perf.task.scenarios.kvm_perf import domains

CONF = opts.CONF
REBOOT_POLL_S = 5



# how often the SSH wait asks nova whether the server is still alive
STATUS_POLL_S = 10

LOG = logging.getLogger(__name__)


def progress(message):
    """A progress line for the operator watching `rally task start`."""
    LOG.info("kvm-perf: %s", message)


def _version_notes(targets, docs, tools):
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


def _path_note(host, doc, netperf_params):
    """Which path each side of a netperf ratio measured (report notes)."""
    n = (doc.get("parameters") or {}).get("netperf") or {}
    return ("netperf path: the instances measured against %s:%s, the host "
            "baseline of %s against %s:%s" % (
                netperf_params.host, netperf_params.port, host,
                n.get("host"), n.get("port")))


# the run() arguments every sweep scenario has and passes on to _sweep()
SWEEP_ARGS = (
    "image", "flavor", "instances", "active_counts", "repetitions",
    "between_repetitions", "username", "password", "port", "use_floating_ip",
    "floating_network", "ssh_timeout", "command_timeout", "availability_zone",
    "install_command", "host_baseline", "boot_kwargs", "output_file",
    "resume", "placement", "min_repetitions", "target_half_width",
    "boot_from_volume")

# nova's attribute listing a server's attached volumes
VOLUMES_ATTR = "os-extended-volumes:volumes_attached"
VOLUME_KEYS = ("size", "type")


def boot_volume(spec):
    """boot_from_volume checked: None or {"size": GB, "type": str or
    None}; InvalidArgument naming what is wrong."""
    if spec is None:
        return None
    if not isinstance(spec, dict) or "size" not in spec:
        raise exceptions.InvalidArgument(
            "boot_from_volume must be {\"size\": GB, \"type\": volume type "
            "(optional)}, got %r" % (spec,))
    unknown = sorted(set(spec) - set(VOLUME_KEYS))
    if unknown:
        raise exceptions.InvalidArgument(
            "boot_from_volume: unknown key(s) %s (known: %s)"
            % (", ".join(unknown), ", ".join(VOLUME_KEYS)))
    size = spec["size"]
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise exceptions.InvalidArgument(
            "boot_from_volume size must be a whole number of GB >= 1, got %r"
            % (size,))
    kind = spec.get("type")
    if kind is not None and (not isinstance(kind, str) or not kind):
        raise exceptions.InvalidArgument(
            "boot_from_volume type must be a volume type's name, got %r"
            % (kind,))
    return {"size": size, "type": kind}


# Rally's safety net for what a sweep itself creates, should the scenario
# die before its own finally: its servers (the peer too), their server group
# and floating IPs. Not all of nova and neutron: listing every neutron
# resource type of the task's users took 30 s per workload on the local
# cloud; the keypair, security group and network come from contexts that
# delete their own.
CLEANUP = ["nova.servers", "nova.server_groups", "neutron.floatingip"]

# where the measured instances go: nova server groups, enforced by nova's
# scheduler (ServerGroup[Anti]AffinityFilter) and checked after the boot
PLACEMENTS = {"same_host": "affinity", "spread": "anti-affinity", "any": None}
# where netperf's peer netserver goes: beside the measured instances (their
# traffic never leaves the host's bridge), on another host (it crosses the
# physical network, as a host baseline against a remote netserver does), or
# the scheduler's choice; checked after the boot like the placement
PEER_PLACEMENTS = ("any", "same_host", "other_host")
# nova's faults of a server its scheduler could not place: none found at
# once, or (two boots racing for one host) compute's late check of the
# group's policy rescheduled it until no host was left
UNPLACEABLE = ("no valid host", "exhausted all hosts",
               "group policy was violated")


def _fault(server):
    """nova's fault message of a fetched server, or None."""
    fault = getattr(server, "fault", None) or {}
    return (fault.get("message") if isinstance(fault, dict)
            else str(fault)) or None


def _unplaceable(fault):
    return any(m in (fault or "").lower() for m in UNPLACEABLE)


def _check_host_count(hypervisors, placement, instances, peer_placement):
    """Refuse, before booting, a placement the compute hosts that the
    kvm_perf_hypervisors context found cannot honour (without it, nova's
    refusal at boot says the same, later)."""
    if hypervisors is None:
        return
    usable = sorted(name for name, hv in hypervisors.items()
                    if hv.get("state") in ("up", None)
                    and hv.get("status") in ("enabled", None))
    have = "nova has %d compute host(s) up and enabled%s" % (
        len(usable), " (%s)" % ", ".join(usable) if usable else "")
    if placement == "spread" and len(usable) < instances:
        raise SweepFailed(
            "placement spread: one instance per compute host needs %d "
            "compute hosts, %s; nothing was booted" % (instances, have))
    if peer_placement == "other_host" and len(usable) < 2:
        raise SweepFailed(
            "peer_placement other_host: the netserver peer needs a compute "
            "host other than the measured instances', %s; nothing was "
            "booted" % have)


def sweep_validators(cls):
    """Decorator: the validators of the arguments every sweep scenario
    shares (its own arguments' validators stay on the class)."""
    checks = (
        ("number", dict(param_name="instances", minval=1, integer_only=True,
                        nullable=True)),
        ("number", dict(param_name="repetitions", minval=1,
                        integer_only=True, nullable=True)),
        ("number", dict(param_name="port", minval=1, maxval=65535,
                        integer_only=True, nullable=True)),
        ("number", dict(param_name="ssh_timeout", minval=1, nullable=True)),
        ("enum", dict(param_name="between_repetitions",
                      values=list(engine.BETWEEN), missed=True)),
        ("kvm_perf_active_counts", {}),
        ("enum", dict(param_name="placement", values=list(PLACEMENTS),
                      missed=True)),
        ("required_param_or_context", dict(param_name="flavor",
                                           ctx_name="kvm_perf_flavor")),
        ("external_network_exists", dict(param_name="floating_network")),
        ("file_exists", dict(param_name="host_baseline", required=False)),
        ("required_services", dict(services=[consts.Service.NOVA])),
        ("required_platform", dict(platform="openstack", users=True)),
    )
    for name, kwargs in reversed(checks):
        cls = validation.add(name, **kwargs)(cls)
    return cls


# The parameters every sweep scenario shares, documented once: each
# scenario's run() docstring has a line "@SWEEP_PARAMS@" where they go
# (sweep_doc), so that `rally plugin show` prints them all.
SWEEP_PARAMS_DOC = """\
        :param image: glance image with @TOOLS@ installed
        :param flavor: flavor of the instances (the paper: 2 vCPU, 2 GB RAM,
            40 GB disk); default: the kvm_perf_flavor context's
        :param instances: instances booted once for the whole sweep
        :param active_counts: numbers of instances running the benchmark at
            the same time, e.g. [1, 2, 4, 8]; default 1..instances
        :param repetitions: runs per level (the paper: 10); with
            ``target_half_width`` the most a level runs
        :param min_repetitions: adaptive repetitions: the fewest a level
            runs before its interval is judged (default 3)
        :param target_half_width: adaptive repetitions: a level stops
            repeating once every benchmark's headline metric (block write,
            throughput, transactions, IOPS) has a 95% interval within this
            fraction of its mean (0.05: +-5%), over the repetition-level
            values; the notes say how many runs each level took and why it
            stopped. Default: every level runs ``repetitions``
        :param between_repetitions: before each run: "drop_caches" (default;
            sync and drop the page caches in the active instances),
            "reboot" (the paper's choice: reboot them and wait for SSH; not
            before the first run) or "none"
        :param username: SSH user of the image
        :param password: SSH password, if the image needs one
        :param port: SSH port
        :param use_floating_ip: reach instances through floating IPs
        :param floating_network: external network for the floating IPs
        :param ssh_timeout: seconds an instance may take to answer SSH
        :param command_timeout: seconds one benchmark run may take (default
            ``[kvm_perf] command_timeout``; Rally's 3600 s SSH limit does not
            apply)
        :param availability_zone: e.g. "nova:compute-1" to pack every
            instance on one hypervisor, as in the paper
        :param placement: "same_host" (default: the paper's k instances on
            one host; a server group with the affinity policy), "spread"
            (one per compute host; anti-affinity) or "any" (the
            scheduler's choice); checked after the boot, before anything
            is measured (netperf's netserver peer: its peer_placement)
        :param install_command: shell command run in each instance before
            the sweep, e.g. "sudo apt-get install -y @PACKAGES@"
        :param host_baseline: baseline JSON file from ``rally-kvm-perf
            baseline`` (taken with the same benchmark parameters); without
            it and without the kvm_perf_baseline context only absolute
            values are reported
        :param boot_kwargs: extra arguments for nova's server create
        :param boot_from_volume: boot every instance from a new Cinder
            volume made from the image instead of an ephemeral disk:
            {"size": GB, "type": volume type (optional)}. Checked after the
            boot (an instance whose root disk is not a volume is not
            measured); the volumes go with their servers and are checked
            gone. Its host baseline must be taken on the storage that backs
            the volumes
        :param output_file: also write everything measured (raw outputs,
            per-run metrics, the analysis) to this JSON file, rewritten
            after every run so that an interrupted sweep keeps what it
            measured
        :param resume: continue the interrupted sweep in ``output_file``:
            its finished runs are kept and not run again (on newly booted
            instances: a repetition stands on its own); a file of other
            parameters, or of a complete sweep, is refused before anything
            boots; without the file, a new sweep
"""


def sweep_doc(tools, packages):
    """Decorator of a sweep scenario's run(): its docstring's
    "@SWEEP_PARAMS@" line becomes the shared parameters' documentation,
    naming the scenario's ``tools`` and Debian ``packages``."""
    marker = "        @SWEEP_PARAMS@\n"

    def decorate(run):
        if marker not in (run.__doc__ or ""):
            raise ValueError("%s: no @SWEEP_PARAMS@ line in its docstring"
                             % run.__qualname__)
        run.__doc__ = run.__doc__.replace(marker, SWEEP_PARAMS_DOC.replace(
            "@TOOLS@", tools).replace("@PACKAGES@", packages))
        return run
    return decorate


def sweep_args(run_locals):
    """The shared arguments out of a scenario's run() locals, as keywords."""
    return {name: run_locals[name] for name in SWEEP_ARGS}


def _create_server_group(nova, name, policy):
    """nova's server group API took a list of policies until 2.64, one
    policy since."""
    version = getattr(nova, "api_version", None)
    if version is not None and not version.is_null() and \
            version >= nova_api_versions.APIVersion("2.64"):
        return nova.server_groups.create(name=name, policy=policy)
    return nova.server_groups.create(name=name, policies=[policy])


class _Counter:
    """k of N, counted from several threads."""

    def __init__(self, total):
        self.total, self._n, self._lock = total, 0, threading.Lock()

    def add(self):
        with self._lock:
            self._n += 1
            return self._n


class SweepFailed(exceptions.KVMPerfError):
    """Some instance runs failed; the others are in the report."""


class KVMPerfScenario(vm_utils.VMScenario):
    """Base of KVMPerf.bonnie, KVMPerf.fio and KVMPerf.netperf: boot once,
    sweep, report, clean up."""

    TOOLS = ()

    def _benchmarks(self, flavor_ram_mb, peer_ip):
        raise NotImplementedError()

    def _baseline_params(self, flavor_ram_mb):
        """baseline.Wanted: the benchmark parameters the instances run, for
        comparing with a host baseline."""
        raise NotImplementedError()

    # -- the whole iteration --

    def _sweep(self, *, image, flavor, instances, active_counts,
               repetitions, between_repetitions, username, password, port,
               use_floating_ip, floating_network, ssh_timeout,
               command_timeout, availability_zone, install_command,
               host_baseline, boot_kwargs, output_file=None, resume=False,
               placement="same_host", peer=False, peer_placement="any",
               min_repetitions=None, target_half_width=None,
               boot_from_volume=None):
        """The whole iteration; the scenarios pass their run() arguments
        on as keywords."""
        conf = CONF.kvm_perf
        shared = self.context.get(common.KEY, {})
        flavor_specs = None
        if flavor is None:
            if "flavor" not in shared:
                raise exceptions.InvalidArgument(
                    "no flavor: give 'flavor' or add the kvm_perf_flavor "
                    "context")
            flavor = shared["flavor"]["id"]
            flavor_specs = shared["flavor"]["extra_specs"]
        if placement not in PLACEMENTS:
            raise exceptions.InvalidArgument(
                "placement must be one of %s, got %r"
                % (", ".join(PLACEMENTS), placement))
        if peer_placement not in PEER_PLACEMENTS:
            raise exceptions.InvalidArgument(
                "peer_placement must be one of %s, got %r"
                % (", ".join(PEER_PLACEMENTS), peer_placement))
        if peer_placement != "any" and not peer:
            raise exceptions.InvalidArgument(
                "peer_placement %s places netserver \"peer\": there is no "
                "peer instance to place" % peer_placement)
        if peer_placement == "same_host" and placement != "same_host":
            raise exceptions.InvalidArgument(
                "peer_placement same_host needs placement same_host: with "
                "placement %s the measured instances may be on several "
                "hosts" % placement)
        engine.check_adaptive(repetitions, min_repetitions,
                              target_half_width)
        self.boot_volume = boot_volume(boot_from_volume)
        if self.boot_volume and set(boot_kwargs or {}) & {
                "block_device_mapping", "block_device_mapping_v2"}:
            raise exceptions.InvalidArgument(
                "boot_from_volume and a block device mapping in boot_kwargs "
                "both say what the root disk is: give one")
        levels = list(active_counts or range(1, instances + 1))
        if not engine.valid_levels(levels, instances):
            raise exceptions.InvalidArgument(
                "active_counts %r must be whole numbers from 1 to the %d "
                "instances booted" % (levels, instances))
        flavor_obj = self.clients("nova").flavors.get(flavor)
        flavor_ram = int(flavor_obj.ram)
        early = []
        if flavor_specs is None:
            try:
                flavor_specs = flavor_obj.get_keys()
            except Exception as e:  # not readable by every user
                flavor_specs = {}
                early.append(
                    "the flavor's extra specs could not be read (%s): "
                    "whether it asks for pinned vCPUs is unknown, so the "
                    "pinned-flavor check was not made" % e)
        self.parameters = self._parameters(
            image, flavor_obj, flavor_specs, instances, levels, repetitions,
            between_repetitions, placement)
        if self.boot_volume:
            # only when asked: a sweep saved before the option resumes
            self.parameters["boot_from_volume"] = self.boot_volume
        if peer:   # the peer's host decides netperf's path
            self.parameters["peer_placement"] = peer_placement
        if target_half_width:
            self.parameters["adaptive"] = {
                "min_repetitions": min_repetitions,
                "target_half_width": target_half_width}
        done = self._resumable(output_file) if resume else []
        self.path_notes = []
        self.baseline_docs = {}
        baselines, baseline_note = self._load_baselines(host_baseline,
                                                        flavor_ram)
        self.notes = [baseline_note] if baseline_note else []
        if self.boot_volume:
            self.notes.append(
                "root disks: new %d GB volumes%s made from the image (boot "
                "from volume); the host baseline must be of the storage "
                "that backs them" % (self.boot_volume["size"], (
                    " of type %s" % self.boot_volume["type"]
                    if self.boot_volume["type"] else "")))
        if getattr(self, "resumed", None):
            self.notes.append(self.resumed)
        self.notes += self.path_notes + early
        self.notes += shared.get("warnings", [])
        self.servers = []
        self.adaptive = {}
        _check_host_count(shared.get("hypervisors"), placement, instances,
                          peer_placement)
        try:
            self._boot(image, flavor, instances + (1 if peer else 0),
                       use_floating_ip, floating_network, availability_zone,
                       boot_kwargs or {}, placement=placement,
                       placed=instances, peer_placement=peer_placement)
            self._check_placement(placement, instances, peer_placement)
            self.flavor_specs = flavor_specs
            self.ssh_timeout = ssh_timeout
            self.pinning = self._after_boot(flavor_specs)
            self.pinning_history = ([dict(self.pinning, after_reboot=0)]
                                    if self.pinning else [])
            self.notes += self._placement_notes(baselines)
            targets = self._connect(username, password, port, ssh_timeout,
                                    install_command, image)
            peer_ip = None
            if peer:
                peer_target, targets = targets[-1], targets[:-1]
                peer_ip = self._start_peer_netserver(peer_target)
            healthy = [tg for tg in targets if not tg.broken]
            if peer and getattr(self, "peer_baseline", False):
                baselines = self._measure_peer_baseline(
                    peer_ip, healthy, repetitions, flavor_ram)
            levels_run = [k for k in levels if k <= len(healthy)]
            if len(levels_run) < len(levels):
                self.notes.append(
                    "only %d of %d instances answered: levels %s were not run"
                    % (len(healthy), instances,
                       [k for k in levels if k > len(healthy)]))
            runs = []
            sw = None
            benchmarks = self._benchmarks(flavor_ram, peer_ip)
            if levels_run:
                probe = self._host_probe()
                sw = engine.Sweep(
                    healthy, benchmarks, levels_run, repetitions=repetitions,
                    between=between_repetitions,
                    reboot=self._reboot_targets, command_timeout=(
                        command_timeout or conf.command_timeout),
                    timer=lambda name: atomic.ActionTimer(self, name),
                    progress=progress,
                    on_run=lambda so_far: self._save_partial(
                        output_file, so_far, targets),
                    should_stop=self._aborted, done=done,
                    min_repetitions=min_repetitions,
                    target_half_width=target_half_width, host_probe=probe)
                try:
                    runs = sw.run()
                finally:
                    if probe:
                        probe.close()
                self.adaptive = {level: {k: v for k, v in a.items()
                                         if k != "widths"}
                                 for level, a in sw.adaptive.items()}
                self.notes += ["adaptive repetitions, %d instance(s) at "
                               "once: %d run(s), %s" % (
                                   level, a["repetitions"], a["why"])
                               for level, a in sorted(sw.adaptive.items())]
                if sw.stopped:
                    self.notes.append("sweep stopped: %s; the runs before "
                                      "it are reported" % sw.stopped)
            result = analysis.analyze(runs, baselines)
            versions = sorted({"%s %s" % kv for tg in healthy
                               for kv in getattr(tg, "tools", {}).items()
                               if kv[1]})
            if versions:
                self.notes.append("tools in the instances: %s"
                                  % ", ".join(versions))
            self.notes += _version_notes(healthy, self.baseline_docs,
                                         self.TOOLS)
            warnings = list(self.notes) + (sw.warnings if sw else [])
            names = [b.name for b in benchmarks]
            record = results.build(result, names, charts.NEUTRAL, warnings,
                                   runs, self.parameters)
            self._report(result, runs, targets, names, baselines, warnings,
                         record)
            self._save(output_file, runs, result, targets, warnings, record,
                       status="stopped" if sw and sw.stopped else "complete")
            problems = [tg.broken for tg in targets
                        if tg.broken and tg not in healthy]
            message = engine.failure_message(runs)
            stopped = sw.stopped if sw else None
            if problems or message or not levels_run or stopped:
                raise SweepFailed("; ".join(
                    (["sweep stopped: %s" % stopped] if stopped else [])
                    + ([message] if message else [])
                    + ["%s" % p for p in problems]
                    + ([] if levels_run else ["no level could run"])))
        except BaseException:
            for leak in self._cleanup():   # the first error stays the error
                LOG.error("kvm-perf cleanup: %s", leak)
            raise
        leaks = self._cleanup()
        if leaks:
            # measured and reported, but the cloud is not as it was
            raise SweepFailed("cleanup failed: %s" % "; ".join(leaks))

    # -- baselines --

    def _load_baselines(self, path, flavor_ram):
        ctx = self.context.get(common.KEY, {}).get("baselines")
        wanted = self._baseline_params(flavor_ram)
        netperf_params = wanted.netperf
        if ctx:  # keyed by hypervisor host name (kvm_perf_baseline context)
            for hv, doc in ctx.items():
                diffs = baseline.differences(doc, *wanted)
                if diffs:
                    raise exceptions.InvalidArgument(
                        "the kvm_perf_baseline context measured %s with other "
                        "parameters than the instances use: %s"
                        % (hv, "; ".join(diffs)))
            self.baseline_docs = dict(ctx)
            self.path_notes = [_path_note(hv, doc, netperf_params)
                               for hv, doc in sorted(ctx.items())
                               if netperf_params is not None and hv != "*"]
            return ({hv: analysis.baseline_samples(doc)
                     for hv, doc in ctx.items()}, None)
        if not path and getattr(self, "peer_baseline", False):
            return {}, None   # measured after the peer boots
        if not path:
            return {}, ("no host baseline (give host_baseline, a file from "
                        "'rally-kvm-perf baseline', or use the "
                        "kvm_perf_baseline context): ratios are absent, "
                        "absolute values only")
        doc = baseline.load(path)
        diffs = baseline.differences(doc, *wanted)
        if diffs:
            raise exceptions.InvalidArgument(
                "host baseline %s was taken with other parameters than the "
                "instances use (a ratio of different benchmarks is "
                "meaningless): %s" % (path, "; ".join(diffs)))
        samples = analysis.baseline_samples(doc)
        host = (doc.get("facts") or {}).get("hostname") or doc.get("host")
        self.baseline_docs = {host: doc}
        if netperf_params is not None:
            self.path_notes = [_path_note(host, doc, netperf_params)]
        return {analysis.ANY_HOST: samples, host: samples}, None

    def _check_peer_baseline(self, host_baseline):
        """peer_baseline: the only baseline, and a way to reach the
        hosts -- checked before anything boots."""
        shared = self.context.get(common.KEY, {})
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

    def _measure_peer_baseline(self, peer_ip, targets, repetitions,
                               flavor_ram):
        """The fair baseline of netserver "peer": each compute host that
        holds a measured instance runs the same netperf tests, as many
        times as a level is repeated, against the same peer instance, in
        this run, before the sweep."""
        hypervisors = self.context[common.KEY]["hypervisors"]
        unknown = [tg.name for tg in targets if tg.hypervisor is None]
        if unknown:
            raise SweepFailed(
                "peer_baseline: the compute host of %s is unknown (admin "
                "lookup failed), so no host baseline can be measured for it"
                % ", ".join(unknown))
        hosts = sorted({tg.hypervisor for tg in targets})
        missing = [h for h in hosts if h not in hypervisors]
        if missing:
            raise SweepFailed(
                "peer_baseline: %s not inspected by kvm_perf_hypervisors "
                "(its 'only' list?): cannot measure its baseline"
                % ", ".join(missing))
        params = self._baseline_params(flavor_ram).netperf
        host, port = peer_ip.rsplit(":", 1)
        params = baseline.BaselineParams(
            runs=repetitions, bonnie=None, drop_caches=False,
            netperf=dataclasses.replace(params, host=host, port=int(port)))
        docs = {}
        with atomic.ActionTimer(self, "kvm_perf.peer_baseline"):
            for hv in hosts:
                progress("host baseline of %s against the peer netserver "
                         "%s (%d run(s))" % (hv, peer_ip, repetitions))
                runner = hyper_ctx.runner_for(hypervisors[hv])
                try:
                    docs[hv] = baseline.measure(runner, params)
                except exceptions.KVMPerfError as e:
                    raise SweepFailed(
                        "peer_baseline on %s against %s failed: %s"
                        % (hv, peer_ip, e)) from None
                finally:
                    runner.close()
                if docs[hv].get("errors"):
                    raise SweepFailed(
                        "peer_baseline on %s against %s: %s" % (
                            hv, peer_ip, "; ".join(
                                str(x) for x in docs[hv]["errors"])))
        self.baseline_docs = docs
        self.notes.append(
            "host baseline: measured in this run on %s against the peer "
            "instance's netserver %s, the same target as the instances"
            % (", ".join(hosts), peer_ip))
        return {hv: analysis.baseline_samples(doc)
                for hv, doc in docs.items()}

    # -- contention telemetry, the hosts' side (kvm_perf_hypervisors) --

    def _host_probe(self):
        """The compute hosts' counters around every run, where the
        kvm_perf_hypervisors context says how to reach them and the
        instances' libvirt domains are known; else said in the notes."""
        hypervisors = self.context.get(common.KEY, {}).get("hypervisors")
        found = [i for i in (self.pinning or {}).get("instances") or []
                 if i.get("domain")]
        if not hypervisors or not found:
            self.notes.append(
                "host telemetry: not read (%s); the instances' own counters "
                "are" % ("no kvm_perf_hypervisors context to reach the "
                         "compute hosts" if not hypervisors else
                         "the instances' libvirt domains are unknown: "
                         "needs an admin"))
            return None
        return probe_mod.HostProbe(
            lambda host: (hyper_ctx.runner_for(hypervisors[host])
                          if host in hypervisors else None),
            {i["instance"]: i["domain"] for i in found})

    # -- pinning (kvm_perf_hypervisors) --

    def _after_boot(self, flavor_specs):
        """Runtime pinning and the pinning check, when the
        kvm_perf_hypervisors context is there."""
        shared = self.context.get(common.KEY, {})
        if "hypervisors" not in shared or "admin" not in self.context:
            return None
        instances = [(e["server"].name, e["server"].id) for e in self.servers
                     if e["server"].id not in self.boot_errors]
        with atomic.ActionTimer(self, "kvm_perf.check_pinning"):
            report = domains.after_boot(
                self.context, instances, self.admin_clients("nova"),
                flavor_specs)
        self.notes += ["pinning: %s" % p for p in report["problems"]]
        # pinning asked for and not in place: that instance is not measured
        # (numbers of an unpinned VM are not the pinned ones) and the
        # workload fails naming it
        for entry in self.servers:
            why = report["unmet"].get(entry["server"].name)
            if why and entry["server"].id not in self.boot_errors:
                self.boot_errors[entry["server"].id] = (
                    "%s: pinning asked for but not in place: %s"
                    % (entry["server"].name, why))
        return report

    # -- instances --

    def _boot(self, image, flavor, count, use_floating_ip, floating_network,
              availability_zone, boot_kwargs, placement="any", placed=None,
              peer_placement="any"):
        """Boot ``count`` servers; the first ``placed`` (the measured ones,
        not the peer) in a server group of the placement's policy; the
        peer (any after ``placed``) in that group too for peer_placement
        same_host, or created once the measured ones have their hosts,
        with nova's different_host hint, for other_host."""
        kwargs = dict(boot_kwargs)
        kwargs.setdefault("key_name",
                          self.context["user"]["keypair"]["name"])
        if availability_zone:
            kwargs["availability_zone"] = availability_zone
        kwargs["auto_assign_nic"] = True
        grouped = dict(kwargs)
        policy = PLACEMENTS[placement]
        if policy:
            nova = self.clients("nova")
            # recorded at once: cleanup deletes it whatever happens next
            self.server_group = _create_server_group(
                nova, self.generate_random_name(), policy)
            grouped["scheduler_hints"] = dict(
                grouped.get("scheduler_hints") or {},
                group=self.server_group.id)
        self.boot_errors = {}
        self.hypervisor_errors = {}
        t0 = time.monotonic()
        # the peer waits for the measured instances' hosts: nova's
        # DifferentHostFilter only sees instances already placed
        now = count if placed is None or peer_placement != "other_host" \
            else placed
        with atomic.ActionTimer(self, "kvm_perf.boot_%d_servers" % count):
            # create all first (nova boots them in parallel), then wait;
            # each is recorded at once so that cleanup finds it
            for i in range(now):
                in_group = (placed is None or i < placed
                            or peer_placement == "same_host")
                self.servers.append({
                    "server": self._create_server(
                        image, flavor, grouped if in_group else kwargs),
                    "fip": None})
            progress("booting %d server(s): %s" % (now, ", ".join(
                e["server"].name for e in self.servers)))
            active = self._wait_active(self.servers, 0, count, t0)
            for _ in range(now, count):
                others = dict(kwargs, scheduler_hints=dict(
                    kwargs.get("scheduler_hints") or {},
                    different_host=[e["server"].id
                                    for e in self.servers[:placed]]))
                entry = {"server": self._create_server(image, flavor,
                                                       others),
                         "fip": None}
                self.servers.append(entry)
                progress("booting the netserver peer %s on another host "
                         "than the measured instances"
                         % entry["server"].name)
                active = self._wait_active([entry], active, count, t0)
        for entry in self.servers:
            server = entry["server"]
            if server.id in self.boot_errors:
                continue
            if use_floating_ip:
                # rally-openstack's helper returns {id, ip}; recorded at
                # once, so that cleanup deletes it whatever happens next
                entry["fip"] = dict(
                    self._attach_floating_ip(server, floating_network),
                    is_floating=True)
                entry["ip"] = entry["fip"]["ip"]
            else:
                network = list(server.networks)[0]
                entry["ip"] = server.addresses[network][0]["addr"]
            network = list(server.networks)[0]
            entry["fixed_ip"] = server.addresses[network][0]["addr"]
            entry["hypervisor"] = self._hypervisor(server)
            if getattr(self, "boot_volume", None):
                self._check_root_volume(entry)

    def _check_root_volume(self, entry):
        """Asked to boot from a volume: nova must list one attached, or
        the instance is not measured (its disk would be another one)."""
        server = entry["server"]
        try:
            current = self.clients("nova").servers.get(server.id)
            attached = getattr(current, VOLUMES_ATTR, None) or []
        except Exception as e:
            attached, why = [], "cannot read it: %s" % e
        else:
            why = "nova lists no volume attached to it"
        entry["volumes"] = [v["id"] for v in attached
                            if isinstance(v, dict) and v.get("id")]
        if not entry["volumes"]:
            self.boot_errors[server.id] = (
                "%s: asked to boot from a volume, but %s: its root disk is "
                "not a volume, so it is not measured" % (server.name, why))

    def _wait_active(self, entries, active, count, t0):
        """Wait for each server to be ACTIVE; one that is not is that
        instance's boot error. Returns how many are ACTIVE so far."""
        for entry in entries:
            try:
                entry["server"] = task_utils.wait_for_status(
                    entry["server"], ready_statuses=["ACTIVE"],
                    update_resource=task_utils.get_from_manager(),
                    timeout=CONF.openstack.nova_server_boot_timeout,
                    check_interval=(
                        CONF.openstack.nova_server_boot_poll_interval))
                active += 1
                progress("server %s ACTIVE (%d of %d, %.0f s)" % (
                    entry["server"].name, active, count,
                    time.monotonic() - t0))
            except Exception as e:
                # nova's own reason (e.g. "No valid host was found"): Rally
                # puts it in the error only when the first poll already
                # saw ERROR (its get_from_manager() checks a generator of
                # error statuses that the first poll used up)
                fault = self._server_fault(entry["server"])
                self.boot_errors[entry["server"].id] = (
                    "%s never became ACTIVE: %s%s" % (
                        entry["server"].name, e,
                        " (nova: %s)" % fault
                        if fault and fault not in str(e) else ""))
                progress("server %s FAILED: %s" % (
                    entry["server"].name,
                    self.boot_errors[entry["server"].id]))
        return active

    def _server_fault(self, server):
        """nova's fault message of a server, read now, or None."""
        try:
            return _fault(self.clients("nova").servers.get(server.id))
        except Exception:
            return None

    def _create_server(self, image, flavor, kwargs):
        kwargs = dict(kwargs)
        secgroup = self.context.get("user", {}).get("secgroup")
        if secgroup:
            kwargs.setdefault("security_groups", [secgroup["name"]])
        if kwargs.pop("auto_assign_nic") and not kwargs.get("nics"):
            nic = self._pick_random_nic()
            if nic:
                kwargs["nics"] = nic
        volume = getattr(self, "boot_volume", None)
        if volume:
            # the root disk a new volume made from the image (nova then
            # takes no image of its own)
            bdm = {"boot_index": 0, "uuid": image, "source_type": "image",
                   "destination_type": "volume",
                   "volume_size": volume["size"],
                   "delete_on_termination": True}
            if volume["type"]:
                bdm["volume_type"] = volume["type"]
            kwargs["block_device_mapping_v2"] = [bdm]
            image = None
        # a block device's volume type needs compute API 2.67 (Stein),
        # which also wants the network said: "auto" is what an older
        # request without nics got
        version = None
        if volume and volume["type"]:
            version = "2.67"
            if not kwargs.get("nics"):
                kwargs["nics"] = "auto"
        return self.clients("nova", version=version).servers.create(
            self.generate_random_name(), image, flavor, **kwargs)

    def _check_placement(self, placement, instances, peer_placement="any"):
        """The measured instances, and netperf's peer, landed as asked,
        before anything is measured: the curve of "k instances on one
        host" must not be one of instances spread by the scheduler, nor
        the other way round; nor may a VM-to-VM path across the host's
        bridge pass for one across the network."""
        self._check_measured_placement(placement, instances)
        self._check_peer_placement(peer_placement, instances)

    def _check_measured_placement(self, placement, instances):
        measured = self.servers[:instances]
        # nova could not place it: the placement asked for is impossible
        # here (any other boot failure is that instance's own: the others
        # are measured, as always)
        failed = [self.boot_errors[e["server"].id] for e in measured
                  if _unplaceable(self.boot_errors.get(e["server"].id))]
        if placement != "any" and failed:
            raise SweepFailed(
                "placement %s: %s; %s" % (
                    placement, "; ".join(failed),
                    "all instances on one compute host: it must take %d "
                    "of this flavor" % instances if placement == "same_host"
                    else "one instance per compute host: the cloud needs "
                    "%d compute hosts that can each take one" % instances))
        hosts = [e.get("hypervisor") for e in measured]
        if placement == "any" or not hosts:
            return
        if None in hosts:
            self.notes.append(
                "placement %s: enforced by nova's server group; not "
                "checked here (the compute hosts are visible to admins "
                "only)" % placement)
            return
        wrong = (len(set(hosts)) != 1 if placement == "same_host"
                 else len(set(hosts)) != len(hosts))
        if wrong:
            raise SweepFailed("placement %s not honoured: %s" % (
                placement, ", ".join("%s on %s" % (e["server"].name, h)
                                     for e, h in zip(measured, hosts))))
        self.notes.append("placement %s: %s" % (placement, ", ".join(
            "%s on %s" % (e["server"].name, h)
            for e, h in zip(measured, hosts))))

    def _check_peer_placement(self, peer_placement, instances):
        peers = self.servers[instances:]
        if not peers:
            return
        peer = peers[0]
        name, host = peer["server"].name, peer.get("hypervisor")
        error = self.boot_errors.get(peer["server"].id, "")
        if peer_placement != "any" and _unplaceable(error):
            raise SweepFailed(
                "peer_placement %s: %s; the netserver peer needs %s" % (
                    peer_placement, error,
                    "room beside the measured instances"
                    if peer_placement == "same_host" else
                    "a compute host other than the measured instances'"))
        measured = {e.get("hypervisor") for e in self.servers[:instances]
                    if e["server"].id not in self.boot_errors}
        if error or not measured:
            # a peer, or every measured instance, that did not boot fails
            # the workload later, saying so
            return
        if host is None or None in measured:
            if peer_placement == "other_host":
                # a scheduler hint nova may ignore (DifferentHostFilter
                # not enabled): unchecked, it may be the other path
                raise SweepFailed(
                    "peer_placement other_host cannot be checked: the "
                    "compute hosts are visible to admins only (run with "
                    "an admin in the environment, or peer_placement any)")
            if peer_placement == "same_host":
                self.notes.append(
                    "peer_placement same_host: enforced by nova's server "
                    "group; not checked here (the compute hosts are "
                    "visible to admins only)")
            return
        wrong = (peer_placement == "same_host" and measured != {host}) or (
            peer_placement == "other_host" and host in measured)
        if wrong:
            raise SweepFailed(
                "peer_placement %s not honoured: the netserver peer %s is "
                "on %s, the measured instances on %s%s" % (
                    peer_placement, name, host, ", ".join(sorted(measured)),
                    " (nova ignores the different_host hint unless "
                    "DifferentHostFilter is in [filter_scheduler] "
                    "enabled_filters)" if peer_placement == "other_host"
                    else ""))
        self.notes.append("the netserver peer %s runs on %s (%s)" % (
            name, host, "peer_placement %s" % peer_placement
            if peer_placement != "any" else "the scheduler's choice"))

    def _hypervisor(self, server):
        """The compute host the server runs on (admin only), else None."""
        if "admin" not in self.context:
            return None
        try:
            full = self.admin_clients("nova").servers.get(server.id)
        except Exception as e:  # said in the notes (_placement_notes)
            self.hypervisor_errors[server.name] = str(e)
            return None
        return getattr(full, common.HYPERVISOR_ATTR, None)

    def _placement_notes(self, baselines):
        """What the ratios were divided by, where that is not the
        instance's own host's baseline: said, never silent."""
        notes = ["hypervisor of %s unknown (lookup failed: %s): its "
                 "ratios use the baseline filed for any host" % (name, err)
                 for name, err in sorted(self.hypervisor_errors.items())]
        hosts = sorted({str(e.get("hypervisor")) for e in self.servers
                        if e.get("hypervisor")})
        named = sorted(h for h in baselines if h != analysis.ANY_HOST)
        if analysis.ANY_HOST in baselines and hosts and \
                any(h not in baselines for h in hosts):
            notes.append("the instances ran on %s; the one host baseline "
                         "given (of %s) divides all of their values"
                         % (", ".join(hosts), ", ".join(named) or "an "
                            "unnamed host"))
        return notes

    def _connect(self, username, password, port, ssh_timeout, install_command,
                 image):
        pkey = self.context["user"]["keypair"]["private"]
        targets = []
        for entry in self.servers:
            server = entry["server"]
            target = engine.Target(server.name, None,
                                   hypervisor=entry.get("hypervisor"))
            if server.id in self.boot_errors:
                target.broken = self.boot_errors[server.id]
            else:
                target.runner = host_runner.SSHRunner(
                    entry["ip"], user=username, port=port, pkey=pkey,
                    password=password, connect_timeout=ssh_timeout,
                    name=server.name)
            entry["target"] = target
            targets.append(target)
        live = [tg for tg in targets if not tg.broken]
        progress("waiting for SSH on %d instance(s), up to %s s each"
                 % (len(live), ssh_timeout))
        answered = _Counter(len(live))
        by_target = {id(e["target"]): e for e in self.servers}
        with atomic.ActionTimer(self, "kvm_perf.wait_for_ssh"):
            engine.parallel(targets, lambda tg: self._wait_for_ssh(
                tg, by_target[id(tg)]["server"], ssh_timeout, answered))
        with atomic.ActionTimer(self, "kvm_perf.prepare_instances"):
            engine.parallel(targets, lambda tg: self._prepare(
                tg, install_command, image))
        return targets

    def _wait_for_ssh(self, target, server, timeout, answered):
        """Until the instance answers SSH. Stops early when nova says the
        server is in ERROR (or stopped); on timeout the error carries the
        console's evidence of why (no output: it never booted; cloud-init
        without metadata; sshd refusing the key...)."""
        t0 = time.monotonic()
        state = {"next": t0 + STATUS_POLL_S}

        def check():
            if time.monotonic() < state["next"]:
                return
            state["next"] = time.monotonic() + STATUS_POLL_S
            try:
                current = self.clients("nova").servers.get(server.id)
            except Exception:  # a passing API error: keep waiting
                return
            status = getattr(current, "status", "")
            if status in ("ERROR", "SHUTOFF", "DELETED"):
                fault = _fault(current)
                raise exceptions.HostUnreachable(
                    "went to %s%s while waiting for SSH: %s" % (
                        status, " (%s)" % fault if fault else "",
                        self._console_evidence(server, None)))

        try:
            target.runner.wait(timeout=timeout, check=check)
        except exceptions.HostUnreachable as e:
            if "while waiting for SSH" in str(e):
                raise
            raise exceptions.HostUnreachable(
                "did not answer SSH on %s within %s s: %s" % (
                    target.runner.address, timeout,
                    self._console_evidence(
                        server, getattr(target.runner, "last_error", None))
                )) from None
        progress("%s answers SSH (%d of %d, %.0f s)" % (
            server.name, answered.add(), answered.total,
            time.monotonic() - t0))

    def _console_evidence(self, server, ssh_error):
        try:
            text = self.clients("nova").servers.get_console_output(
                server, length=200)
        except Exception as e:  # the evidence must not hide the failure
            return "console log not available (%s)%s" % (
                e, "; last SSH error: %s" % ssh_error if ssh_error else "")
        return console.evidence(text, ssh_error)

    # The guest's own boot must be over before anything is installed or
    # measured: cloud-init's later stages (packages, user scripts) ran beside
    # the first benchmark, seconds to minutes after sshd answered. Where
    # cloud-init did not start in this boot (not installed, as in the local
    # cloud's image, or disabled: no /run/cloud-init; 'status --wait' would
    # wait for ever), systemd's start-up job queue is waited for instead;
    # with neither there is nothing to wait for.
    BOOT_DONE_ARGV = [
        "sh", "-c",
        "if command -v cloud-init >/dev/null 2>&1 && [ -d /run/cloud-init ]; "
        "then cloud-init status --wait --long; "
        "elif [ -d /run/systemd/system ] && command -v systemctl >/dev/null; "
        "then state=$(systemctl is-system-running --wait); rc=$?; "
        "echo \"systemd: $state\"; "
        "[ $rc = 0 ] || systemctl --failed --no-legend --plain; exit $rc; "
        "else echo 'no cloud-init in this boot'; fi"]

    def _settle(self, target):
        """Until the guest's boot is over (cloud-init done, else systemd's
        start-up), up to ``ssh_timeout``. Errors it reports are noted; a
        boot that does not finish marks the instance broken: measuring
        beside it would measure the boot."""
        timeout = getattr(self, "ssh_timeout", None) or 300
        t0 = time.monotonic()
        try:
            res = target.runner.run(self.BOOT_DONE_ARGV, timeout=timeout)
        except exceptions.CommandFailed as e:
            raise exceptions.HostUnreachable(
                "its boot (cloud-init or systemd) did not finish within %s s "
                "after SSH answered: %s" % (timeout, e)) from None
        # kept in the sweep's JSON: how each boot ended, how long it ran on
        # after SSH answered
        # 'status --wait' prints a dot per poll before its "status: done"
        found = re.search(r"(status|systemd): \S+", res.stdout)
        target.boot = {"status": found.group(0) if found else
                       (res.stdout.strip().splitlines() or [""])[0],
                       "exit_code": res.exit_code,
                       "waited_s": time.monotonic() - t0}
        if res.exit_code != 0:
            self.notes.append("%s: its boot reported errors (measured "
                              "anyway): %s" % (target.name, " ".join(
                                  res.stdout.split())[-300:]))

    def _prepare(self, target, install_command, image):
        run = target.runner.run
        self._settle(target)
        if install_command:
            res = run(["sh", "-c", install_command], timeout=1800)
            if res.exit_code != 0:
                raise exceptions.CommandFailed(
                    target.name, "install_command", res.exit_code,
                    res.stderr, res.stdout)
        for tool in self.TOOLS:
            res = run(tools.installed_argv(tool), timeout=60)
            if res.exit_code != 0:
                raise exceptions.CommandFailed(
                    target.name, tool, 127,
                    "%s is not installed in the instance (image %s): add it "
                    "to the image or pass install_command, e.g. 'sudo "
                    "apt-get install -y %s'"
                    % (tool, image, tools.PACKAGES.get(tool, tool)))
        res = run(["id", "-u"], timeout=60)
        target.use_sudo = res.stdout.strip() != "0"
        target.tools = tools.versions(target.runner)

    # a new value at every boot: proof that a reboot really happened
    BOOT_ID_ARGV = ["cat", "/proc/sys/kernel/random/boot_id"]
    # How the guest went down before this boot, from its own journal of
    # that boot (persistent, as Debian's and most cloud images'): an orderly
    # shutdown ends with journald's "Journal stopped"; a power cut (a HARD
    # reboot: nova's fallback when the guest has not shut down within
    # [libvirt] wait_soft_reboot_seconds) ends mid-flight. The boot id
    # follows as "$1".
    LAST_BOOT_ARGV = ["sh", "-c", 'journalctl -b "$1" -o cat --no-pager '
                      '-n 3', "sh"]

    def _reboot_targets(self, targets):
        """The paper's reboot between repetitions, the k instances at once:
        ``sync``, then nova's SOFT reboot -- an orderly shutdown, as the
        paper rebooted (a HARD one is a power cut; nova itself falls back
        to it when the guest ignores the shutdown) -- then SSH again, until
        the guest's boot id has changed. After a reboot the libvirt domain
        is new: runtime pinning is applied again and every instance's
        pinning read back. An instance that does not come back, or whose
        pinning is not in place, is marked broken with the evidence (its
        console); the others go on, and the workload fails in the end."""
        by_name = {e["target"].name: e for e in self.servers
                   if "target" in e}
        timeout = getattr(self, "ssh_timeout", None) or 300

        def one(target):
            server = by_name[target.name]["server"]
            try:
                before = target.runner.run(self.BOOT_ID_ARGV,
                                           timeout=60).stdout.strip()
                target.runner.run(["sync"], timeout=300)
                server.reboot(reboot_type="SOFT")
                deadline = time.monotonic() + timeout
                while True:
                    try:
                        target.runner.reconnect()
                        now = target.runner.run(self.BOOT_ID_ARGV,
                                                timeout=60).stdout.strip()
                        if now and now != before:
                            break
                    except exceptions.KVMPerfError:
                        pass   # down, or coming up: try again
                    if time.monotonic() >= deadline:
                        raise exceptions.HostUnreachable(
                            "not back from its reboot within %s s" % timeout)
                    time.sleep(REBOOT_POLL_S)
                self._settle(target)
                shutdowns[target.name] = self._shutdown_kind(target, before)
            except Exception as e:
                target.broken = "reboot failed: %s; %s" % (
                    e, self._console_evidence(
                        server, getattr(target.runner, "last_error", None)))
                progress("%s FAILED to reboot: %s" % (target.name, e))

        shutdowns = {}
        progress("rebooting %d instance(s): %s" % (
            len(targets), ", ".join(t.name for t in targets)))
        engine.parallel(targets, one)
        self.reboots = getattr(self, "reboots", 0) + 1
        self.reboot_history = getattr(self, "reboot_history", []) + [
            {"reboot": self.reboots, "shutdown": dict(sorted(
                shutdowns.items()))}]
        cut = sorted(n for n, kind in shutdowns.items()
                     if kind == "power cut")
        if cut:
            self.notes.append(
                "reboot %d: %s came back from a power cut (its journal of "
                "the boot before ends without a shutdown): nova's SOFT "
                "reboot did not complete and it fell back to a HARD one"
                % (self.reboots, ", ".join(cut)))
        if getattr(self, "pinning", None) is not None:
            self._pinning_after_reboot([t for t in targets if not t.broken])

    def _shutdown_kind(self, target, boot_id):
        """How the guest went down at the end of boot ``boot_id``:
        "orderly", "power cut", or "unknown: why" (no persistent journal,
        not readable)."""
        argv = engine.as_root(target, self.LAST_BOOT_ARGV
                              + [boot_id.replace("-", "")])
        try:
            res = target.runner.run(argv, timeout=60)
        except exceptions.KVMPerfError as e:
            return "unknown: %s" % e
        if res.exit_code != 0:
            return "unknown: %s" % exceptions.last_line(
                res.stderr or res.stdout or "journalctl exited %s"
                % res.exit_code)
        return ("orderly" if "Journal stopped" in res.stdout
                else "power cut")

    def _pinning_after_reboot(self, targets):
        # every booted server, the ones not rebooted (the peer, idle
        # instances) too: the same plan as after the boot, and the check
        # sees every pinned CPU, so that no two instances share one
        entries = [e for e in self.servers
                   if e["server"].id not in self.boot_errors]
        with atomic.ActionTimer(self, "kvm_perf.check_pinning"):
            report = domains.after_boot(
                self.context, [(e["server"].name, e["server"].id)
                               for e in entries],
                self.admin_clients("nova"), self.flavor_specs)
        report["after_reboot"] = self.reboots
        self.pinning_history.append(report)
        for target in targets:
            why = report["unmet"].get(target.name)
            if why:
                target.broken = ("pinning asked for but not in place after "
                                 "reboot %d: %s" % (self.reboots, why))
        pins = ["%s %s" % (r["instance"], ", ".join(
            "%s→%s" % kv for kv in sorted((r["vcpupin"] or {}).items())))
            for r in report["instances"]]
        self.notes.append("pinning read back after reboot %d: %s" % (
            self.reboots, "; ".join(pins) or "no instance"))

    def _start_peer_netserver(self, target):
        if target.broken:
            raise SweepFailed("the netserver peer instance is not usable: %s"
                              % target.broken)
        port = CONF.kvm_perf.netperf_port
        res = target.runner.run(["netserver", "-p", str(port)], timeout=60)
        if res.exit_code != 0:
            raise exceptions.CommandFailed(target.name, "netserver",
                                           res.exit_code, res.stderr,
                                           res.stdout)
        entry = [e for e in self.servers if e.get("target") is target][0]
        return "%s:%d" % (entry["fixed_ip"], port)

    def _cleanup(self):
        """Close the connections, delete every server and floating IP this
        iteration created; returns what could not be deleted."""
        for entry in getattr(self, "servers", []):
            target = entry.get("target")
            if target is not None and target.runner is not None:
                try:
                    target.runner.close()
                except Exception:  # closing a dead connection may fail
                    pass
        leaks = []
        with atomic.ActionTimer(self, "kvm_perf.delete_servers"):
            for entry in getattr(self, "servers", []):
                # every server and floating IP created goes, also on
                # failure; Rally's cleanup context is only the safety net
                try:
                    self._delete_server(entry["server"])
                except Exception as e:
                    leaks.append("could not delete server %s: %s"
                                 % (entry["server"].name, e))
                fip = entry.get("fip")
                if fip:
                    # by ID: rally-openstack's helper skips a floating IP
                    # its server no longer lists (a server in ERROR)
                    try:
                        self.neutron.delete_floatingip(fip["id"])
                    except Exception as e:
                        leaks.append("could not delete floating IP %s of %s:"
                                     " %s" % (fip["ip"], entry["server"].name,
                                              e))
        leaks += self._volumes_gone()
        group = getattr(self, "server_group", None)
        if group is not None:
            try:
                self.clients("nova").server_groups.delete(group.id)
                self.server_group = None
            except Exception as e:
                leaks.append("could not delete server group %s: %s"
                             % (group.id, e))
        return leaks

    VOLUME_DELETE_TIMEOUT_S = 300

    def _volumes_gone(self):
        """Boot from volume: nova deletes each root volume with its server
        (delete_on_termination); wait until cinder no longer has them, and
        delete any it still has. Returns what could not be deleted."""
        volumes = [(entry["server"].name, vid)
                   for entry in getattr(self, "servers", [])
                   for vid in entry.get("volumes") or []]
        if not volumes:
            return []
        try:
            cinder = self.clients("cinder")
        except Exception as e:
            return ["cannot check that the root volumes %s are gone: %s"
                    % (", ".join(v for _n, v in volumes), e)]
        deadline = time.monotonic() + self.VOLUME_DELETE_TIMEOUT_S
        left = list(volumes)
        with atomic.ActionTimer(self, "kvm_perf.wait_volumes_deleted"):
            while left and time.monotonic() < deadline:
                still = []
                for name, vid in left:
                    try:
                        cinder.volumes.get(vid)
                    except Exception as e:
                        if getattr(e, "code", None) == 404 or \
                                type(e).__name__ == "NotFound":
                            continue
                    still.append((name, vid))
                left = still
                if left:
                    time.sleep(REBOOT_POLL_S)
        leaks = []
        for name, vid in left:
            try:
                cinder.volumes.delete(vid)
                leaks.append("volume %s of %s was still there %d s after "
                             "its server was deleted: deleted it"
                             % (vid, name, self.VOLUME_DELETE_TIMEOUT_S))
            except Exception as e:
                leaks.append("could not delete volume %s of %s: %s"
                             % (vid, name, e))
        return leaks

    # -- report --

    def _report(self, result, runs, targets, benchmarks, baselines,
                warnings, record):
        for complete in charts.sweep_complete(result, runs, targets,
                                              benchmarks, bool(baselines),
                                              warnings):
            self.add_output(complete=complete)
        for complete in charts.contention_charts(record):
            self.add_output(complete=complete)
        # what the SLAs and the exporter read: full precision
        self.add_output(complete=results.to_chart(record))
        for complete in charts.pinning_table(
                getattr(self, "pinning", None),
                self.context.get(common.KEY, {}).get("hypervisors")):
            self.add_output(complete=complete)
        for additive in charts.sweep_additive(result, benchmarks):
            self.add_output(additive=additive)

    def _parameters(self, image, flavor, flavor_specs, instances, levels,
                    repetitions, between, placement):
        """What a sweep's runs depend on: a resumed sweep must match it.
        The flavor by what it gives, not its ID: the kvm_perf_flavor
        context makes a new one (a new ID) for every task."""
        flavor_ram = int(flavor.ram)
        wanted = self._baseline_params(flavor_ram)
        # a subclass that is no registered plugin has no Rally name
        name = (self.get_name() if self._meta_is_inited(raise_exc=False)
                else type(self).__name__)
        return {"scenario": name, "image": str(image),
                "flavor": {"vcpus": int(flavor.vcpus), "ram_mb": flavor_ram,
                           "disk_gb": int(flavor.disk),
                           "extra_specs": dict(sorted(
                               (flavor_specs or {}).items()))},
                "instances": instances,
                "levels": list(levels), "repetitions": repetitions,
                "between_repetitions": between, "placement": placement,
                **{tool: dataclasses.asdict(params) if params else None
                   for tool, params in wanted._asdict().items()
                   # no "fio": None -- a sweep saved before fio resumes
                   if params or tool != "fio"}}

    def _resumable(self, path):
        """The finished runs of an interrupted sweep in ``path`` (resume):
        none without a file; a finished or foreign sweep is refused
        before anything boots."""
        if not path:
            raise exceptions.InvalidArgument(
                "resume needs output_file: the sweep resumes from it")
        if not os.path.exists(path):
            return []
        doc = baseline.read_json(path, "the sweep to resume,")
        if doc.get("status") == "complete":
            raise exceptions.InvalidArgument(
                "resume: the sweep in %s is complete; nothing to resume "
                "(move the file away for a new sweep)" % path)
        # JSON round trip: tuples become lists on both sides
        mine = json.loads(json.dumps(self.parameters))
        theirs = doc.get("parameters") or {}
        diffs = ["%s: %r there, %r here" % (k, theirs.get(k), mine[k])
                 for k in sorted(mine) if theirs.get(k) != mine[k]]
        if diffs:
            raise exceptions.InvalidArgument(
                "resume: %s holds a sweep of other parameters (%s); runs of "
                "another benchmark cannot continue this one" % (
                    path, "; ".join(diffs)))
        runs = doc.get("runs") or []
        self.resumed = "resumed from %s: %d earlier run(s) kept" % (
            path, len([r for r in runs if not any(
                i.get("error") for i in r["instances"])]))
        return runs

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

    def _save_partial(self, path, runs, targets):
        """After every run: what a long sweep has so far, so that an
        interruption (abort, a killed Rally, a lost host) keeps it."""
        self._save(path, runs, None, targets, list(self.notes), None,
                   status="running")

    def _save(self, path, runs, result, targets, warnings, record,
              status="complete"):
        """Everything measured, raw outputs included, to a JSON file."""
        if not path:
            return
        # how each instance was reached: its fixed IP, or a floating IP
        entries = {e["server"].name: e for e in getattr(self, "servers", [])}
        baseline.write_json(path, {
            "schema": "rally-kvm-perf/sweep/1", "status": status,
            "parameters": getattr(self, "parameters", None), "runs": runs,
            "analysis": result, "record": record, "warnings": warnings,
            "instances": [{"name": tg.name, "hypervisor": tg.hypervisor,
                           "broken": tg.broken,
                           "boot": tg.boot,
                           "fixed_ip": entries.get(tg.name, {}).get(
                               "fixed_ip"),
                           "floating_ip": (entries.get(tg.name, {}).get(
                               "fip") or {}).get("ip")}
                          for tg in targets],
            # libvirt's pinning as read after the boot and after each
            # reboot: what every run between them ran with
            "pinning": getattr(self, "pinning_history", []),
            # how each instance went down at each reboot (orderly or not)
            "reboots": getattr(self, "reboot_history", []),
            # adaptive repetitions: how many each level ran, and why
            "adaptive": {str(k): v for k, v in sorted(
                getattr(self, "adaptive", {}).items())}})
