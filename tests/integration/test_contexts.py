"""The contexts with fake admin clients (no cloud here) and real everything
else: SSH to a private sshd on loopback for host facts and baselines, the
libvirt test driver for domains and virDomainPinVcpu."""

import json
from unittest import mock

from oslo_config import cfg
import pytest
from rally import exceptions as rally_exceptions
from rally import plugins

from rally_kvm_perf import exceptions
from rally_kvm_perf.host import libvirt_client
from rally_kvm_perf.host import pinning
from rally_kvm_perf.host import runner as host_runner
from rally_kvm_perf.task.contexts import baseline as baseline_ctx
from rally_kvm_perf.task.contexts import common
from rally_kvm_perf.task.contexts import flavor as flavor_ctx
from rally_kvm_perf.task.contexts import hypervisors as hyper_ctx
from rally_kvm_perf.task.scenarios.kvm_perf import domains
from tests import fakes

plugins.load()
CONF = cfg.CONF


def ctx(config_name, config):
    return {"task": {"uuid": "task-1"}, "owner_id": "owner-1",
            "admin": {"credential": None}, "config": {config_name: config}}


def use(clients):
    return mock.patch.object(common, "admin_clients", return_value=clients)


# -- kvm_perf_flavor --------------------------------------------------------

def test_unpinned_flavor_is_created_and_only_it_deleted():
    flavors = fakes.FakeFlavors(existing=["m1.small"])
    clients = fakes.FakeAdminClients(fakes.FakeAdminNova(flavors=flavors))
    context = ctx("kvm_perf_flavor", {})
    with use(clients):
        c = flavor_ctx.KVMPerfFlavor(context)
        c.setup()
        made = context["kvm_perf"]["flavor"]
        assert (made["vcpus"], made["ram"], made["disk"]) == (2, 2048, 40)
        assert made["extra_specs"] == {} and made["pinning"] is False
        assert made["name"].startswith("kvm-perf-shared-2c-2048m-40g-")
        c.cleanup()
    assert flavors.deleted == [made["id"]]
    assert [f.name for f in flavors.list()] == ["m1.small"]


def test_pinned_flavor_needs_pcpu_inventory():
    flavors = fakes.FakeFlavors()
    placement = fakes.FakePlacement({
        "compute-1": {"VCPU": {"total": 2}, "PCPU": {"total": 6,
                                                      "reserved": 0}}})
    clients = fakes.FakeAdminClients(fakes.FakeAdminNova(flavors=flavors),
                                     placement)
    context = ctx("kvm_perf_flavor", {"pinning": True, "name": "kp-pinned",
                                      "cpu_thread_policy": "prefer",
                                      "extra_specs": {"hw:numa_nodes": "1"}})
    with use(clients):
        flavor_ctx.KVMPerfFlavor(context).setup()
    [made] = flavors.list()
    assert made.name == "kp-pinned"
    assert made.keys == {"hw:cpu_policy": "dedicated",
                         "hw:cpu_thread_policy": "prefer",
                         "hw:numa_nodes": "1"}
    assert context["kvm_perf"]["pcpu_hosts"] == {"compute-1": 6}
    assert placement.calls[0] == ("/resource_providers", "placement")


def test_pinned_flavor_without_pcpu_fails_with_the_fix():
    placement = fakes.FakePlacement({"compute-1": {"VCPU": {"total": 2}}})
    flavors = fakes.FakeFlavors()
    clients = fakes.FakeAdminClients(fakes.FakeAdminNova(flavors=flavors),
                                     placement)
    context = ctx("kvm_perf_flavor", {"pinning": True})
    with use(clients), pytest.raises(
            rally_exceptions.ContextSetupFailure) as e:
        flavor_ctx.KVMPerfFlavor(context).setup()
    assert "cannot honour hw:cpu_policy=dedicated" in str(e.value)
    assert "cpu_dedicated_set" in str(e.value)
    assert flavors.list() == []


def test_placement_unreachable_is_a_warning():
    clients = fakes.FakeAdminClients(
        fakes.FakeAdminNova(), fakes.FakePlacement({}, broken=True))
    context = ctx("kvm_perf_flavor", {"pinning": True})
    with use(clients):
        flavor_ctx.KVMPerfFlavor(context).setup()
    assert "could not ask placement" in context["kvm_perf"]["warnings"][0]


def test_existing_flavor_name_is_never_reused_or_deleted():
    flavors = fakes.FakeFlavors(existing=["kvm-perf"])
    clients = fakes.FakeAdminClients(fakes.FakeAdminNova(flavors=flavors))
    context = ctx("kvm_perf_flavor", {"name": "kvm-perf"})
    with use(clients):
        c = flavor_ctx.KVMPerfFlavor(context)
        with pytest.raises(rally_exceptions.ContextSetupFailure) as e:
            c.setup()
        c.cleanup()
    assert "exists already" in str(e.value)
    assert flavors.deleted == [] and len(flavors.list()) == 1


# -- kvm_perf_hypervisors ---------------------------------------------------

def hyper_config(sshd, **extra):
    return dict({"ssh": {"user": "root", "port": sshd["port"],
                         "key_file": sshd["key"]}}, **extra)


def test_hosts_are_inspected_over_ssh_and_ept_recorded(sshd):
    nova = fakes.FakeAdminNova([fakes.FakeHypervisor("compute-1")])
    context = ctx("kvm_perf_hypervisors", hyper_config(sshd))
    with use(fakes.FakeAdminClients(nova)):
        hyper_ctx.KVMPerfHypervisors(context).setup()
    entry = context["kvm_perf"]["hypervisors"]["compute-1"]
    assert entry["error"] is None
    assert entry["facts"]["ram_mb"] > 0 and entry["facts"]["cpus"] >= 1
    # this machine has no kvm_intel/kvm_amd: said so, not crashed
    assert entry["ept"]["state"].startswith("KVM module absent")
    # libvirt over SSH logs in with the same key
    assert entry["access"]["libvirt_uri"] == (
        "qemu+ssh://root@127.0.0.1/system?keyfile=%s" % sshd["key"])
    assert any("compute-1: KVM module absent" in w
               for w in context["kvm_perf"]["warnings"])   # ept: warn


def test_a_host_key_not_in_known_hosts_fails_setup(sshd, tmp_path):
    known = tmp_path / "known_hosts"
    known.write_text("")
    nova = fakes.FakeAdminNova([fakes.FakeHypervisor("compute-1")])
    context = ctx("kvm_perf_hypervisors", hyper_config(sshd))
    context["config"]["kvm_perf_hypervisors"]["ssh"]["known_hosts"] = str(
        known)
    with use(fakes.FakeAdminClients(nova)), pytest.raises(
            rally_exceptions.ContextSetupFailure) as e:
        hyper_ctx.KVMPerfHypervisors(context).setup()
    assert "is not in %s: refusing it" % known in str(e.value)


def test_ept_required_fails_naming_the_host(sshd):
    nova = fakes.FakeAdminNova([fakes.FakeHypervisor("compute-1")])
    context = ctx("kvm_perf_hypervisors", hyper_config(sshd, ept="required"))
    with use(fakes.FakeAdminClients(nova)), pytest.raises(
            rally_exceptions.ContextSetupFailure) as e:
        hyper_ctx.KVMPerfHypervisors(context).setup()
    assert "EPT/NPT is required" in str(e.value)
    assert "compute-1: KVM module absent" in str(e.value)


def test_ept_off_tells_how_to_turn_it_on(sshd):
    nova = fakes.FakeAdminNova([fakes.FakeHypervisor("compute-1")])
    context = ctx("kvm_perf_hypervisors", {"local": True, "ept": "required"})
    from tests.conftest import read_fixture
    off = read_fixture("facts", "intel-ept-off.txt")
    with use(fakes.FakeAdminClients(nova)), mock.patch.object(
            host_runner.LocalRunner, "run",
            return_value=host_runner.Result(0, off, "")), pytest.raises(
            rally_exceptions.ContextSetupFailure) as e:
        hyper_ctx.KVMPerfHypervisors(context).setup()
    assert "EPT off (kvm_intel.ept=N)" in str(e.value)
    assert "modprobe kvm_intel ept=1" in str(e.value)


def test_unreachable_host_is_recorded(sshd):
    nova = fakes.FakeAdminNova([fakes.FakeHypervisor("compute-9")])
    from rally_kvm_perf.host import netserver
    config = {"ssh": {"user": "root", "port": netserver.free_port(),
                      "key_file": sshd["key"]}, "ept": "warn"}
    context = ctx("kvm_perf_hypervisors", config)
    with use(fakes.FakeAdminClients(nova)), mock.patch.object(
            host_runner.SSHRunner, "__init__", autospec=True,
            side_effect=lambda self, *a, **kw: _short_ssh(self, *a, **kw)):
        hyper_ctx.KVMPerfHypervisors(context).setup()
    entry = context["kvm_perf"]["hypervisors"]["compute-9"]
    assert "cannot reach 127.0.0.1 over SSH" in entry["error"]
    assert any("EPT/NPT not checked" in w
               for w in context["kvm_perf"]["warnings"])


_REAL_SSH_INIT = host_runner.SSHRunner.__init__


def _short_ssh(self, *args, **kwargs):
    kwargs["connect_timeout"] = 2
    _REAL_SSH_INIT(self, *args, **kwargs)


def test_unknown_only_host_fails():
    nova = fakes.FakeAdminNova([fakes.FakeHypervisor("compute-1")])
    context = ctx("kvm_perf_hypervisors", {"local": True,
                                           "only": ["compute-7"]})
    with use(fakes.FakeAdminClients(nova)), pytest.raises(
            rally_exceptions.ContextSetupFailure) as e:
        hyper_ctx.KVMPerfHypervisors(context).setup()
    assert "compute-7" in str(e.value) and "compute-1" in str(e.value)


# -- the after-boot hook: libvirt test driver -------------------------------

NODE = """<node>
  <cpu><nodes>1</nodes><sockets>1</sockets><cores>4</cores><threads>2</threads>
       <active>8</active><mhz>2000</mhz><model>x86_64</model></cpu>
  <memory>16777216</memory>
  <domain type='test'><name>instance-00000001</name><memory>1048576</memory>
    <vcpu placement='static'>2</vcpu>
    <cputune><vcpupin vcpu='0' cpuset='2'/><vcpupin vcpu='1' cpuset='3'/>
      <emulatorpin cpuset='2-3'/></cputune><os><type>hvm</type></os></domain>
  <domain type='test'><name>instance-00000002</name><memory>1048576</memory>
    <vcpu placement='static'>2</vcpu><os><type>hvm</type></os></domain>
  <domain type='test'><name>instance-00000003</name><memory>1048576</memory>
    <vcpu placement='static'>1</vcpu>
    <cputune><vcpupin vcpu='0' cpuset='3'/></cputune>
    <os><type>hvm</type></os></domain>
</node>"""


class AdminServer:
    def __init__(self, sid, domain, host="compute-1"):
        self.id = sid
        setattr(self, domains.INSTANCE_NAME, domain)
        setattr(self, common.HYPERVISOR_ATTR, host)


class AdminServers:
    def __init__(self, servers):
        self.by_id = {s.id: s for s in servers}

    def get(self, sid):
        return self.by_id[sid]


@pytest.fixture
def libvirt_host(tmp_path):
    node = tmp_path / "node.xml"
    node.write_text(NODE)
    servers = AdminServers([AdminServer("s1", "instance-00000001"),
                            AdminServer("s2", "instance-00000002"),
                            AdminServer("s3", "instance-00000003")])
    hypervisors = {"compute-1": {"name": "compute-1", "access": {
        "libvirt_uri": "test://%s" % node}}}
    return servers, hypervisors


def test_verification_reads_vcpupin_and_flags_problems(libvirt_host):
    servers, hypervisors = libvirt_host
    context = {"kvm_perf": {"hypervisors": hypervisors,
                            "verify_pinning": True}}
    report = domains.after_boot(
        context, [("vm-1", "s1"), ("vm-2", "s2"), ("vm-3", "s3")],
        fakes.FakeAdminNova(servers=servers), {"hw:cpu_policy": "dedicated"})
    rows = {r["instance"]: r for r in report["instances"]}
    assert rows["vm-1"]["vcpupin"] == {"0": "2", "1": "3"}
    assert rows["vm-1"]["emulatorpin"] == "2-3" and rows["vm-1"]["pinned"]
    assert rows["vm-2"]["pinned"] is False
    assert any("vm-2: the flavor asks for dedicated CPUs" in p
               for p in report["problems"])
    assert "host CPU 3 on compute-1 is shared by vm-1, vm-3" in report[
        "problems"]
    # asked for and not in place: every one of them is unmet, with why
    assert set(report["unmet"]) == {"vm-1", "vm-2", "vm-3"}
    assert "no <vcpupin>" in report["unmet"]["vm-2"]
    assert "shared by vm-1, vm-3" in report["unmet"]["vm-3"]


def test_without_pinning_asked_problems_are_only_reported(libvirt_host):
    servers, hypervisors = libvirt_host
    context = {"kvm_perf": {"hypervisors": hypervisors,
                            "verify_pinning": True}}
    report = domains.after_boot(
        context, [("vm-1", "s1"), ("vm-3", "s3")],
        fakes.FakeAdminNova(servers=servers), {})
    assert "host CPU 3 on compute-1 is shared by vm-1, vm-3" in report[
        "problems"]
    assert report["unmet"] == {}


def test_runtime_pinning_pins_every_vcpu_to_its_own_cpu(libvirt_host):
    servers, hypervisors = libvirt_host
    context = {"kvm_perf": {"hypervisors": hypervisors,
                            "runtime_pinning": {"strategy": "compact",
                                                "cpus": "4-7"}}}
    report = domains.after_boot(
        context, [("vm-2", "s2")], fakes.FakeAdminNova(servers=servers))
    [row] = report["instances"]
    assert row["runtime_pinned"] == "4-5"
    assert row["vcpupin"] == {"0": "4", "1": "5"} and row["pinned"]
    # the emulator threads by default on the instance's own vCPUs' CPUs
    assert row["emulatorpin"] == "4-5"
    assert report["problems"] == []


@pytest.mark.parametrize("emulator, shown", [("0", "0"), ("6-7", "6-7")])
def test_runtime_pinning_puts_the_emulator_threads_apart(libvirt_host,
                                                         emulator, shown):
    servers, hypervisors = libvirt_host
    context = {"kvm_perf": {"hypervisors": hypervisors,
                            "runtime_pinning": {"strategy": "compact",
                                                "cpus": "4-5",
                                                "emulator": emulator}}}
    report = domains.after_boot(
        context, [("vm-2", "s2")], fakes.FakeAdminNova(servers=servers))
    [row] = report["instances"]
    assert row["vcpupin"] == {"0": "4", "1": "5"}
    assert row["emulatorpin"] == shown and report["unmet"] == {}


def test_runtime_pinning_that_libvirt_did_not_keep_is_unmet(libvirt_host,
                                                            monkeypatch):
    """libvirt accepting the call is no proof: the domain XML read back
    must show the pins, or the instance is not measured."""
    servers, hypervisors = libvirt_host
    monkeypatch.setattr(libvirt_client.Libvirt, "pin",
                        lambda self, name, cpus, emulator=None: {})
    context = {"kvm_perf": {"hypervisors": hypervisors,
                            "runtime_pinning": {"strategy": "compact",
                                                "cpus": "4-7"}}}
    report = domains.after_boot(
        context, [("vm-2", "s2")], fakes.FakeAdminNova(servers=servers))
    why = report["unmet"]["vm-2"]
    assert "runtime pinning asked vCPU→CPU 0→4, 1→5, the domain shows no " \
        "<vcpupin>" in why, report
    assert any("asked the emulator threads on 4-5" in p
               for p in report["problems"]), report


def test_runtime_pinning_with_a_bad_emulator_set_is_refused():
    with pytest.raises(exceptions.InvalidArgument) as e:
        pinning.emulator_cpus("isolate", [4, 5])
    assert "emulator must be one of vcpus, none or a CPU set" in str(e.value)
    assert pinning.emulator_cpus("none", [4, 5]) is None
    assert pinning.emulator_cpus("vcpus", [5, 4, 5]) == [4, 5]


def test_runtime_pinning_without_enough_cpus_is_reported(libvirt_host):
    servers, hypervisors = libvirt_host
    context = {"kvm_perf": {"hypervisors": hypervisors,
                            "runtime_pinning": {"cpus": "7"}}}
    report = domains.after_boot(
        context, [("vm-2", "s2")], fakes.FakeAdminNova(servers=servers))
    assert "needs 2 distinct host CPUs" in report["problems"][0]
    assert report["instances"][0]["runtime_pinned"] is None
    assert "needs 2 distinct host CPUs" in report["unmet"]["vm-2"]


def test_no_hypervisors_context_no_hook():
    assert domains.after_boot({}, [], None) is None


# -- kvm_perf_baseline ------------------------------------------------------

def test_baseline_loaded_from_a_file(tmp_path):
    doc = {"schema": "rally-kvm-perf/baseline/1", "facts": {"hostname": "c1"},
           "parameters": {}, "benchmarks": {}}
    path = tmp_path / "b.json"
    path.write_text(json.dumps(doc))
    context = ctx("kvm_perf_baseline", {"file": str(path)})
    baseline_ctx.KVMPerfBaseline(context).setup()
    assert set(context["kvm_perf"]["baselines"]) == {"*", "c1"}
    bad = ctx("kvm_perf_baseline", {"files": {"c1": str(tmp_path / "no")}})
    with pytest.raises(rally_exceptions.ContextSetupFailure) as e:
        baseline_ctx.KVMPerfBaseline(bad).setup()
    assert "cannot read baseline file" in str(e.value)


def test_baseline_measured_on_each_compute_host_over_ssh(sshd, tmp_path):
    nova = fakes.FakeAdminNova([fakes.FakeHypervisor("compute-1")])
    context = ctx("kvm_perf_hypervisors", hyper_config(sshd))
    with use(fakes.FakeAdminClients(nova)):
        hyper_ctx.KVMPerfHypervisors(context).setup()
    (tmp_path / "disk").mkdir()
    context["config"]["kvm_perf_baseline"] = {
        "repetitions": 2, "drop_caches": False, "output_dir": str(tmp_path),
        "bonnie": {"directory": str(tmp_path / "disk"), "size_mb": 64,
                   "files": 0, "fast": True, "force": True},
        "netperf": None}
    baseline_ctx.KVMPerfBaseline(context).setup()
    doc = context["kvm_perf"]["baselines"]["compute-1"]
    assert doc["status"] == "complete" and doc["host"] == "compute-1"
    assert len(doc["benchmarks"]["bonnie++"]["samples"]) == 2
    assert (tmp_path / "compute-1-owner-1.json").exists()


def test_baseline_without_hosts_or_files_fails():
    with pytest.raises(rally_exceptions.ContextSetupFailure) as e:
        baseline_ctx.KVMPerfBaseline(ctx("kvm_perf_baseline", {})).setup()
    assert "no kvm_perf_hypervisors context" in str(e.value)


def test_baseline_against_the_peer_is_refused_with_the_fix(sshd):
    """The paper sample with measure_baseline and netserver "peer": the
    context must not look for a host named "peer"."""
    nova = fakes.FakeAdminNova([fakes.FakeHypervisor("compute-1")])
    context = ctx("kvm_perf_hypervisors", hyper_config(sshd))
    with use(fakes.FakeAdminClients(nova)):
        hyper_ctx.KVMPerfHypervisors(context).setup()
    context["config"]["kvm_perf_baseline"] = {
        "bonnie": None, "netperf": {"netserver": "peer",
                                    "tests": ["TCP_STREAM"], "duration": 1}}
    with pytest.raises(rally_exceptions.ContextSetupFailure) as e:
        baseline_ctx.KVMPerfBaseline(context).setup()
    assert "netperf.netserver is 'peer'" in str(e.value)
    assert "HOST[:PORT]" in str(e.value)


def test_libvirt_over_ssh_logs_in_with_the_configured_key():
    uri = hyper_ctx._with_keyfile("qemu+ssh://root@c1/system", "/k/id rsa")
    assert uri == "qemu+ssh://root@c1/system?keyfile=/k/id%20rsa"
    assert hyper_ctx._with_keyfile("qemu+ssh://root@c1/system?no_tty=1",
                                   "/k/id") == \
        "qemu+ssh://root@c1/system?no_tty=1&keyfile=/k/id"
    # one given in the URI wins; local and keyless URIs stay as they are
    assert hyper_ctx._with_keyfile("qemu+ssh://h/system?keyfile=/a",
                                   "/b") == "qemu+ssh://h/system?keyfile=/a"
    assert hyper_ctx._with_keyfile("qemu:///system", "/k") == \
        "qemu:///system"
    assert hyper_ctx._with_keyfile("qemu+ssh://h/system", None) == \
        "qemu+ssh://h/system"


def test_libvirt_over_libssh_checks_the_configured_known_hosts():
    assert hyper_ctx._with_known_hosts(
        "qemu+libssh2://root@c1/system?keyfile=/k", "/etc/kh") == \
        "qemu+libssh2://root@c1/system?keyfile=/k&known_hosts=/etc/kh"
    assert hyper_ctx._with_known_hosts(
        "qemu+libssh://c1/system", "/etc/kh") == \
        "qemu+libssh://c1/system?known_hosts=/etc/kh"
    # OpenSSH's ssh takes none; one given in the URI wins; none configured
    for uri, kh in (("qemu+ssh://c1/system", "/etc/kh"),
                    ("qemu+libssh2://c1/system?known_hosts=/a", "/b"),
                    ("qemu+libssh2://c1/system", None)):
        assert hyper_ctx._with_known_hosts(uri, kh) == uri
