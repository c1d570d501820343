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
