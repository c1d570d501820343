import os
import subprocess

import pytest

from rally_kvm_perf import exceptions
from rally_kvm_perf.host import facts
from tests.conftest import read_fixture


def test_this_machine_for_real_reports_kvm_module_absent():
    out = subprocess.run(facts.FACTS_COMMAND, capture_output=True, text=True,
                         check=True).stdout
    f = facts.parse_facts(out)
    assert f["cpus"] >= 1 and f["ram_mb"] > 100 and f["kernel"]
    ept = f["ept"]
    with open("/proc/cpuinfo") as cpuinfo:
        flags = set(cpuinfo.read().split())
    assert ept["hardware_virtualization"] == bool(flags & {"vmx", "svm"})
    module = "/sys/module/%s" % ept["module"]
    if os.path.isdir(module):
        assert ept["enabled"] in (True, False)
    else:  # the development machine: no kvm_intel / kvm_amd
        assert ept["enabled"] is None
        assert ept["state"].startswith("KVM module absent")


def test_recorded_development_machine():
    f = facts.parse_facts(read_fixture("facts", "this-machine-pvm-no-vmx.txt"))
    assert f["cpu_vendor"] == "GenuineIntel" and f["cpus"] == 2
    assert f["kvm_modules"] == ["kvm", "kvm_pvm"]
    assert f["ept"]["enabled"] is None
    assert f["ept"]["hardware_virtualization"] is False
    assert "KVM module absent" in f["ept"]["state"]
    assert "kvm_pvm" in f["ept"]["state"]


@pytest.mark.parametrize("name, feature, enabled, supports", [
    ("intel-ept-on.txt", "EPT", True, True),
    ("intel-ept-off.txt", "EPT", False, True),
    ("intel-old-kernel-ept-flag.txt", "EPT", True, True),
    ("amd-npt-on.txt", "NPT", True, True),
    ("amd-npt-off.txt", "NPT", False, True),
    ("amd-module-absent.txt", "NPT", None, True),
])
def test_recorded_hosts(name, feature, enabled, supports):
    f = facts.parse_facts(read_fixture("facts", name))
    ept = f["ept"]
    assert ept["feature"] == feature
    assert ept["enabled"] is enabled
    assert ept["cpu_supports"] is supports
    assert ept["hardware_virtualization"] is True
    assert f["ram_mb"] == 65700840 // 1024 and f["cpus"] == 2
    if enabled is False:
        assert "off" in ept["state"]
        assert "modprobe" in ept["how_to_enable"]
        assert ("ept=1" if feature == "EPT" else "npt=1") in ept["how_to_enable"]
    if enabled is None:
        assert ept["state"].startswith("KVM module absent")


def test_cpu_without_ept_cannot_be_enabled_by_a_parameter():
    ept = facts.ept_state("GenuineIntel", ["vmx"], [], ["kvm", "kvm_intel"],
                          "N", None)
    assert ept["enabled"] is False and ept["cpu_supports"] is False
    assert "does not offer EPT" in ept["how_to_enable"]


def test_unknown_vendor():
    ept = facts.ept_state("CentaurHauls", [], [], [], None, None)
    assert ept["feature"] is None and ept["enabled"] is None


def test_truncated_output_is_a_parse_error():
    text = read_fixture("facts", "intel-ept-on.txt").split("@@euid")[0]
    with pytest.raises(exceptions.ParseError) as e:
        facts.parse_facts(text)
    assert "truncated" in str(e.value)
