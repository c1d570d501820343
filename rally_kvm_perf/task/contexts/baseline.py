"""kvm_perf_baseline: the host baseline of every compute host."""

import os

from rally import exceptions as rally_exceptions
from rally.common import validation
from rally_openstack.task import context

from rally_kvm_perf import exceptions
from rally_kvm_perf import opts
from rally_kvm_perf.benchmarks import fio
from rally_kvm_perf.benchmarks import netperf
from rally_kvm_perf.host import baseline
from rally_kvm_perf.host import runner as host_runner
from rally_kvm_perf.task.contexts import common

CONF = opts.CONF


@validation.add("required_platform", platform="openstack", admin=True)
@context.configure(name="kvm_perf_baseline", order=343)
class KVMPerfBaseline(context.OpenStackContext):
    """Host baseline of each compute host, for the VM/host ratios.

    Either loads baseline files made earlier by ``rally-kvm-perf baseline``
    (``file`` for every host, or ``files`` per host name), or measures each
    compute host found by the kvm_perf_hypervisors context (which must run
    too; ``hosts`` narrows the list) over SSH: bonnie++ in the directory
    that backs instance disks (default ``/var/lib/nova/instances``) and
    netperf against the same netserver the instances use. The parameters
    must be the scenario's (bonnie++ size and file count, netperf tests,
    duration and message size): the scenario refuses a baseline of a
    different benchmark. Baselines land in ``context["kvm_perf"]
    ["baselines"]`` keyed by hypervisor host name, and are written to
    ``output_dir`` (default ``[kvm_perf] baseline_directory``).
    ``repetitions`` (default ``[kvm_perf] repetitions``) and
    ``drop_caches`` (before each bonnie++ run, default true) are the
    measurement's; ``bonnie``, ``fio`` and ``netperf`` (absent or null:
    not measured) take the benchmark parameters (fio's as KVMPerf.fio's
    without the ``fio_`` prefix; its directory defaults to bonnie++'s),
    netperf's ``netserver`` as HOST[:PORT] (not "peer": no instance exists
    yet) and ``cpu`` (-c -C, default true).
    """

    UNREPORTED_KEYS = ()   # task/reportable.py: every key may be shown

    CONFIG_SCHEMA = {
        "type": "object",
        "properties": {
            "file": {"type": "string"},
            "files": {"type": "object",
                      "additionalProperties": {"type": "string"}},
            "hosts": {"type": "array", "items": {"type": "string"}},
            "repetitions": {"type": "integer", "minimum": 1},
            "drop_caches": {"type": "boolean"},
            "output_dir": {"type": "string"},
            "bonnie": {
                "type": ["object", "null"],
                "properties": {
                    "directory": {"type": "string"},
                    "size_mb": {"type": "integer", "minimum": 1},
                    "files": {"type": ["integer", "string"]},
                    "fast": {"type": "boolean"},
                    "force": {"type": "boolean"},
                    "extra_args": {"type": "array",
                                   "items": {"type": "string"}},
                },
                "required": ["size_mb"], "additionalProperties": False},
            "fio": {
                "type": ["object", "null"],
                "properties": {
                    "directory": {"type": "string"},
                    "jobs": {"type": "array", "minItems": 1,
                             "items": {"enum": list(fio.JOBS)}},
                    "size_mb": {"type": "integer", "minimum": 1},
                    "runtime": {"type": "integer", "minimum": 1},
                    "ramp_time": {"type": "integer", "minimum": 0},
                    "iodepth": {"type": "integer", "minimum": 1},
                    "ioengine": {"type": "string"},
                    "extra_args": {"type": "array",
                                   "items": {"type": "string"}},
                },
                "additionalProperties": False},
            "netperf": {
                "type": ["object", "null"],
                "properties": {
                    "netserver": {"type": "string"},
                    "tests": {"type": "array", "items": {
                        "enum": list(netperf.TESTS)}},
                    "duration": {"type": "integer", "minimum": 1},
                    "message_size": {"type": "integer", "minimum": 1},
                    # CPU on both sides (-c -C), as the scenario's default
                    "cpu": {"type": "boolean"},
                },
                "required": ["netserver"], "additionalProperties": False},
        },
        "additionalProperties": False,
    }

    def setup(self):
        shared = common.shared(self.context)
        docs = {}
        if self.config.get("file") or self.config.get("files"):
            docs = self._load()
        else:
            docs = self._measure(shared)
        shared["baselines"] = docs

    def _fail(self, msg):
        raise rally_exceptions.ContextSetupFailure(ctx_name=self.get_name(),
                                                   msg=msg)

    def _load(self):
        files = dict(self.config.get("files") or {})
        docs = {}
        try:
            if self.config.get("file"):
                doc = baseline.load(self.config["file"])
                host = (doc.get("facts") or {}).get("hostname") or "*"
                docs["*"] = doc
                docs[host] = doc
            for host, path in files.items():
                docs[host] = baseline.load(path)
        except exceptions.InvalidArgument as e:
            self._fail(str(e))
        return docs

    def _measure(self, shared):
        found = shared.get("hypervisors")
        if found is None:
            self._fail("no baseline file given and no kvm_perf_hypervisors "
                       "context to find the compute hosts: add one or the "
                       "other")
        names = self.config.get("hosts") or sorted(found)
        missing = [n for n in names if n not in found]
        if missing:
            self._fail("hosts %s are not compute hosts kvm_perf_hypervisors "
                       "found (%s)" % (missing, sorted(found)))
        conf = CONF.kvm_perf
        b = self.config.get("bonnie")
        n = self.config.get("netperf")
        if n and str(n.get("netserver", "")).strip().lower() in (
                "peer", "peers"):
            self._fail("netperf.netserver is 'peer': the host baseline runs "
                       "before any instance boots, so it cannot measure "
                       "against the peer instance; give the netserver as "
                       "HOST[:PORT] (the same target as the scenario's "
                       "netserver)")
        try:
            params = self._params(conf, b, n)
        except exceptions.InvalidArgument as e:
            self._fail(str(e))
        out_dir = os.path.expanduser(self.config.get("output_dir")
                                     or conf.baseline_directory)
        docs = {}
        for name in names:
            runner = host_runner.for_host(found[name])
            path = os.path.join(out_dir, "%s-%s.json"
                                % (name, self.get_owner_id()))
            try:
                docs[name] = baseline.measure(runner, params,
                                              output_path=path)
            except exceptions.KVMPerfError as e:
                self._fail("host baseline of %s failed: %s (what was "
                           "measured is in %s)" % (name, e, path))
            finally:
                runner.close()
        return docs

    def _params(self, conf, b, n):
        keep = ("directory", "size_mb", "files", "fast", "force",
                "extra_args")
        params = baseline.make_params(
            conf, runs=self.config.get("repetitions"),
            bonnie_options=None if b is None else {
                k: b.get(k) for k in keep},
            netperf_options=None if n is None else {
                "netserver": n.get("netserver"), "tests": n.get("tests"),
                "duration": n.get("duration"),
                "message_size": n.get("message_size"),
                "cpu": n.get("cpu", True)},
            drop_caches=self.config.get("drop_caches", True),
            fio_options=self.config.get("fio"))
        params.validate()
        return params

    def cleanup(self):
        pass  # baseline files stay: they are results
