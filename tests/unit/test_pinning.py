import pytest

from rally_kvm_perf import exceptions
from rally_kvm_perf.host import pinning

DOMAIN = """<domain type='kvm'>
  <name>instance-0000000a</name>
  <vcpu placement='static'>2</vcpu>
  <cputune>
    <shares>2048</shares>
    <vcpupin vcpu='0' cpuset='4'/>
    <vcpupin vcpu='1' cpuset='5'/>
    <emulatorpin cpuset='4-5'/>
  </cputune>
</domain>"""
# what nova wrote on the all-in-one cloud for a dedicated flavor (notes)
AIO = ("<domain type='qemu'><name>instance-00000001</name>"
       "<vcpu placement='static'>1</vcpu><cputune>"
       "<vcpupin vcpu='0' cpuset='1'/><emulatorpin cpuset='1'/></cputune>"
       "</domain>")
UNPINNED = ("<domain type='kvm'><name>instance-0000000b</name>"
            "<vcpu placement='static' cpuset='0-7'>2</vcpu></domain>")


def test_flavor_specs():
    assert pinning.flavor_extra_specs() == {}
    assert pinning.flavor_extra_specs(pinning=True) == {
        "hw:cpu_policy": "dedicated"}
    assert pinning.flavor_extra_specs(
        pinning=True, cpu_thread_policy="isolate", mem_page_size="large",
        numa_nodes=1, extra_specs={"hw:cpu_realtime": "no"}) == {
        "hw:cpu_policy": "dedicated", "hw:cpu_thread_policy": "isolate",
        "hw:mem_page_size": "large", "hw:numa_nodes": "1",
        "hw:cpu_realtime": "no"}
    with pytest.raises(exceptions.InvalidArgument):
        pinning.flavor_extra_specs(cpu_thread_policy="isolate")
    with pytest.raises(exceptions.InvalidArgument):
        pinning.flavor_extra_specs(pinning=True, cpu_thread_policy="always")


@pytest.mark.parametrize("text, cpus", [
    ("4", [4]), ("0-3", [0, 1, 2, 3]), ("0-3,8,^2", [0, 1, 3, 8]),
    ("1,1,2", [1, 2]), ("", [])])
def test_parse_cpuset(text, cpus):
    assert pinning.parse_cpuset(text) == cpus


@pytest.mark.parametrize("text", ["a", "3-1", "1-", "1;2"])
def test_bad_cpuset(text):
    with pytest.raises(exceptions.InvalidArgument):
        pinning.parse_cpuset(text)


def test_format_cpuset():
    assert pinning.format_cpuset([5, 0, 1, 2, 7, 8]) == "0-2,5,7-8"


def test_parse_domain():
    d = pinning.parse_domain(DOMAIN)
    assert d == {"name": "instance-0000000a", "vcpus": 2,
                 "vcpupin": {0: [4], 1: [5]}, "emulatorpin": [4, 5],
                 "pinned": True}
    assert pinning.parse_domain(AIO)["vcpupin"] == {0: [1]}
    u = pinning.parse_domain(UNPINNED)
    assert u["pinned"] is False and u["vcpupin"] == {}
    with pytest.raises(exceptions.ParseError):
        pinning.parse_domain("<domain><name>x")
    with pytest.raises(exceptions.ParseError):
        pinning.parse_domain("<network/>")


def test_check_flags_unpinned_and_shared():
    a = {"instance": "a", "hypervisor": "c1", "wants_pinning": True,
         "domain": pinning.parse_domain(DOMAIN)}
    b = {"instance": "b", "hypervisor": "c1", "wants_pinning": True,
         "domain": pinning.parse_domain(UNPINNED)}
    c = {"instance": "c", "hypervisor": "c1", "wants_pinning": False,
         "domain": pinning.parse_domain(DOMAIN.replace("cpuset='4'/>",
                                                       "cpuset='5'/>"))}
    d = {"instance": "d", "hypervisor": "c2", "wants_pinning": False,
         "domain": pinning.parse_domain(DOMAIN)}
    problems = pinning.check([a, b, c, d])
    assert ("b: the flavor asks for dedicated CPUs but the domain has no "
            "<vcpupin> for every vCPU") in problems
    assert "host CPU 5 on c1 is shared by a, c" in problems
    assert not any("on c2" in p for p in problems)   # other host: fine
    assert pinning.check([a]) == []
    assert "could not be read" in pinning.check(
        [{"instance": "x", "domain": None}])[0]


def test_plan():
    inst = [("a", 2), ("b", 2), ("c", 1)]
    assert pinning.plan(inst, range(2, 8), "compact") == {
        "a": [2, 3], "b": [4, 5], "c": [6]}
    assert pinning.plan(inst, range(2, 8), "spread") == {
        "a": [2, 5], "b": [3, 6], "c": [4]}
    for strategy in pinning.STRATEGIES:
        placed = [c for v in pinning.plan(inst, range(16), strategy).values()
                  for c in v]
        assert len(placed) == len(set(placed)) == 5
    with pytest.raises(exceptions.InvalidArgument) as e:
        pinning.plan(inst, [0, 1, 2], "spread")
    assert "needs 5 distinct host CPUs" in str(e.value)
    with pytest.raises(exceptions.InvalidArgument):
        pinning.plan(inst, range(8), "random")
