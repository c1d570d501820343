"""kvm_perf_hypervisors: compute hosts, their EPT/NPT state, and pinning."""

import os
import urllib.parse

from rally import exceptions as rally_exceptions
from rally.common import validation
from rally_openstack.task import context

from rally_kvm_perf import exceptions
from rally_kvm_perf import opts
from rally_kvm_perf.host import facts as host_facts
from rally_kvm_perf.host import pinning
from rally_kvm_perf.host import runner as host_runner
from rally_kvm_perf.task.contexts import common

CONF = opts.CONF

EPT_POLICIES = ("required", "warn", "ignore")
LOCAL_LIBVIRT = "qemu:///system"

_ACCESS = {
    "address": {"type": "string"},
    "user": {"type": "string"},
    "key_file": {"type": "string"},
    "port": {"type": "integer", "minimum": 1, "maximum": 65535},
    "libvirt_uri": {"type": "string"},
    "known_hosts": {"type": "string"},
    "local": {"type": "boolean"},
}


@validation.add("required_platform", platform="openstack", admin=True)
@context.configure(name="kvm_perf_hypervisors", order=342)
class KVMPerfHypervisors(context.OpenStackContext):
    """Find the compute hosts, check EPT/NPT on each, set up pinning hooks.

    Discovers the compute hosts through nova's hypervisors API and reaches
    each over SSH (``[kvm_perf] ssh_user/ssh_key_file/ssh_port``, or
    ``ssh`` and per-host ``hosts`` entries here; ``local: true`` for an
    all-in-one host, this machine) to record its facts: CPU model and
    count, RAM, kernel, hypervisor type and version, and whether two-level
    paging is on (EPT on Intel: kvm_intel's ``ept`` parameter and the CPU's
    ``ept`` flag; NPT on AMD: kvm_amd's ``npt`` and ``npt``). ``ept:
    required`` fails setup naming every host where it is off (or cannot be
    checked) and how to turn it on; ``warn`` records it in the report.
    With ``known_hosts`` (here, per host, or ``[kvm_perf]
    ssh_known_hosts``) a host whose SSH key is not filed there, or
    differs, is refused; libvirt's qemu+ssh logs in with the same
    ``key_file`` (``keyfile=`` in its URI), and its qemu+libssh and
    qemu+libssh2 also check the host key against that ``known_hosts``
    (``known_hosts=``; OpenSSH's qemu+ssh checks its own files).

    The KVMPerf scenarios then, after their instances boot, read each
    instance's libvirt domain (``libvirt_uri``, a template with ``{user}``
    and ``{host}``; default ``[kvm_perf] libvirt_uri_template``) and report
    its ``<vcpupin>``/``<emulatorpin>`` map. Pinning asked for and not in
    place fails the workload, and that instance is not measured: a flavor
    with dedicated CPUs whose domain has no ``<vcpupin>`` per vCPU, two
    such instances on one host CPU, runtime pinning that could not be
    applied. ``runtime_pinning: {strategy: spread|compact, cpus: "2-15"}``
    pins every vCPU of the task's instances to its own host CPU through
    libvirt (the paper's ``virsh vcpupin``), for clouds without flavor
    pinning; no other domain is touched. Its ``emulator`` places each
    instance's emulator threads (``virsh emulatorpin``): ``vcpus`` (the
    default: on that instance's own vCPUs' CPUs, as nova's ``share``
    policy), a CPU set (e.g. ``"0"``: housekeeping apart, as ``isolate``),
    or ``none`` (left where they are). vCPUs and emulator are read back
    after every boot and reboot; a pin not in place fails.
    ``only: [host, ...]`` limits the hosts to those named;
    ``verify_pinning: false`` skips reading the domains back (default
    true).
    """

    UNREPORTED_KEYS = ()   # task/reportable.py: every key may be shown

    CONFIG_SCHEMA = {
        "type": "object",
        "properties": {
            "ept": {"enum": list(EPT_POLICIES)},
            "ssh": {"type": "object", "properties": _ACCESS,
                    "additionalProperties": False},
            "local": {"type": "boolean"},
            "libvirt_uri": {"type": "string"},
            "hosts": {"type": "object", "additionalProperties": {
                "type": "object", "properties": _ACCESS,
                "additionalProperties": False}},
            "only": {"type": "array", "items": {"type": "string"}},
            "verify_pinning": {"type": "boolean"},
            "runtime_pinning": {
                "type": "object",
                "properties": {"strategy": {"enum": list(pinning.STRATEGIES)},
                               "cpus": {"type": "string"},
                               "emulator": {"type": "string"}},
                "required": ["cpus"], "additionalProperties": False},
        },
        "additionalProperties": False,
    }
    DEFAULT_CONFIG = {"ept": "warn", "verify_pinning": True}

    def setup(self):
        if "runtime_pinning" in self.config:
            pinning.parse_cpuset(self.config["runtime_pinning"]["cpus"])
            pinning.emulator_cpus(
                self.config["runtime_pinning"].get("emulator", "vcpus"), [0])
        nova = common.admin_clients(self.context).nova()
        only = set(self.config.get("only") or [])
        listed = {hv.hypervisor_hostname: hv for hv in nova.hypervisors.list()}
        if only - set(listed):
            raise rally_exceptions.ContextSetupFailure(
                ctx_name=self.get_name(),
                msg="hypervisors %s not found (nova knows %s)"
                    % (sorted(only - set(listed)), sorted(listed) or "none"))
        found = {name: self._inspect(name, hv)
                 for name, hv in sorted(listed.items())
                 if not only or name in only}
        shared = common.shared(self.context)
        shared["hypervisors"] = found
        shared["verify_pinning"] = self.config["verify_pinning"]
        if "runtime_pinning" in self.config:
            shared["runtime_pinning"] = dict(
                {"strategy": "spread", "emulator": "vcpus"},
                **self.config["runtime_pinning"])
        self._apply_ept_policy(found, shared)

    def _access(self, name, hv):
        conf = CONF.kvm_perf
        access = {"user": conf.ssh_user, "key_file": conf.ssh_key_file,
                  "port": conf.ssh_port,
                  "address": getattr(hv, "host_ip", None) or name,
                  "local": self.config.get("local", False),
                  "libvirt_uri": self.config.get("libvirt_uri")}
        access.update(self.config.get("ssh") or {})
        access.update((self.config.get("hosts") or {}).get(name) or {})
        if not access.get("libvirt_uri"):
            access["libvirt_uri"] = (LOCAL_LIBVIRT if access["local"] else
                                     conf.libvirt_uri_template)
        access.setdefault("known_hosts", conf.ssh_known_hosts)
        access["libvirt_uri"] = _with_known_hosts(_with_keyfile(
            access["libvirt_uri"].format(
                user=access["user"], host=access["address"]),
            access["key_file"]), access["known_hosts"])
        return access

    def _inspect(self, name, hv):
        access = self._access(name, hv)
        entry = {"name": name, "access": access,
                 "hypervisor_type": getattr(hv, "hypervisor_type", None),
                 "hypervisor_version": getattr(hv, "hypervisor_version", None),
                 "state": getattr(hv, "state", None),
                 "status": getattr(hv, "status", None),
                 "facts": None, "ept": None, "error": None}
        runner = host_runner.for_host(entry)
        try:
            out = host_runner.check(runner, host_facts.FACTS_COMMAND,
                                    timeout=120)
            entry["facts"] = host_facts.parse_facts(out.stdout)
            entry["ept"] = entry["facts"]["ept"]
        except exceptions.HostKeyRefused as e:
            # not "unchecked": a host that may not be the host
            raise rally_exceptions.ContextSetupFailure(
                ctx_name=self.get_name(), msg=str(e)) from None
        except exceptions.KVMPerfError as e:
            entry["error"] = "%s: %s" % (name, e)
        finally:
            runner.close()
        return entry

    def _apply_ept_policy(self, found, shared):
        policy = self.config["ept"]
        if policy == "ignore":
            return
        problems = []
        for name, entry in sorted(found.items()):
            ept = entry["ept"]
            if entry["error"]:
                problems.append("%s: EPT/NPT not checked (%s)"
                                % (name, entry["error"]))
            elif ept["enabled"] is not True:
                problems.append("%s: %s%s" % (
                    name, ept["state"],
                    "; to enable: %s" % ept["how_to_enable"]
                    if ept.get("how_to_enable") else ""))
        if problems and policy == "required":
            raise rally_exceptions.ContextSetupFailure(
                ctx_name=self.get_name(),
                msg="EPT/NPT is required but not on everywhere: "
                    + " | ".join(problems))
        shared.setdefault("warnings", []).extend(problems)

    def cleanup(self):
        pass  # it creates nothing; runtime pins die with the instances


def _with_keyfile(uri, key_file):
    """libvirt's ssh transports log in with the key SSH uses (``keyfile=``),
    not whatever the ssh client finds by itself; host keys are checked by
    OpenSSH's own rules (libvirt passes no ``no_verify``)."""
    scheme = uri.split("://", 1)[0]
    if not key_file or "+ssh" not in scheme and "+libssh" not in scheme:
        return uri
    query = urllib.parse.urlsplit(uri).query
    if "keyfile" in urllib.parse.parse_qs(query):
        return uri
    return "%s%skeyfile=%s" % (uri, "&" if query else "?", urllib.parse.quote(
        os.path.expanduser(key_file), safe="/"))


def _with_known_hosts(uri, known_hosts):
    """libvirt's libssh and libssh2 transports check the host key against
    ``known_hosts=`` (OpenSSH's, ``+ssh``, against its own files)."""
    scheme = uri.split("://", 1)[0]
    if not known_hosts or "+libssh" not in scheme:
        return uri
    query = urllib.parse.urlsplit(uri).query
    if "known_hosts" in urllib.parse.parse_qs(query):
        return uri
    return "%s%sknown_hosts=%s" % (uri, "&" if query else "?",
                                   urllib.parse.quote(os.path.expanduser(
                                       known_hosts), safe="/"))

