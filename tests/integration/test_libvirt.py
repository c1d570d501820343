"""Real libvirt: the built-in test driver, with a node file of our own that
defines nova-like domains (one pinned, one not)."""

import pytest

from rally_kvm_perf import exceptions
from rally_kvm_perf.host import libvirt_client
from rally_kvm_perf.host import pinning

NODE = """<node>
  <cpu><nodes>1</nodes><sockets>2</sockets><cores>4</cores><threads>2</threads>
       <active>16</active><mhz>2000</mhz><model>x86_64</model></cpu>
  <memory>33554432</memory>
  <domain type='test'>
    <name>instance-00000001</name>
    <memory>2097152</memory>
    <vcpu placement='static'>2</vcpu>
    <cputune><vcpupin vcpu='0' cpuset='2'/><vcpupin vcpu='1' cpuset='3'/>
      <emulatorpin cpuset='2-3'/></cputune>
    <os><type>hvm</type></os>
  </domain>
  <domain type='test'>
    <name>instance-00000002</name>
    <memory>2097152</memory>
    <vcpu placement='static'>2</vcpu>
    <os><type>hvm</type></os>
  </domain>
</node>"""


@pytest.fixture
def uri(tmp_path):
    node = tmp_path / "node.xml"
    node.write_text(NODE)
    return "test://%s" % node


def test_read_domain_pinning(uri):
    lv = libvirt_client.Libvirt(uri)
    try:
        pinned = pinning.parse_domain(lv.domain_xml("instance-00000001"))
        assert pinned["vcpupin"] == {0: [2], 1: [3]}
        assert pinned["emulatorpin"] == [2, 3]
        free = pinning.parse_domain(lv.domain_xml("instance-00000002"))
        assert free["pinned"] is False
        facts = lv.facts()
        assert facts["cpus"] == 16 and facts["hypervisor"] == "TEST"
        assert facts["libvirt_version"].count(".") == 2
    finally:
        lv.close()


def test_runtime_pinning_through_virDomainPinVcpu(uri):
    lv = libvirt_client.Libvirt(uri, readonly=False)
    try:
        assert lv.host_cpus() == 8   # the test driver's CPU map is 8 wide
        plan = pinning.plan([("instance-00000002", 2)], range(4, 8),
                            "compact")
        previous = lv.pin("instance-00000002", plan["instance-00000002"])
        # unpinned: each vCPU floats over every CPU libvirt reports
        assert sorted(previous) == [0, 1]
        assert previous[0] == previous[1] and len(previous[0]) >= 8
        domain = pinning.parse_domain(lv.domain_xml("instance-00000002"))
        assert domain["vcpupin"] == {0: [4], 1: [5]} and domain["pinned"]
        lv.restore("instance-00000002", previous)
        domain = pinning.parse_domain(lv.domain_xml("instance-00000002"))
        assert domain["vcpupin"] == previous
        with pytest.raises(exceptions.InvalidArgument):
            lv.pin("instance-00000002", [99])
        # virsh emulatorpin: the emulator threads beside the vCPUs
        lv.pin("instance-00000002", [4, 5], emulator_cpus=[6, 7])
        domain = pinning.parse_domain(lv.domain_xml("instance-00000002"))
        assert domain["emulatorpin"] == [6, 7]
        with pytest.raises(exceptions.InvalidArgument):
            lv.pin("instance-00000002", [4, 5], emulator_cpus=[8])
    finally:
        lv.close()


def test_errors_name_the_uri_and_domain(uri, tmp_path):
    lv = libvirt_client.Libvirt(uri)
    with pytest.raises(exceptions.KVMPerfError) as e:
        lv.domain_xml("instance-deadbeef")
    assert "instance-deadbeef" in str(e.value) and uri in str(e.value)
    lv.close()
    with pytest.raises(exceptions.HostUnreachable) as e:
        libvirt_client.Libvirt("test://%s/missing.xml" % tmp_path)
    assert "cannot connect to libvirt" in str(e.value)
