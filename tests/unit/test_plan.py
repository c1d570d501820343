"""The sweep's plan (rally_kvm_perf.sweep.plan): what is decided before
anything boots, with no Rally, no cloud and no sshd."""

import dataclasses

import pytest

from rally_kvm_perf import exceptions
from rally_kvm_perf.benchmarks import params
from rally_kvm_perf.sweep import plan


def args(**kw):
    base = dict(image="img", flavor="fl", instances=3, active_counts=None,
                repetitions=4, between_repetitions="drop_caches",
                username="debian", password=None, port=22,
                use_floating_ip=True, floating_network=None, ssh_timeout=300,
                command_timeout=None, availability_zone=None,
                install_command=None, host_baseline=None, boot_kwargs=None)
    base.update(kw)
    return plan.SweepArgs(**base)


def test_the_levels_default_to_one_up_to_the_instances():
    p = plan.make_plan(args())
    assert p.levels == (1, 2, 3) and p.boots == 3 and p.boot_volume is None
    assert plan.make_plan(args(peer=True)).boots == 4


@pytest.mark.parametrize("kw, match", [
    (dict(active_counts=[1, 4]), r"active_counts \[1, 4\] must be whole "
                                 r"numbers from 1 to the 3 instances"),
    (dict(placement="packed"), "placement must be one of same_host, "
                               "spread, any, got 'packed'"),
    (dict(peer_placement="same_host"), "there is no peer instance"),
    (dict(peer=True, peer_placement="same_host", placement="spread"),
     "peer_placement same_host needs placement same_host"),
    (dict(peer=True, peer_placement="elsewhere"), "peer_placement must be"),
    (dict(min_repetitions=2), "min_repetitions needs target_half_width"),
    (dict(target_half_width=1.5), "target_half_width is a fraction"),
    (dict(density_threshold=0), r"density_threshold must be a VM/host "
                                r"ratio above 0 \(e.g. 0.8\), got 0"),
    (dict(density_threshold="80%"), "density_threshold must be"),
    (dict(boot_from_volume={"size": 0}), "whole number of GB >= 1"),
    (dict(boot_from_volume={"size": 5, "kind": "ssd"}),
     r"unknown key\(s\) kind"),
    (dict(boot_from_volume={"size": 5},
          boot_kwargs={"block_device_mapping_v2": []}),
     "boot_from_volume and a block device mapping"),
])
def test_what_cannot_be_is_refused_naming_the_argument(kw, match):
    with pytest.raises(exceptions.InvalidArgument, match=match):
        plan.make_plan(args(**kw))


def test_the_shared_arguments_are_the_dataclass_fields():
    names = {f.name for f in dataclasses.fields(plan.SweepArgs)}
    assert set(plan.SWEEP_ARGS) == names - {"peer", "peer_each",
                                            "peer_placement",
                                            "peer_baseline"}


def test_netserver_peers_boot_one_netserver_per_measured_instance():
    assert plan.make_plan(args(instances=3)).boots == 3
    assert plan.make_plan(args(instances=3, peer=True)).boots == 4
    both = plan.make_plan(args(instances=3, peer=True, peer_each=True))
    assert (both.peers, both.boots) == (3, 6)
    with pytest.raises(exceptions.InvalidArgument, match="needs netserver"):
        plan.make_plan(args(instances=3, peer_each=True))


@pytest.mark.parametrize("kw, hosts, match", [
    (dict(placement="spread"), {"a": {"state": "up", "status": "enabled"},
                                "b": {"state": "down",
                                      "status": "enabled"}},
     r"needs 3 compute hosts, nova has 1 compute host\(s\) up and "
     r"enabled \(a\)"),
    (dict(peer=True, peer_placement="other_host", placement="any"),
     {"a": {}}, "needs a compute host other than"),
])
def test_a_placement_the_hosts_cannot_honour_fails_before_booting(kw, hosts,
                                                                  match):
    with pytest.raises(exceptions.SweepFailed, match=match):
        plan.check_host_count(hosts, plan.make_plan(args(**kw)))
    # without the kvm_perf_hypervisors context nova says it at boot
    plan.check_host_count(None, plan.make_plan(args(**kw)))


def test_the_parameters_a_resumed_sweep_must_match():
    p = plan.make_plan(args(boot_from_volume={"size": 5},
                            target_half_width=0.05, active_counts=[1, 3]))
    shape = plan.FlavorShape(vcpus=2, ram_mb=2048, disk_gb=40,
                             extra_specs={"hw:cpu_policy": "dedicated"})
    bonnie = params.BonnieParams(directory="/var/tmp", size_mb=4096,
                                   files=None, fast=False, extra_args=())
    got = plan.parameters(p, "KVMPerf.bonnie", shape,
                          {"bonnie": bonnie, "netperf": None, "fio": None})
    assert got["levels"] == [1, 3] and got["instances"] == 3
    assert got["flavor"] == {"vcpus": 2, "ram_mb": 2048, "disk_gb": 40,
                             "extra_specs": {"hw:cpu_policy": "dedicated"}}
    assert got["bonnie"]["size_mb"] == 4096 and got["netperf"] is None
    # no "fio": None (a sweep saved before fio existed resumes)
    assert "fio" not in got
    assert got["boot_from_volume"] == {"size": 5, "type": None}
    assert got["adaptive"] == {"min_repetitions": None,
                               "target_half_width": 0.05}
    assert "peer_placement" not in got


@pytest.mark.parametrize("kw, vcpus, cpus, refused", [
    (dict(), 2, "0-5", False),               # 3 x 2 = 6 CPUs: fits
    (dict(), 2, "0-4", True),                # 6 vCPUs on one host, 5 CPUs
    (dict(placement="spread"), 2, "0-1", False),   # one per host
    (dict(placement="any"), 2, "0-1", False),      # checked after the boot
    (dict(placement="any"), 4, "0-2", True),       # not even one fits
    (dict(peer=True, peer_placement="same_host"), 2, "0-5", True),
])
def test_runtime_pinning_that_cannot_fit_is_refused_before_booting(
        kw, vcpus, cpus, refused):
    p = plan.make_plan(args(**kw))
    runtime = {"cpus": cpus, "strategy": "spread"}
    if refused:
        with pytest.raises(exceptions.InvalidArgument,
                           match="runtime pinning cannot be applied"):
            plan.check_runtime_pinning(runtime, p, vcpus)
    else:
        plan.check_runtime_pinning(runtime, p, vcpus)
    plan.check_runtime_pinning(None, p, vcpus)   # not asked for
