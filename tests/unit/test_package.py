import importlib
import pkgutil

from oslo_config import cfg

import rally_kvm_perf
from rally_kvm_perf import metrics
from rally_kvm_perf import opts


def test_every_module_imports():
    # Rally's plugin loader only logs a warning for a module that fails to
    # import, so a broken module would silently lose its plugins.
    names = [m.name for m in pkgutil.walk_packages(rally_kvm_perf.__path__,
                                                   "rally_kvm_perf.")]
    assert "rally_kvm_perf.task.scenarios.kvm_perf.host_baseline" in names
    for name in names:
        importlib.import_module(name)


def test_options_are_in_the_kvm_perf_group():
    [(group, options)] = opts.list_opts()
    assert group == "kvm_perf"
    conf = cfg.ConfigOpts()
    opts.register_opts(conf)
    conf([])
    assert conf.kvm_perf.repetitions == 10
    assert conf.kvm_perf.bonnie_directory == "/var/lib/nova/instances"
    assert "{host}" in conf.kvm_perf.libvirt_uri_template
    opts.register_opts(conf)  # idempotent


def test_metric_ordering_puts_the_papers_metrics_first():
    ordered = metrics.ordered(["seeks_per_s", "latency_p99_us",
                               "block_write_kBps", "throughput_mbps",
                               "char_write_cpu_pct"])
    # paper metrics in declaration order (bonnie++ before netperf), then rest
    assert ordered[:3] == ["char_write_cpu_pct", "block_write_kBps",
                           "throughput_mbps"]
    assert ordered[3:] == ["seeks_per_s", "latency_p99_us"]
    assert set(ordered) == {"seeks_per_s", "latency_p99_us",
                            "block_write_kBps", "throughput_mbps",
                            "char_write_cpu_pct"}


def test_sweep_cleanup_names_real_resource_managers():
    """Rally only logs "Missing resource managers" for a name it does not
    know, and then cleans nothing up for it: each name in the sweep
    scenarios' cleanup context is one rally-openstack manager, and together
    they cover what a sweep creates itself."""
    from rally.common import opts as rally_opts
    # the managers read [openstack] options at import: registered first, as
    # Rally's plugin loader does
    rally_opts.register_options_from_path(
        "rally_openstack.common.cfg.opts:list_opts")
    from rally_openstack.task.cleanup import manager
    from rally_openstack.task.cleanup import resources  # noqa: F401

    from rally_kvm_perf.task.scenarios.kvm_perf import arguments
    from rally_kvm_perf.task.scenarios.kvm_perf import bonnie
    from rally_kvm_perf.task.scenarios.kvm_perf import netperf
    for cls in (bonnie.Bonnie, netperf.Netperf):
        assert cls.get_default_context()["cleanup@openstack"] == \
            arguments.CLEANUP
    found = set()
    for name in arguments.CLEANUP:
        [mgr] = manager.find_resource_managers([name])
        found.add((mgr._service, mgr._resource))
    assert found == {("nova", "servers"), ("nova", "server_groups"),
                     ("neutron", "floatingip")}
