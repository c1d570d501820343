"""KVMPerf.bonnie and KVMPerf.netperf: the paper's sweep as Rally scenarios.

One Rally iteration boots ``instances`` servers once, then for each number
k of active instances and each repetition runs the benchmark in the first k
instances at the same time, and reports every metric per level, as VM/host
ratios when a host baseline is known.
"""

import threading
import time
import typing as t

from oslo_config import cfg
from oslo_log import log as logging
from rally.task import atomic
from rally.task import types
from rally.task import utils as task_utils
from rally.task import validation
from rally_openstack.common import consts
from rally_openstack.task import scenario
from rally_openstack.task.scenarios.vm import utils as vm_utils

from rally_kvm_perf import exceptions
from rally_kvm_perf import opts
from rally_kvm_perf.analysis import sweep as analysis
from rally_kvm_perf.benchmarks import bonnie
from rally_kvm_perf.benchmarks import netperf
from rally_kvm_perf.benchmarks import outputs
from rally_kvm_perf.host import baseline
from rally_kvm_perf.host import runner as host_runner
from rally_kvm_perf.sweep import console
from rally_kvm_perf.sweep import engine
from rally_kvm_perf.task import charts
from rally_kvm_perf.task import validators  # noqa: F401 (registers them)
from rally_kvm_perf.task.contexts import hypervisors as hyper_ctx

CONF = opts.register_opts(cfg.CONF)

HYPERVISOR_ATTR = "OS-EXT-SRV-ATTR:hypervisor_hostname"
# the Rally context key where contexts (kvm_perf_baseline) leave baselines
CONTEXT_KEY = "kvm_perf"


# how often the SSH wait asks nova whether the server is still alive
STATUS_POLL_S = 10

LOG = logging.getLogger(__name__)


def progress(message):
    """A progress line for the operator watching `rally task start`."""
    LOG.info("kvm-perf: %s", message)


def _path_note(host, doc, netperf_params):
    """Which path each side of a netperf ratio measured (report notes)."""
    n = (doc.get("parameters") or {}).get("netperf") or {}
    return ("netperf path: the instances measured against %s:%s, the host "
            "baseline of %s against %s:%s" % (
                netperf_params.host, netperf_params.port, host,
                n.get("host"), n.get("port")))


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


class _Sweep(vm_utils.VMScenario):
    """Shared machinery of KVMPerf.bonnie and KVMPerf.netperf."""

    TOOLS = ()

    def _benchmarks(self, flavor_ram_mb, peer_ip):
        raise NotImplementedError()

    def _baseline_params(self, flavor_ram_mb):
        """(BonnieParams or None, NetperfParams or None) the instances run,
        for comparing with a host baseline."""
        raise NotImplementedError()

    # -- the whole iteration --

    def _sweep(self, image, flavor, instances, active_counts, repetitions,
               between_repetitions, username, password, port,
               use_floating_ip, floating_network, ssh_timeout,
               command_timeout, availability_zone, install_command,
               host_baseline, boot_kwargs, output_file=None, peer=False):
        conf = CONF.kvm_perf
        shared = self.context.get(CONTEXT_KEY, {})
        flavor_specs = None
        if flavor is None:
            if "flavor" not in shared:
                raise exceptions.InvalidArgument(
                    "no flavor: give 'flavor' or add the kvm_perf_flavor "
                    "context")
            flavor = shared["flavor"]["id"]
            flavor_specs = shared["flavor"]["extra_specs"]
        levels = list(active_counts or range(1, instances + 1))
        if max(levels) > instances:
            raise exceptions.InvalidArgument(
                "active_counts %r asks for more than the %d instances booted"
                % (levels, instances))
        flavor_obj = self.clients("nova").flavors.get(flavor)
        flavor_ram = int(flavor_obj.ram)
        if flavor_specs is None:
            try:
                flavor_specs = flavor_obj.get_keys()
            except Exception:  # extra specs are not readable by every user
                flavor_specs = {}
        self.path_notes = []
        baselines, baseline_note = self._load_baselines(host_baseline,
                                                        flavor_ram)
        self.notes = [baseline_note] if baseline_note else []
        self.notes += self.path_notes
        self.notes += shared.get("warnings", [])
        self.servers = []
        try:
            self._boot(image, flavor, instances + (1 if peer else 0),
                       use_floating_ip, floating_network, availability_zone,
                       boot_kwargs or {})
            self.pinning = self._after_boot(flavor_specs)
            targets = self._connect(username, password, port, ssh_timeout,
                                    install_command, image)
            peer_ip = None
            if peer:
                peer_target, targets = targets[-1], targets[:-1]
                peer_ip = self._start_peer_netserver(peer_target)
            healthy = [tg for tg in targets if not tg.broken]
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
                sw = engine.Sweep(
                    healthy, benchmarks, levels_run, repetitions=repetitions,
                    between=between_repetitions,
                    reboot=self._reboot_targets, command_timeout=(
                        command_timeout or conf.command_timeout),
                    timer=lambda name: atomic.ActionTimer(self, name),
                    progress=progress)
                runs = sw.run()
            result = analysis.analyze(runs, baselines)
            versions = sorted({"%s %s" % kv for tg in healthy
                               for kv in getattr(tg, "tools", {}).items()
                               if kv[1]})
            if versions:
                self.notes.append("tools in the instances: %s"
                                  % ", ".join(versions))
            warnings = list(self.notes) + (sw.warnings if sw else [])
            self._report(result, runs, targets, [b.name for b in benchmarks],
                         baselines, warnings)
            self._save(output_file, runs, result, targets, warnings)
            problems = [tg.broken for tg in targets
                        if tg.broken and tg not in healthy]
            message = engine.failure_message(runs)
            if problems or message or not levels_run:
                raise SweepFailed("; ".join(
                    ([message] if message else [])
                    + ["%s" % p for p in problems]
                    + ([] if levels_run else ["no level could run"])))
        finally:
            self._cleanup()

    # -- baselines --

    def _load_baselines(self, path, flavor_ram):
        ctx = self.context.get(CONTEXT_KEY, {}).get("baselines")
        bonnie_params, netperf_params = self._baseline_params(flavor_ram)
        if ctx:  # keyed by hypervisor host name (kvm_perf_baseline context)
            for hv, doc in ctx.items():
                diffs = baseline.differences(doc, bonnie_params,
                                             netperf_params)
                if diffs:
                    raise exceptions.InvalidArgument(
                        "the kvm_perf_baseline context measured %s with other "
                        "parameters than the instances use: %s"
                        % (hv, "; ".join(diffs)))
            self.path_notes = [_path_note(hv, doc, netperf_params)
                               for hv, doc in sorted(ctx.items())
                               if netperf_params is not None and hv != "*"]
            return ({hv: analysis.baseline_samples(doc)
                     for hv, doc in ctx.items()}, None)
        if not path:
            return {}, ("no host baseline (give host_baseline, a file from "
                        "'rally-kvm-perf baseline', or use the "
                        "kvm_perf_baseline context): ratios are absent, "
                        "absolute values only")
        doc = baseline.load(path)
        diffs = baseline.differences(doc, bonnie_params, netperf_params)
        if diffs:
            raise exceptions.InvalidArgument(
                "host baseline %s was taken with other parameters than the "
                "instances use (a ratio of different benchmarks is "
                "meaningless): %s" % (path, "; ".join(diffs)))
        samples = analysis.baseline_samples(doc)
        host = (doc.get("facts") or {}).get("hostname") or doc.get("host")
        if netperf_params is not None:
            self.path_notes = [_path_note(host, doc, netperf_params)]
        return {analysis.ANY_HOST: samples, host: samples}, None

    # -- pinning (kvm_perf_hypervisors) --

    def _after_boot(self, flavor_specs):
        """Runtime pinning and the pinning check, when the
        kvm_perf_hypervisors context is there."""
        shared = self.context.get(CONTEXT_KEY, {})
        if "hypervisors" not in shared or "admin" not in self.context:
            return None
        instances = [(e["server"].name, e["server"].id) for e in self.servers
                     if e["server"].id not in self.boot_errors]
        with atomic.ActionTimer(self, "kvm_perf.check_pinning"):
            report = hyper_ctx.after_boot(
                self.context, instances, self.admin_clients("nova"),
                flavor_specs)
        self.notes += ["pinning: %s" % p for p in report["problems"]]
        return report

    # -- instances --

    def _boot(self, image, flavor, count, use_floating_ip, floating_network,
              availability_zone, boot_kwargs):
        kwargs = dict(boot_kwargs)
        kwargs.setdefault("key_name",
                          self.context["user"]["keypair"]["name"])
        if availability_zone:
            kwargs["availability_zone"] = availability_zone
        kwargs["auto_assign_nic"] = True
        self.boot_errors = {}
        t0 = time.monotonic()
        with atomic.ActionTimer(self, "kvm_perf.boot_%d_servers" % count):
            # create all first (nova boots them in parallel), then wait;
            # each is recorded at once so that cleanup finds it
            for _ in range(count):
                self.servers.append({
                    "server": self._create_server(image, flavor, kwargs),
                    "fip": None})
            progress("booting %d server(s): %s" % (count, ", ".join(
                e["server"].name for e in self.servers)))
            active = 0
            for entry in self.servers:
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
                    self.boot_errors[entry["server"].id] = (
                        "%s never became ACTIVE: %s"
                        % (entry["server"].name, e))
                    progress("server %s FAILED: %s" % (
                        entry["server"].name,
                        self.boot_errors[entry["server"].id]))
        for entry in self.servers:
            server = entry["server"]
            if server.id in self.boot_errors:
                continue
            if use_floating_ip:
                entry["fip"] = self._attach_floating_ip(server,
                                                        floating_network)
                entry["ip"] = entry["fip"]["ip"]
            else:
                network = list(server.networks)[0]
                entry["ip"] = server.addresses[network][0]["addr"]
            network = list(server.networks)[0]
            entry["fixed_ip"] = server.addresses[network][0]["addr"]
            entry["hypervisor"] = self._hypervisor(server)

    def _create_server(self, image, flavor, kwargs):
        kwargs = dict(kwargs)
        secgroup = self.context.get("user", {}).get("secgroup")
        if secgroup:
            kwargs.setdefault("security_groups", [secgroup["name"]])
        if kwargs.pop("auto_assign_nic") and not kwargs.get("nics"):
            nic = self._pick_random_nic()
            if nic:
                kwargs["nics"] = nic
        return self.clients("nova").servers.create(
            self.generate_random_name(), image, flavor, **kwargs)

    def _hypervisor(self, server):
        """The compute host the server runs on (admin only), else None."""
        if "admin" not in self.context:
            return None
        try:
            full = self.admin_clients("nova").servers.get(server.id)
        except Exception:  # the report says "unknown"; nothing else needs it
            return None
        return getattr(full, HYPERVISOR_ATTR, None)

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
            self._parallel(targets, lambda tg: self._wait_for_ssh(
                tg, by_target[id(tg)]["server"], ssh_timeout, answered))
        with atomic.ActionTimer(self, "kvm_perf.prepare_instances"):
            self._parallel(targets, lambda tg: self._prepare(
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
                fault = (getattr(current, "fault", None) or {}).get(
                    "message", "")
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

    @staticmethod
    def _parallel(targets, func):
        """func(target) in one thread per live target; an exception marks
        that target broken with its message."""
        def call(target):
            try:
                func(target)
            except exceptions.KVMPerfError as e:
                target.broken = "%s: %s" % (target.name, e)
            except Exception as e:
                target.broken = "%s: unexpected %s: %s" % (
                    target.name, type(e).__name__, e)
        threads = [threading.Thread(target=call, args=(tg,), daemon=True)
                   for tg in targets if not tg.broken]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    def _prepare(self, target, install_command, image):
        run = target.runner.run
        if install_command:
            res = run(["sh", "-c", install_command], timeout=1800)
            if res.exit_code != 0:
                raise exceptions.CommandFailed(
                    target.name, "install_command", res.exit_code,
                    res.stderr, res.stdout)
        for tool in self.TOOLS:
            res = run(["env", baseline.SBIN_PATH, "sh", "-c",
                       'command -v "$0"', tool], timeout=60)
            if res.exit_code != 0:
                raise exceptions.CommandFailed(
                    target.name, tool, 127,
                    "%s is not installed in the instance (image %s): add it "
                    "to the image or pass install_command, e.g. 'sudo "
                    "apt-get install -y bonnie++ netperf'" % (tool, image))
        res = run(["id", "-u"], timeout=60)
        target.use_sudo = res.stdout.strip() != "0"
        target.tools = baseline.tool_versions(target.runner)

    def _reboot_targets(self, targets):
        by_name = {e["target"].name: e for e in self.servers
                   if "target" in e}
        for target in targets:
            self._reboot_server(by_name[target.name]["server"])
        self._parallel(targets, lambda tg: tg.runner.reconnect())

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
        for entry in getattr(self, "servers", []):
            target = entry.get("target")
            if target is not None and target.runner is not None:
                try:
                    target.runner.close()
                except Exception:  # closing a dead connection may fail
                    pass
        with atomic.ActionTimer(self, "kvm_perf.delete_servers"):
            for entry in getattr(self, "servers", []):
                # every server and floating IP created goes, also on failure;
                # Rally's cleanup context is the safety net behind this
                try:
                    self._delete_server_with_fip(
                        entry["server"], entry["fip"] or {"is_floating": False,
                                                          "ip": None})
                except Exception as e:
                    self.notes.append("could not delete %s: %s"
                                      % (entry["server"].name, e))

    # -- report --

    def _report(self, result, runs, targets, benchmarks, baselines,
                warnings):
        for complete in charts.sweep_complete(result, runs, targets,
                                              benchmarks, bool(baselines),
                                              warnings):
            self.add_output(complete=complete)
        for complete in charts.pinning_table(
                getattr(self, "pinning", None),
                self.context.get(CONTEXT_KEY, {}).get("hypervisors")):
            self.add_output(complete=complete)
        for additive in charts.sweep_additive(result, benchmarks):
            self.add_output(additive=additive)

    def _save(self, path, runs, result, targets, warnings):
        """Everything measured, raw outputs included, to a JSON file."""
        if not path:
            return
        baseline.write_json(path, {
            "schema": "rally-kvm-perf/sweep/1", "runs": runs,
            "analysis": result, "warnings": warnings,
            "instances": [{"name": tg.name, "hypervisor": tg.hypervisor,
                           "broken": tg.broken} for tg in targets]})


_COMMON_PARAMS = """
        :param image: glance image with bonnie++ and netperf installed
        :param flavor: flavor of the instances (the paper: 2 vCPU, 2 GB RAM,
            40 GB disk); default: the kvm_perf_flavor context's
        :param instances: instances booted once for the whole sweep
        :param active_counts: numbers of instances running the benchmark at
            the same time, e.g. [1, 2, 4, 8]; default 1..instances
        :param repetitions: runs per level (the paper: 10)
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
        :param install_command: shell command run in each instance before
            the sweep, e.g. "sudo apt-get install -y bonnie++ netperf"
        :param host_baseline: baseline JSON file from ``rally-kvm-perf
            baseline`` (taken with the same benchmark parameters); without
            it and without the kvm_perf_baseline context only absolute
            values are reported
        :param boot_kwargs: extra arguments for nova's server create
        :param output_file: also write everything measured (raw outputs,
            per-run metrics, the analysis) to this JSON file
"""


def _doc(text):
    return text.replace("{common}", _COMMON_PARAMS.strip("\n"))


_VALIDATORS = [
    # nullable: an argument left out takes run()'s default
    ("number", {"param_name": "instances", "minval": 1, "integer_only": True,
                "nullable": True}),
    ("number", {"param_name": "repetitions", "minval": 1,
                "integer_only": True, "nullable": True}),
    ("number", {"param_name": "port", "minval": 1, "maxval": 65535,
                "integer_only": True, "nullable": True}),
    ("number", {"param_name": "ssh_timeout", "minval": 1, "nullable": True}),
    ("enum", {"param_name": "between_repetitions",
              "values": list(engine.BETWEEN), "missed": True}),
    ("kvm_perf_active_counts", {}),
    ("required_param_or_context", {"param_name": "flavor",
                                   "ctx_name": "kvm_perf_flavor"}),
    ("external_network_exists", {"param_name": "floating_network"}),
    ("required_services", {"services": [consts.Service.NOVA]}),
    ("required_platform", {"platform": "openstack", "users": True}),
]


def _validated(cls):
    for name, kwargs in _VALIDATORS:
        cls = validation.add(name, **kwargs)(cls)
    return cls


@types.convert(image={"type": "glance_image"}, flavor={"type": "nova_flavor"})
@_validated
@validation.add("file_exists", param_name="host_baseline", required=False)
@validation.add("number", param_name="bonnie_size_mb", minval=1,
                integer_only=True, nullable=True)
@scenario.configure(context={"cleanup@openstack": ["nova", "neutron"],
                             "keypair@openstack": {},
                             "allow_ssh@openstack": None},
                    name="KVMPerf.bonnie", platform="openstack")
class Bonnie(_Sweep):
    """bonnie++ in 1..N instances at once (see run())."""

    TOOLS = ("bonnie++",)

    def run(self, image, flavor=None,
            instances: int = 10,
            active_counts: t.Optional[t.List[int]] = None,
            repetitions: int = 10,
            between_repetitions: str = "drop_caches",
            username: str = "debian",
            password: t.Optional[str] = None,
            port: int = 22,
            use_floating_ip: bool = True,
            floating_network: t.Optional[str] = None,
            ssh_timeout: int = 300,
            command_timeout: t.Optional[int] = None,
            availability_zone: t.Optional[str] = None,
            install_command: t.Optional[str] = None,
            host_baseline: t.Optional[str] = None,
            boot_kwargs: t.Optional[dict] = None,
            output_file: t.Optional[str] = None,
            bonnie_directory: str = "/var/tmp",
            bonnie_size_mb: t.Optional[int] = None,
            bonnie_files: t.Union[int, str, None] = None,
            bonnie_fast: bool = False,
            force: bool = False,
            bonnie_extra_args: t.Optional[t.List[str]] = None) -> None:
        """bonnie++ in 1, 2, ... N instances at the same time, vs the host.

        Boots ``instances`` servers once, then for each number k in
        ``active_counts`` and each repetition starts bonnie++ in the first k
        instances together (a barrier) and records each instance's start
        and end, so that the report shows how well the runs overlapped.
        Every metric (char/block write, rewrite, char/block read, seeks,
        file tests, %CPU, latencies) is reported per level as the
        instances' mean with its 95% interval and, with a host baseline, as
        a VM/host ratio (1.0 = parity, below 1.0 the VM does worse) with
        the fitted line of ratio against active instances (slope, R²).
        One instance failing does not discard the others' results: the
        failure is reported with instance, level, repetition and cause, and
        the iteration fails after the report is written. Every server and
        floating IP is deleted at the end.

        {common}
        :param bonnie_directory: directory in the instances bonnie++ writes
            to (on the instance's disk)
        :param bonnie_size_mb: file size in MiB (default twice the flavor's
            RAM)
        :param bonnie_files: bonnie++ -n (default: bonnie++'s 16; 0 skips
            the file tests)
        :param bonnie_fast: bonnie++ -f: skip the per-char tests
        :param force: allow a file size below twice the flavor's RAM
        :param bonnie_extra_args: further bonnie++ arguments
        """
        self.bonnie_options = {
            "directory": bonnie_directory, "size_mb": bonnie_size_mb,
            "files": bonnie_files, "fast": bonnie_fast, "force": force,
            "extra_args": list(bonnie_extra_args or [])}
        self._sweep(image, flavor, instances, active_counts, repetitions,
                    between_repetitions, username, password, port,
                    use_floating_ip, floating_network, ssh_timeout,
                    command_timeout, availability_zone, install_command,
                    host_baseline, boot_kwargs, output_file)

    run.__doc__ = _doc(run.__doc__)

    def _bonnie_argv(self, flavor_ram_mb, user=None):
        o = self.bonnie_options
        return bonnie.build_command(
            o["directory"], size_mb=o["size_mb"],
            machine_ram_mb=flavor_ram_mb, files=o["files"], user=user,
            fast=o["fast"], force=o["force"], extra_args=o["extra_args"])

    def _benchmarks(self, flavor_ram_mb, peer_ip):
        # as root (sudo for other users): the same privileges as on the
        # host, and bonnie++ then needs -u root
        return [engine.Benchmark(outputs.BONNIE,
                                 self._bonnie_argv(flavor_ram_mb, "root"),
                                 as_root=True)]

    def _baseline_params(self, flavor_ram_mb):
        argv = self._bonnie_argv(flavor_ram_mb)
        o = self.bonnie_options
        size = int(argv[argv.index("-s") + 1].split(":")[0])
        return (baseline.BonnieParams(
            directory=o["directory"], size_mb=size,
            files=None if o["files"] is None else str(o["files"]),
            fast=o["fast"], extra_args=tuple(o["extra_args"])), None)


@types.convert(image={"type": "glance_image"}, flavor={"type": "nova_flavor"})
@_validated
@validation.add("file_exists", param_name="host_baseline", required=False)
@validation.add("number", param_name="duration", minval=1, integer_only=True,
                nullable=True)
@validation.add("number", param_name="message_size", minval=1,
                integer_only=True, nullable=True)
@scenario.configure(context={"cleanup@openstack": ["nova", "neutron"],
                             "keypair@openstack": {},
                             "allow_ssh@openstack": None},
                    name="KVMPerf.netperf", platform="openstack")
class Netperf(_Sweep):
    """netperf in 1..N instances at once (see run())."""

    TOOLS = ("netperf", "netserver")

    def run(self, image, flavor=None,
            netserver: str = "peer",
            tests: t.Optional[t.List[t.Literal["TCP_STREAM", "UDP_STREAM",
                                               "TCP_RR"]]] = None,
            duration: int = 60,
            message_size: t.Optional[int] = None,
            instances: int = 10,
            active_counts: t.Optional[t.List[int]] = None,
            repetitions: int = 10,
            between_repetitions: str = "drop_caches",
            username: str = "debian",
            password: t.Optional[str] = None,
            port: int = 22,
            use_floating_ip: bool = True,
            floating_network: t.Optional[str] = None,
            ssh_timeout: int = 300,
            command_timeout: t.Optional[int] = None,
            availability_zone: t.Optional[str] = None,
            install_command: t.Optional[str] = None,
            host_baseline: t.Optional[str] = None,
            boot_kwargs: t.Optional[dict] = None,
            output_file: t.Optional[str] = None) -> None:
        """netperf in 1, 2, ... N instances at the same time, vs the host.

        Boots ``instances`` servers once, then for each number k in
        ``active_counts`` and each repetition runs every netperf test in
        the first k instances together (a barrier) against one netserver,
        recording each run's start and end. Throughput (TCP_STREAM;
        UDP_STREAM: what reached the receiver), and for TCP_RR transactions
        per second and latency percentiles, are reported per level as the
        instances' mean and, with a host baseline measured against the same
        netserver, as VM/host ratios with the fitted line of ratio against
        active instances. Failures are reported per instance, level and
        repetition without losing the other instances' results; every
        server and floating IP is deleted at the end.

        :param netserver: netserver the instances measure against:
            "HOST[:PORT]" (the same target the host baseline used, so that
            the ratio is fair) or "peer" (default): one more instance is
            booted and runs netserver, reached on its fixed IP
        :param tests: any of TCP_STREAM, UDP_STREAM, TCP_RR (default the
            first two, as in the paper)
        :param duration: seconds per test (the paper: 60-120)
        :param message_size: send size of the stream tests in bytes
        {common}
        """
        self.netperf_options = {
            "netserver": netserver,
            "tests": [x.upper() for x in (tests or ["TCP_STREAM",
                                                    "UDP_STREAM"])],
            "duration": duration, "message_size": message_size}
        if netserver != "peer":
            netperf.parse_netserver(netserver)  # fail before booting
        self._sweep(image, flavor, instances, active_counts, repetitions,
                    between_repetitions, username, password, port,
                    use_floating_ip, floating_network, ssh_timeout,
                    command_timeout, availability_zone, install_command,
                    host_baseline, boot_kwargs, output_file,
                    peer=netserver == "peer")

    run.__doc__ = _doc(run.__doc__)

    def _benchmarks(self, flavor_ram_mb, peer_ip):
        o = self.netperf_options
        host, port = netperf.parse_netserver(
            peer_ip or o["netserver"], CONF.kvm_perf.netperf_port)
        return [engine.Benchmark(
            outputs.netperf_name(test), netperf.build_command(
                test, host, port=port, duration=o["duration"],
                message_size=(o["message_size"] if test != "TCP_RR"
                              else None)))
            for test in o["tests"]]

    def _baseline_params(self, flavor_ram_mb):
        o = self.netperf_options
        if o["netserver"] == "peer":
            host, port = "peer", CONF.kvm_perf.netperf_port
        else:
            host, port = netperf.parse_netserver(o["netserver"],
                                                 CONF.kvm_perf.netperf_port)
        return (None, baseline.NetperfParams(
            host=host, port=port, tests=tuple(o["tests"]),
            duration=o["duration"], message_size=o["message_size"]))
