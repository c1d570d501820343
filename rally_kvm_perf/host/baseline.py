"""The host baseline: bonnie++, fio and netperf repeated N times on a
physical host.

Every VM/host ratio divides by what this measures. The document it writes
(JSON) keeps raw outputs, parsed samples, statistics, tool versions, host
facts and the exact parameters, so that a later comparison can refuse a
baseline taken with different parameters.

The document is rewritten (atomically) after every sample: an interrupted or
failed run still leaves everything measured so far on disk.
"""

import contextlib
import dataclasses
import datetime
import shlex
import time

from oslo_log import log as logging

from rally_kvm_perf import documents
from rally_kvm_perf import exceptions
from rally_kvm_perf import metrics
from rally_kvm_perf.analysis import stats
from rally_kvm_perf.benchmarks import bonnie
from rally_kvm_perf.benchmarks import fio
from rally_kvm_perf.benchmarks import netperf
from rally_kvm_perf.benchmarks import outputs
from rally_kvm_perf.benchmarks import params
from rally_kvm_perf.benchmarks import tools
from rally_kvm_perf.host import facts as host_facts
from rally_kvm_perf.host import netserver as local_netserver
from rally_kvm_perf.host import runner as host_runner

LOG = logging.getLogger(__name__)

SCHEMA = "rally-kvm-perf/baseline/1"
BONNIE = outputs.BONNIE
FIO = outputs.FIO


def _now():
    return datetime.datetime.now(datetime.timezone.utc).isoformat(
        timespec="seconds")


class Baseline:
    """Runs the host baseline on one host through a runner."""

    def __init__(self, runner, params, output_path=None, progress=None,
                 timer=None):
        params.validate()
        self.runner = runner
        self.params = params
        self.output_path = output_path
        self.progress = progress or LOG.info
        # timer(name) -> context manager around each benchmark command
        # (Rally scenarios pass an atomic action timer)
        self.timer = timer or (lambda name: contextlib.nullcontext())
        self.started = None
        self.doc = None
        self._commands = {}

    # -- set-up checks: fail in seconds, not after an hour of bonnie++ --

    def _prepare(self):
        facts_out = host_runner.check(self.runner, host_facts.FACTS_COMMAND,
                                      timeout=60)
        facts = host_facts.parse_facts(facts_out.stdout)
        versions = tools.versions(self.runner)
        self.doc = {
            "schema": SCHEMA, "status": "running", "created_at": _now(),
            "finished_at": None, "host": self.runner.name, "facts": facts,
            "tools": versions, "parameters": self._parameters(facts),
            "benchmarks": {}, "errors": [], "warnings": []}
        for tool in (([BONNIE] if self.params.bonnie else [])
                     + ([FIO] if self.params.fio else [])
                     + ([netperf.BINARY] if self.params.netperf else [])):
            if versions.get(tool) is None:
                raise exceptions.CommandFailed(
                    self.runner.name, tool, 127,
                    "%s is not installed on %s (Debian: apt-get install %s)"
                    % (tool, self.runner.name, tools.PACKAGES[tool]))
        for tool, p in ((BONNIE, self.params.bonnie), (FIO, self.params.fio)):
            if not p:
                continue
            res = self.runner.run(["test", "-d", p.directory, "-a", "-w",
                                   p.directory], timeout=30)
            if res.exit_code != 0:
                raise exceptions.InvalidArgument(
                    "%s directory %s does not exist or is not writable "
                    "on %s" % (tool, p.directory, self.runner.name))
        if self.params.netperf:
            self._check_netserver()

    def _parameters(self, facts):
        p = self.params
        doc = {"runs": p.runs, "drop_caches": p.drop_caches,
               "bonnie": None, "netperf": None, "fio": None}
        if p.bonnie:
            b = p.bonnie
            user = b.user or ("root" if facts["running_as_root"] else None)
            argv = bonnie.build_command(b.directory, bonnie.Options(
                size_mb=b.size_mb, ram_mb=b.ram_mb, files=b.files, user=user,
                fast=b.fast, force=b.force, extra_args=b.extra_args),
                machine_ram_mb=facts["ram_mb"])
            self._commands[BONNIE] = argv
            doc["bonnie"] = dict(dataclasses.asdict(b), user=user,
                                 extra_args=list(b.extra_args),
                                 size_mb=int(argv[argv.index("-s") + 1]
                                             .split(":")[0]),
                                 command=shlex.join(argv))
        if p.fio:
            argv = p.fio.argv()
            self._commands[FIO] = argv
            doc["fio"] = dict(dataclasses.asdict(p.fio), jobs=list(p.fio.jobs),
                              extra_args=list(p.fio.extra_args),
                              command=shlex.join(argv))
        if p.netperf:
            n = p.netperf
            doc["netperf"] = dict(dataclasses.asdict(n), tests=list(n.tests),
                                  commands={})
            for test in n.tests:
                argv = netperf.build_command(test, n.host, netperf.Options(
                    port=n.port, duration=n.duration,
                    message_size=(n.message_size if test != "TCP_RR"
                                  else None),
                    confidence=n.confidence, cpu=n.cpu,
                    data_port=n.data_port))
                self._commands[outputs.netperf_name(test)] = argv
                doc["netperf"]["commands"][test] = shlex.join(argv)
        return doc

    def _check_netserver(self):
        n = self.params.netperf
        argv = netperf.build_command("TCP_STREAM", n.host, netperf.Options(
            port=n.port, duration=1))
        res = self.runner.run(argv, timeout=60)
        if res.exit_code != 0:
            raise exceptions.HostUnreachable(
                "netserver %s:%d is not reachable from %s: %s"
                % (n.host, n.port, self.runner.name,
                   exceptions.last_line(res.stderr or res.stdout)
                   or "exit code %d" % res.exit_code))

    # -- the measurement loop --

    def run(self):
        self.started = time.monotonic()
        try:
            self._prepare()
            self._save()
            for i in range(1, self.params.runs + 1):
                for name, argv in self._commands.items():
                    self._sample(name, argv, i)
            self.doc["status"] = "complete"
        except (exceptions.KVMPerfError, KeyboardInterrupt) as e:
            if self.doc is None:
                raise
            self.doc["status"] = "failed"
            self.doc["errors"].append({"message": str(e) or type(e).__name__,
                                       "at": _now()})
            e.document = self.doc  # what was measured before the failure
            raise
        finally:
            if self.doc is not None:
                self.doc["finished_at"] = _now()
                self._summarize()
                self._save()
        return self.doc

    def _elapsed(self):
        return "%.0fs" % (time.monotonic() - self.started)

    def _sample(self, name, argv, i):
        bench = self.doc["benchmarks"].setdefault(
            name, {"command": shlex.join(argv), "samples": [],
                   "statistics": {}})
        caches_dropped = None
        if self.params.drop_caches and name in outputs.DISK:
            caches_dropped = self._drop_caches()
        self.progress("%s: %s run %d/%d started (elapsed %s)"
                      % (self.runner.name, name, i, self.params.runs,
                         self._elapsed()))
        sample = {"run": i, "started_at": _now(),
                  "caches_dropped": caches_dropped}
        t0 = time.monotonic()
        with self.timer(name):
            res = self.runner.run(argv, timeout=self.params.timeout)
        sample.update({"duration_s": round(time.monotonic() - t0, 3),
                       "exit_code": res.exit_code, "stdout": res.stdout,
                       "stderr": res.stderr})
        bench["samples"].append(sample)
        if res.exit_code != 0:
            self._save()
            raise exceptions.CommandFailed(self.runner.name, shlex.join(argv),
                                           res.exit_code, res.stderr,
                                           res.stdout)
        try:
            sample["metrics"], warnings = outputs.parse_metrics(
                name, res.stdout)
        except exceptions.ParseError as e:
            self._save()
            raise exceptions.ParseError("%s run %d on %s: %s"
                                        % (name, i, self.runner.name, e)) from None
        for warning in warnings:
            self.doc["warnings"].append("%s run %d: %s" % (name, i, warning))
        self.progress("%s: %s run %d/%d done in %.1fs: %s"
                      % (self.runner.name, name, i, self.params.runs,
                         sample["duration_s"], _headline(sample["metrics"])))
        self._save()

    def _drop_caches(self):
        res = self.runner.run(host_runner.DROP_CACHES, timeout=600)
        if res.exit_code == 0:
            return True
        warning = ("could not drop page caches on %s (root needed): %s"
                   % (self.runner.name,
                      exceptions.last_line(res.stderr) or res.exit_code))
        if warning not in self.doc["warnings"]:
            self.doc["warnings"].append(warning)
            LOG.warning(warning)
        return False

    def _summarize(self):
        for bench in self.doc["benchmarks"].values():
            samples = [s["metrics"] for s in bench["samples"] if "metrics" in s]
            names = [k for k in metrics.ordered(
                {k for s in samples for k in s}) if k in metrics.METRICS]
            bench["statistics"] = {
                # raw samples live once, in bench["samples"]
                name: stats.summarize((s.get(name) for s in samples),
                                      keep_samples=False)
                for name in names}

    def _save(self):
        if self.output_path:
            documents.write_json(self.output_path, self.doc)


BONNIE_OPTIONS = ("directory", "size_mb", "ram_mb", "files", "fast", "user",
                  "force", "extra_args")
NETPERF_OPTIONS = ("netserver", "tests", "duration", "message_size",
                   "confidence", "cpu", "data_port")


def _options(tool, options, known):
    """``options`` as a dict, an unknown key named."""
    options = dict(options)
    unknown = sorted(set(options) - set(known))
    if unknown:
        raise exceptions.InvalidArgument(
            "%s options: unknown %s (known: %s)" % (
                tool, ", ".join(unknown), ", ".join(known)))
    return options


def bonnie_params(conf, options):
    """BonnieParams from flat options (BONNIE_OPTIONS; directory default
    ``conf.bonnie_directory``); None: bonnie++ is not run."""
    if options is None:
        return None
    o = _options("bonnie++", options, BONNIE_OPTIONS)
    return params.BonnieParams(
        directory=o.get("directory") or conf.bonnie_directory,
        size_mb=o.get("size_mb"), ram_mb=o.get("ram_mb"),
        files=None if o.get("files") is None else str(o["files"]),
        fast=bool(o.get("fast")), force=bool(o.get("force")),
        user=o.get("user"), extra_args=tuple(o.get("extra_args") or ()))


def netperf_params(conf, options):
    """NetperfParams from flat options (NETPERF_OPTIONS; ``netserver`` is
    ``HOST[:PORT]``, None: a private loopback one); None: netperf is not
    run."""
    if options is None:
        return None
    o = _options("netperf", options, NETPERF_OPTIONS)
    host, port = None, None
    if o.get("netserver"):
        host, port = netperf.parse_netserver(o["netserver"],
                                             conf.netperf_port)
    return params.NetperfParams(
        host=host, port=port,
        tests=tuple(t.upper() for t in (o.get("tests") or netperf.TESTS)),
        duration=o.get("duration") or conf.netperf_duration,
        message_size=o.get("message_size"), confidence=o.get("confidence"),
        cpu=bool(o.get("cpu")), data_port=o.get("data_port"))


def fio_params(conf, options):
    """FioParams from fio's options (its fields; directory default
    ``conf.bonnie_directory``); None: fio is not run."""
    if options is None:
        return None
    options = dict(options)
    options["directory"] = options.get("directory") or conf.bonnie_directory
    if options.get("jobs") is not None:
        options["jobs"] = fio.parse_jobs(options["jobs"])
    options["extra_args"] = tuple(options.get("extra_args") or ())
    try:
        return params.FioParams(**{k: v for k, v in options.items()
                                   if v is not None})
    except TypeError as e:
        raise exceptions.InvalidArgument("fio options: %s" % e) from None


def make_params(conf, runs=None, bonnie_options=None, netperf_options=None,
                fio_options=None, drop_caches=True, timeout=None):
    """BaselineParams from each tool's flat options (the CLI's, a Rally
    scenario's or context's; None: that tool is not run): bonnie_params,
    netperf_params, fio_params. What is not given comes from ``conf``, the
    ``[kvm_perf]`` option group."""
    return params.BaselineParams(
        runs=conf.repetitions if runs is None else runs,
        bonnie=bonnie_params(conf, bonnie_options),
        netperf=netperf_params(conf, netperf_options),
        fio=fio_params(conf, fio_options),
        drop_caches=bool(drop_caches),
        timeout=timeout or conf.command_timeout)


def make_runner(conf, host=None, ssh_key_file=None):
    """This machine, or ``[USER@]HOST[:PORT]`` over SSH."""
    if not host:
        return host_runner.LocalRunner()
    user, address, port = host_runner.parse_ssh_target(
        host, conf.ssh_user, conf.ssh_port)
    return host_runner.SSHRunner(
        address, host_runner.Login(
            user, key_filename=ssh_key_file or conf.ssh_key_file),
        port=port, known_hosts=conf.ssh_known_hosts)


def measure(runner, params, output_path=None, progress=None, timer=None):
    """Run the baseline and return its document.

    Without a netserver target (``params.netperf.host`` None) a private
    netserver is started on a free loopback port for the run and stopped
    afterwards, whatever happens; that is possible only on this machine.
    """
    net = params.netperf
    if net is None or net.host is not None:
        return Baseline(runner, params, output_path, progress, timer).run()
    if not runner.is_local:
        raise exceptions.InvalidArgument(
            "a netserver target (HOST[:PORT]) is required to measure %s: "
            "give the same netserver the instances will use" % runner.name)
    with local_netserver.LocalNetserver() as (host, port):
        LOG.info("started a private netserver on %s:%d", host, port)
        params = dataclasses.replace(
            params, netperf=dataclasses.replace(net, host=host, port=port))
        return Baseline(runner, params, output_path, progress, timer).run()


def _headline(sample_metrics):
    found = metrics.headline(sample_metrics)
    return ("%s=%.6g" % found) if found else "no headline metric measured"


def load(path):
    """Load a baseline document, checking that it is one."""
    doc = documents.read_json(path, "baseline file")
    if not isinstance(doc, dict) or doc.get("schema") != SCHEMA:
        raise exceptions.InvalidArgument(
            "%s is not a rally-kvm-perf baseline (schema %r expected)"
            % (path, SCHEMA))
    return doc


def differences(doc, bonnie_params=None, netperf_params=None,
                fio_params=None):
    """Why a baseline cannot be the denominator of a sweep's ratios.

    :param doc: a baseline document
    :param bonnie_params: BonnieParams the instances run, or None
    :param netperf_params: NetperfParams the instances run, or None
    :param fio_params: FioParams the instances run, or None
    :returns: list of sentences, empty when the benchmarks are identical
        (a ratio of different benchmarks is meaningless)
    """
    params = doc.get("parameters") or {}
    out = []
    for tool, wanted, check in (("bonnie++", bonnie_params, _bonnie_diff),
                                ("fio", fio_params, _fio_diff),
                                ("netperf", netperf_params, _netperf_diff)):
        if wanted is None:
            continue
        host = params.get("bonnie" if tool == "bonnie++" else tool)
        if not host:
            out.append("%s: the host baseline has no %s run" % (tool, tool))
        else:
            out.extend(check(host, wanted))
    return out


def _differ(tool, key, host_value, vm_value):
    """[the sentence] where the host's and the instances' values differ."""
    if host_value == vm_value:
        return []
    return ["%s %s: host baseline %r, instances %r"
            % (tool, key, host_value, vm_value)]


def _missing(what, wanted, had):
    """[the sentence] where the instances run a job/test the host did not."""
    missing = [x for x in wanted if x not in (had or [])]
    if not missing:
        return []
    return ["%s %s: not in the host baseline (%s)"
            % (what, ", ".join(missing), ", ".join(had or []))]


def _bonnie_diff(host, wanted):
    return (_differ("bonnie++", "size_mb", host.get("size_mb"),
                    wanted.size_mb)
            + _differ("bonnie++", "files", host.get("files"),
                      None if wanted.files is None else str(wanted.files))
            + _differ("bonnie++", "fast", bool(host.get("fast")),
                      bool(wanted.fast))
            # e.g. -D (O_DIRECT) changes what is measured
            + _differ("bonnie++", "extra_args",
                      list(host.get("extra_args") or []),
                      list(wanted.extra_args or [])))


def _fio_diff(host, wanted):
    out = _missing("fio jobs", wanted.jobs, host.get("jobs"))
    for key in ("size_mb", "runtime", "ramp_time", "iodepth", "ioengine"):
        out += _differ("fio", key, host.get(key), getattr(wanted, key))
    return out + _differ("fio", "extra_args",
                         list(host.get("extra_args") or []),
                         list(wanted.extra_args or []))


def _netperf_diff(host, wanted):
    out = _missing("netperf tests", wanted.tests, host.get("tests"))
    # the same path: a baseline against another netserver (its loopback,
    # the gateway, another host) measures something else
    host_target = "%s:%s" % (host.get("host"),
                             host.get("port") or netperf.DEFAULT_PORT)
    vm_target = "%s:%s" % (wanted.host, wanted.port or netperf.DEFAULT_PORT)
    if wanted.host == "peer":
        out.append("netperf target: the instances measure against the peer "
                   "instance, the host baseline against %s (another path: "
                   "give netserver HOST:PORT, the baseline's target)"
                   % host_target)
    elif wanted.host is not None and host_target != vm_target:
        out.append("netperf target: host baseline measured against %s, "
                   "instances against %s (another path)"
                   % (host_target, vm_target))
    return (out
            + _differ("netperf", "duration", host.get("duration"),
                      wanted.duration)
            # -c -C: CPU measured on both sides (rally-kvm-perf baseline
            # --cpu); without it the CPU columns have no host side
            + _differ("netperf", "cpu", bool(host.get("cpu")),
                      bool(wanted.cpu))
            + _differ("netperf", "message_size", host.get("message_size"),
                      wanted.message_size))
