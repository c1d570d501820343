"""What `rally plugin show` prints is the plugins' docstrings: every
plugin has one, every scenario argument is documented (and nothing that is
not an argument), and every context and SLA option is named in its
plugin's docstring. In the manner of rally-openstack's
tests/unit/doc/test_docstrings.py."""

import importlib
import inspect
import pkgutil

import pytest
from rally.common.plugin import info
from rally.common.plugin import plugin
from rally.task import context
from rally.task import scenario
from rally.task import sla

import rally_kvm_perf

for _mod in pkgutil.walk_packages(rally_kvm_perf.__path__, "rally_kvm_perf."):
    importlib.import_module(_mod.name)

PLUGINS = sorted((p for p in plugin.Plugin.get_all()
                  if p.__module__.startswith("rally_kvm_perf.")),
                 key=lambda p: p.get_name())


def test_the_plugins_are_all_found():
    names = {p.get_name() for p in PLUGINS}
    assert {"KVMPerf.bonnie", "KVMPerf.netperf", "KVMPerf.host_baseline",
            "kvm_perf_flavor", "kvm_perf_hypervisors", "kvm_perf_baseline",
            "kvm_perf_ratio", "kvm_perf_scaling", "kvm_perf_overlap",
            "kvm_perf_paper", "kvm_perf_confidence", "kvm-perf"} <= names


@pytest.mark.parametrize("cls", PLUGINS, ids=lambda p: p.get_name())
def test_every_plugin_says_what_it_is(cls):
    doc = info.parse_docstring(cls.__doc__)
    assert doc["short_description"], cls.get_name()
    assert not doc["short_description"].endswith(","), cls.get_name()


SCENARIOS = [p for p in PLUGINS if issubclass(p, scenario.Scenario)]


@pytest.mark.parametrize("cls", SCENARIOS, ids=lambda p: p.get_name())
def test_every_scenario_argument_is_documented(cls):
    doc = info.parse_docstring(cls.run.__doc__)
    documented = [p["name"] for p in doc["params"]]
    args = [a for a in inspect.signature(cls.run).parameters if a != "self"]
    assert sorted(documented) == sorted(args), (
        "undocumented: %s; documented but no argument: %s" % (
            sorted(set(args) - set(documented)),
            sorted(set(documented) - set(args))))
    for p in doc["params"]:
        assert p["doc"].strip(), (cls.get_name(), p["name"])
    assert doc["short_description"] and doc["long_description"]


OPTIONED = [p for p in PLUGINS
            if issubclass(p, (context.Context, sla.SLA))
            and (getattr(p, "CONFIG_SCHEMA", None) or {}).get("properties")]


@pytest.mark.parametrize("cls", OPTIONED, ids=lambda p: p.get_name())
def test_every_option_is_named_in_the_docstring(cls):
    doc = cls.__doc__
    missing = [name for name in cls.CONFIG_SCHEMA["properties"]
               if name not in doc]
    assert not missing, "%s: options not in the docstring: %s" % (
        cls.get_name(), missing)


def test_every_sweep_scenario_has_the_shared_arguments():
    from rally_kvm_perf.task.scenarios.kvm_perf import arguments
    from rally_kvm_perf.task.scenarios.kvm_perf import utils
    sweeps = [p for p in SCENARIOS if issubclass(p, utils.KVMPerfScenario)]
    assert {p.get_name() for p in sweeps} == {"KVMPerf.bonnie",
                                             "KVMPerf.netperf", "KVMPerf.fio"}
    for cls in sweeps:
        args = set(inspect.signature(cls.run).parameters)
        assert set(arguments.SWEEP_ARGS) <= args, cls.get_name()


def test_the_shared_arguments_are_documented_and_declared_alike():
    """Each sweep scenario's run() is complete as `rally plugin show` prints
    it; the shared arguments are documented once (arguments.sweep_doc fills
    each docstring's @SWEEP_PARAMS@ line), and they must default and
    validate the same in every sweep scenario."""
    from rally_kvm_perf.task.scenarios.kvm_perf import arguments
    names = ("KVMPerf.bonnie", "KVMPerf.netperf", "KVMPerf.fio")
    classes = [scenario.Scenario.get(n) for n in names]
    docs = [{p["name"]: " ".join(p["doc"].split())
             for p in info.parse_docstring(c.run.__doc__)["params"]}
            for c in classes]
    sigs = [inspect.signature(c.run).parameters for c in classes]
    for c in classes:
        assert "@SWEEP_PARAMS@" not in c.run.__doc__
    for name in arguments.SWEEP_ARGS:
        if name not in ("image", "install_command"):   # name the tool
            assert docs[0][name] == docs[1][name] == docs[2][name], name
        assert sigs[0][name].default == sigs[1][name].default \
            == sigs[2][name].default, name
        assert sigs[0][name].annotation == sigs[1][name].annotation \
            == sigs[2][name].annotation, name
    assert [d["image"] for d in docs] == [
        "glance image with bonnie++ installed",
        "glance image with netperf (and netserver) installed",
        "glance image with fio installed"]
    validators = [{(v[0], str(sorted(v[2].items())))
                   for v in c._meta_get("validators")
                   if v[2].get("param_name") in (None, *arguments.SWEEP_ARGS)}
                  for c in classes]
    assert validators[0] == validators[1] == validators[2]


def test_sweep_doc_refuses_a_docstring_without_its_marker():
    from rally_kvm_perf.task.scenarios.kvm_perf import arguments

    def run():
        """No marker."""
    with pytest.raises(ValueError, match="no @SWEEP_PARAMS@ line"):
        arguments.sweep_doc("x", "x")(run)


def test_plugin_show_says_what_a_sweep_records_besides_the_benchmark():
    """`rally plugin show` prints the run() docstring's description: each
    sweep names its contention telemetry there, instance and host side."""
    for name in ("KVMPerf.bonnie", "KVMPerf.netperf", "KVMPerf.fio"):
        cls = scenario.Scenario.get(name)
        text = " ".join(info.parse_docstring(
            cls.run.__doc__)["long_description"].split())
        for words in ("contention telemetry", "CPU steal", "iowait",
                      "qemu process and vhost threads",
                      "kvm_perf_hypervisors context"):
            assert words in text, (name, words)
