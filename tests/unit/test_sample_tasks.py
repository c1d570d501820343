"""Every sample task renders, and every workload passes the scenario's own
Rally validators that need no cloud (args-spec, number, enum, ours)."""

import glob
import json
import os

import jsonschema
import pytest
from rally import api
from rally import exceptions
from rally import plugins
from rally.common import validation
from rally.task import context
from rally.task import scenario
from rally.task import sla
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
SAMPLES = sorted(glob.glob(os.path.join(ROOT, "samples", "tasks", "*.yaml")))
# validators that would need a cloud (clients, services, platform)
CLOUD_VALIDATORS = {"required_platform", "required_services",
                    "external_network_exists", "image_valid_on_flavor"}

plugins.load()


def render(path, **args):
    with open(path) as f:
        text = f.read()
    rendered = api.API(skip_db_check=True).task.render_template(
        task_template=text, template_dir=os.path.dirname(path), **args)
    return yaml.safe_load(rendered)


def workloads(task):
    for subtask in task["subtasks"]:
        for workload in subtask["workloads"]:
            [(name, args)] = workload["scenario"].items()
            yield name, args, workload


def check_workload(name, args, contexts=None):
    cls = scenario.Scenario.get(name)
    errors = []
    for vname, _platform, vargs in cls._meta_get("validators"):
        if vname in CLOUD_VALIDATORS:
            continue
        validator = validation.Validator.get(vname)(**vargs)
        try:
            validator.validate({}, {"args": args,
                                    "contexts": contexts or {}}, cls, None)
        except validation.ValidationError as e:
            errors.append("%s: %s" % (vname, e))
    return errors


def test_there_are_samples():
    names = {os.path.basename(p) for p in SAMPLES}
    assert {"kvm-perf-host-baseline.yaml", "kvm-perf-paper-baseline.yaml",
            "kvm-perf-paper-optimized.yaml", "kvm-perf-compare.yaml",
            "kvm-perf-smoke.yaml", "kvm-perf-fio.yaml"} <= names


@pytest.mark.parametrize("path", SAMPLES, ids=os.path.basename)
def test_sample_renders_and_validates(path):
    task = render(path)
    assert task["version"] == 2
    found = list(workloads(task))
    assert found
    for name, args, workload in found:
        assert check_workload(name, args, workload.get("contexts")) == [], (
            name, args)
        assert workload["sla"]["failure_rate"]["max"] == 0
        for sla_name, sla_config in workload["sla"].items():
            jsonschema.validate(sla_config,
                                sla.SLA.get(sla_name).CONFIG_SCHEMA)
        for ctx_name, ctx_config in workload.get("contexts", {}).items():
            if ctx_name.startswith("kvm_perf_"):
                cls = context.Context.get(ctx_name)
                jsonschema.validate(ctx_config, cls.CONFIG_SCHEMA)
    with open(path) as f:
        assert f.read().startswith("{#"), "header comment: what and how long"


def test_paper_task_has_the_papers_parameters():
    task = render(os.path.join(ROOT, "samples", "tasks",
                               "kvm-perf-paper-baseline.yaml"))
    by_name = {name: (args, w) for name, args, w in workloads(task)}
    bonnie_args, workload = by_name["KVMPerf.bonnie"]
    assert bonnie_args["instances"] == 10 and bonnie_args["repetitions"] == 10
    assert "bonnie_size_mb" not in bonnie_args      # default: 2 x flavor RAM
    [flavor] = workload["contexts"]["flavors"]
    assert (flavor["vcpus"], flavor["ram"], flavor["disk"]) == (2, 2048, 40)
    net_args, _ = by_name["KVMPerf.netperf"]
    assert net_args["tests"] == ["TCP_STREAM", "UDP_STREAM"]
    assert net_args["duration"] == 60


def test_paper_samples_take_a_smaller_bonnie_file_forced_on_both_sides():
    """bonnie_size_mb below 2 x RAM (a quick trial, the functional tenant
    case) reaches the scenario with force, and the host baseline measures
    the same size; at 2 x RAM nothing is forced."""
    for sample in ("kvm-perf-paper-baseline.yaml",
                   "kvm-perf-paper-optimized.yaml"):
        path = os.path.join(ROOT, "samples", "tasks", sample)
        small = render(path, ram=512, bonnie_size_mb=256,
                       measure_baseline=True, netserver="192.0.2.10")
        [(args, w)] = [(a, w) for n, a, w in workloads(small)
                       if n == "KVMPerf.bonnie"]
        assert (args["bonnie_size_mb"], args["force"]) == (256, True), sample
        if "kvm_perf_baseline" in w["contexts"]:
            assert w["contexts"]["kvm_perf_baseline"]["bonnie"][
                "size_mb"] == 256
        same = render(path, ram=512, bonnie_size_mb=1024)
        [args] = [a for n, a, _ in workloads(same) if n == "KVMPerf.bonnie"]
        assert "bonnie_size_mb" not in args and "force" not in args, sample


def test_paper_samples_skip_the_file_tests_unless_asked_on_both_sides():
    """The paper reads bonnie++'s sequential columns only: -n 0 by default
    in the instances and in the measured host baseline alike; 16 (or a
    bonnie++ n:max:min:dirs) reaches both when asked."""
    for sample in ("kvm-perf-paper-baseline.yaml",
                   "kvm-perf-paper-optimized.yaml",
                   "kvm-perf-compare.yaml"):
        path = os.path.join(ROOT, "samples", "tasks", sample)
        for given, wanted in ((None, "0"), (16, "16"), ("4:100:10", "4:100:10")):
            kwargs = {} if given is None else {"bonnie_files": given}
            task = render(path, measure_baseline=True,
                          netserver="192.0.2.10", **kwargs)
            found = [(a, w) for n, a, w in workloads(task)
                     if n == "KVMPerf.bonnie"]
            assert found, sample
            for args, w in found:
                assert args["bonnie_files"] == wanted, (sample, given)
                assert check_workload("KVMPerf.bonnie", args,
                                      w["contexts"]) == []
                if "kvm_perf_baseline" in w["contexts"]:
                    assert w["contexts"]["kvm_perf_baseline"]["bonnie"][
                        "files"] == wanted, (sample, given)

def test_paper_samples_measure_the_disk_with_o_direct():
    """2 x the flavor's RAM is the disk in the instance, but the page cache
    on a host with far more RAM: O_DIRECT on both sides by default."""
    for sample in ("kvm-perf-paper-baseline.yaml",
                   "kvm-perf-paper-optimized.yaml"):
        path = os.path.join(ROOT, "samples", "tasks", sample)
        task = render(path, measure_baseline=True, netserver="192.0.2.10")
        [(args, w)] = [(a, w) for n, a, w in workloads(task)
                       if n == "KVMPerf.bonnie"]
        assert args["bonnie_extra_args"] == ["-D"], sample
        if "kvm_perf_baseline" in w["contexts"]:
            assert w["contexts"]["kvm_perf_baseline"]["bonnie"][
                "extra_args"] == ["-D"]
        off = render(path, direct_io=False)
        assert [a for n, a, _ in workloads(off) if n == "KVMPerf.bonnie"][
            0].get("bonnie_extra_args") is None
        assert "--bonnie-arg=-D" in open(path).read() or \
            "measure_baseline" in open(path).read()


def test_optimized_task_uses_the_contexts():
    path = os.path.join(ROOT, "samples", "tasks",
                        "kvm-perf-paper-optimized.yaml")
    task = render(path, measure_baseline=True, runtime_pinning="2-21",
                  netserver="192.0.2.10")
    for name, args, workload in workloads(task):
        assert "flavor" not in args          # the kvm_perf_flavor context's
        ctx = workload["contexts"]
        assert ctx["kvm_perf_flavor"]["pinning"] is True
        assert ctx["kvm_perf_hypervisors"]["ept"] == "required"
        assert ctx["kvm_perf_hypervisors"]["runtime_pinning"]["cpus"] == "2-21"
        if name == "KVMPerf.bonnie":
            assert ctx["kvm_perf_baseline"]["bonnie"]["size_mb"] == 4096
        else:
            assert ctx["kvm_perf_baseline"]["netperf"]["netserver"] == \
                "192.0.2.10"
        for ctx_name in ("kvm_perf_flavor", "kvm_perf_hypervisors",
                         "kvm_perf_baseline"):
            jsonschema.validate(ctx[ctx_name],
                                context.Context.get(ctx_name).CONFIG_SCHEMA)


def test_compare_task_has_before_then_after_per_scenario():
    task = render(os.path.join(ROOT, "samples", "tasks",
                               "kvm-perf-compare.yaml"))
    found = [(name, w["contexts"]["kvm_perf_flavor"]["pinning"],
              w["contexts"]["kvm_perf_hypervisors"]["ept"])
             for name, _args, w in workloads(task)]
    assert found == [("KVMPerf.bonnie", False, "warn"),
                     ("KVMPerf.netperf", False, "warn"),
                     ("KVMPerf.bonnie", True, "required"),
                     ("KVMPerf.netperf", True, "required")]


def test_task_args_reach_the_workloads():
    task = render(os.path.join(ROOT, "samples", "tasks", "kvm-perf-smoke.yaml"),
                  instances=3, netserver="10.0.0.1:12865",
                  host_baseline_netperf="/tmp/b.json")
    by_name = {name: args for name, args, _ in workloads(task)}
    assert by_name["KVMPerf.bonnie"]["active_counts"] == [1, 2, 3]
    assert by_name["KVMPerf.netperf"]["netserver"] == "10.0.0.1:12865"
    assert by_name["KVMPerf.netperf"]["host_baseline"] == "/tmp/b.json"
    assert "host_baseline" not in by_name["KVMPerf.bonnie"]
    slas = {name: w["sla"] for name, _, w in workloads(task)}
    # a gate a broken measurement fails (0.001 gated nothing)
    # 2 repetitions: no interval, the estimate decides (said in the SLA)
    assert slas["KVMPerf.netperf"]["kvm_perf_ratio"] == {
        "transactions_per_s": 0.01, "at_instances": 1,
        "on_inconclusive": "estimate"}
    assert "kvm_perf_ratio" not in slas["KVMPerf.bonnie"]   # no baseline
    # runs one after another (overlap 0) fail it; a saturated CI does not
    assert slas["KVMPerf.bonnie"]["kvm_perf_overlap"]["min_overlap"] == 0.3
    # O_DIRECT by default: a host with far more RAM than the file would
    # otherwise time its page cache
    assert by_name["KVMPerf.bonnie"]["bonnie_extra_args"] == ["-D"]


def test_smoke_on_the_local_cloud_measures_its_own_baseline():
    task = render(os.path.join(ROOT, "samples", "tasks", "kvm-perf-smoke.yaml"),
                  netserver="10.99.1.2:12865", measure_baseline=True,
                  local_host=True, output_dir="/tmp/out")
    found = {name: (args, w) for name, args, w in workloads(task)}
    bonnie_args, bonnie_wl = found["KVMPerf.bonnie"]
    netperf_args, netperf_wl = found["KVMPerf.netperf"]
    assert bonnie_wl["contexts"]["kvm_perf_hypervisors"]["local"] is True
    base = bonnie_wl["contexts"]["kvm_perf_baseline"]
    # the host runs exactly what the instances run
    assert base["bonnie"]["size_mb"] == bonnie_args["bonnie_size_mb"]
    assert base["bonnie"]["extra_args"] == bonnie_args["bonnie_extra_args"]
    assert base["netperf"] is None
    nbase = netperf_wl["contexts"]["kvm_perf_baseline"]
    assert nbase["netperf"]["netserver"] == netperf_args["netserver"]
    assert nbase["netperf"]["tests"] == netperf_args["tests"]
    assert nbase["netperf"]["duration"] == netperf_args["duration"]
    assert bonnie_args["output_file"] == "/tmp/out/bonnie.json"
    assert "resume" not in bonnie_args
    assert bonnie_wl["sla"]["kvm_perf_ratio"] == {
        "block_write_kBps": 0.01, "at_instances": 1,
        "on_inconclusive": "estimate"}


def test_smoke_resumes_its_output_files_when_asked():
    path = os.path.join(ROOT, "samples", "tasks", "kvm-perf-smoke.yaml")
    task = render(path, output_dir="/tmp/out", resume=True)
    for name, args, _ in workloads(task):
        assert args["resume"] is True, name
        assert args["output_file"].startswith("/tmp/out/")
    # asked for without the files: passed on, for the scenario to refuse
    # ("resume needs output_file"), never dropped in silence
    task = render(path, resume=True)
    assert all(args["resume"] is True and "output_file" not in args
               for _, args, _ in workloads(task))


@pytest.mark.parametrize("sample", ["kvm-perf-smoke.yaml",
                                    "kvm-perf-paper-optimized.yaml"])
def test_peer_netserver_baseline_is_the_peer_itself(sample):
    """netserver "peer" + measure_baseline: the host's netperf baseline is
    taken against the peer instance (peer_baseline), never handed to the
    baseline context as a host literally named "peer"."""
    task = render(os.path.join(ROOT, "samples", "tasks", sample),
                  measure_baseline=True, local_host=True)
    found = {name: (args, w) for name, args, w in workloads(task)}
    netperf_args, netperf_wl = found["KVMPerf.netperf"]
    assert netperf_args["netserver"] == "peer"
    assert netperf_args["peer_baseline"] is True
    assert "kvm_perf_baseline" not in netperf_wl["contexts"]
    assert "kvm_perf_hypervisors" in netperf_wl["contexts"]
    bonnie_args, bonnie_wl = found["KVMPerf.bonnie"]
    assert "peer_baseline" not in bonnie_args
    assert bonnie_wl["contexts"]["kvm_perf_baseline"]["bonnie"]
    assert check_workload("KVMPerf.netperf", netperf_args,
                          netperf_wl["contexts"]) == []
    # a named netserver: the baseline context measures against it
    task = render(os.path.join(ROOT, "samples", "tasks", sample),
                  measure_baseline=True, netserver="192.0.2.10:12865")
    found = {name: (args, w) for name, args, w in workloads(task)}
    netperf_args, netperf_wl = found["KVMPerf.netperf"]
    assert netperf_args.get("peer_baseline") is False
    assert netperf_wl["contexts"]["kvm_perf_baseline"]["netperf"][
        "netserver"] == "192.0.2.10:12865"


@pytest.mark.parametrize("sample", ["kvm-perf-smoke.yaml",
                                    "kvm-perf-paper-baseline.yaml",
                                    "kvm-perf-paper-optimized.yaml"])
def test_placement_reaches_the_workloads(sample):
    path = os.path.join(ROOT, "samples", "tasks", sample)
    for name, args, w in workloads(render(path, placement="spread")):
        assert args["placement"] == "spread"
        assert check_workload(name, args, w["contexts"]) == []
    # unset: the scenarios' own default (same_host)
    assert all("placement" not in args
               for _n, args, _w in workloads(render(path)))
    name, args, w = next(workloads(render(path, placement="elsewhere")))
    assert any("placement" in e for e in check_workload(name, args,
                                                        w["contexts"]))


def test_peer_placement_reaches_netperf_only():
    path = os.path.join(ROOT, "samples", "tasks", "kvm-perf-smoke.yaml")
    found = {name: args for name, args, _w in
             workloads(render(path, peer_placement="other_host"))}
    assert found["KVMPerf.netperf"]["peer_placement"] == "other_host"
    assert "peer_placement" not in found["KVMPerf.bonnie"]
    for name, args, w in workloads(render(path, peer_placement="other_host")):
        assert check_workload(name, args, w["contexts"]) == []
    name, args, w = [x for x in workloads(render(
        path, peer_placement="beside")) if x[0] == "KVMPerf.netperf"][0]
    assert any("peer_placement" in e for e in check_workload(
        name, args, w["contexts"]))


def test_smoke_pinned_single_scenario():
    task = render(os.path.join(ROOT, "samples", "tasks", "kvm-perf-smoke.yaml"),
                  pinning=True, instances=1, scenarios=["netperf"],
                  direct_io=False)
    [(name, args, wl)] = workloads(task)
    assert name == "KVMPerf.netperf"
    assert wl["contexts"]["kvm_perf_flavor"]["pinning"] is True
    assert "kvm_perf_overlap" not in wl["sla"]   # one instance overlaps nothing
    assert args["active_counts"] == [1]


@pytest.mark.parametrize("args, message", [
    ({"active_counts": [1, 11]}, "from 1 to 10"),
    ({"instances": 2, "active_counts": [3]}, "from 1 to 2"),
    ({"active_counts": []}, "non-empty list"),
    ({"between_repetitions": "nap"}, "between_repetitions"),
    ({"repetitions": 0}, "repetitions"),
    ({"instances": 0}, "instances"),
    ({"tests": ["TCP_CRR"]}, "TCP_CRR"),
    ({"surprise": 1}, "Unexpected argument"),
])
def test_bad_sweep_arguments_fail_validation(args, message):
    base = {"image": {"name": "i"}, "flavor": {"name": "f"}}
    errors = check_workload("KVMPerf.netperf", dict(base, **args))
    assert errors and message in json.dumps(errors), errors


def test_flavor_or_the_flavor_context_is_required():
    errors = check_workload("KVMPerf.bonnie", {"image": {"name": "i"}})
    assert "either scenario argument flavor or use context kvm_perf_flavor" \
        in json.dumps(errors)
    assert check_workload("KVMPerf.bonnie", {"image": {"name": "i"}},
                          {"kvm_perf_flavor": {}}) == []


def test_fio_sample_measures_its_baseline_with_the_same_parameters():
    path = os.path.join(ROOT, "samples", "tasks", "kvm-perf-fio.yaml")
    task = render(path, local_host=True, instances=2, fio_jobs=["seqwrite"],
                  fio_runtime=3, fio_ramp_time=0, fio_size_mb=64)
    [(name, args, workload)] = workloads(task)
    assert name == "KVMPerf.fio" and args["active_counts"] == [1, 2]
    ctx = workload["contexts"]
    assert ctx["kvm_perf_hypervisors"]["local"] is True
    host = ctx["kvm_perf_baseline"]["fio"]
    for key in ("jobs", "size_mb", "runtime", "ramp_time", "iodepth",
                "ioengine"):
        assert host[key] == args["fio_" + key], key
    assert host["ramp_time"] == 0            # an explicit 0 is kept
    assert ctx["kvm_perf_baseline"]["bonnie"] is None
    # the gate is on what runs: the first job's key metric
    # 5 repetitions by default: the interval decides, "cannot tell" fails
    assert workload["sla"]["kvm_perf_ratio"] == {"seqwrite_bw_kBps": 0.01,
                                                 "on_inconclusive": "fail"}
    # a baseline file instead: no measuring context, the file is used
    task = render(path, host_baseline="/tmp/h.json")
    [(_n, args, workload)] = workloads(task)
    assert "kvm_perf_baseline" not in workload["contexts"]
    assert args["host_baseline"] == "/tmp/h.json"
    assert workload["sla"]["kvm_perf_ratio"] == {"randread_iops": 0.01,
                                                 "on_inconclusive": "fail"}


def test_netperf_tests_reach_the_instances_and_the_host_alike():
    path = os.path.join(ROOT, "samples", "tasks", "kvm-perf-smoke.yaml")
    task = render(path, netperf_tests=["TCP_STREAM"], measure_baseline=True,
                  netserver="192.0.2.10:12865")
    found = {name: (args, w) for name, args, w in workloads(task)}
    args, wl = found["KVMPerf.netperf"]
    assert args["tests"] == ["TCP_STREAM"]
    assert wl["contexts"]["kvm_perf_baseline"]["netperf"]["tests"] == [
        "TCP_STREAM"]
    assert check_workload("KVMPerf.netperf", args, wl["contexts"]) == []
    # without TCP_RR the ratio gate is on what does run (a gate on TCP_RR's
    # transactions would fail every such task: "not measured")
    assert wl["sla"]["kvm_perf_ratio"] == {"throughput_mbps": 0.01,
                                           "at_instances": 1,
                                           "on_inconclusive": "estimate"}
    task = render(path, netperf_tests=["UDP_STREAM", "TCP_RR"],
                  measure_baseline=True, netserver="192.0.2.10:12865")
    [sla] = [w["sla"] for n, _a, w in workloads(task) if n == "KVMPerf.netperf"]
    assert sla["kvm_perf_ratio"] == {"transactions_per_s": 0.01,
                                     "at_instances": 1,
                                     "on_inconclusive": "estimate"}
    # unset: all three
    found = {name: args for name, args, _w in workloads(render(path))}
    assert found["KVMPerf.netperf"]["tests"] == ["TCP_STREAM", "UDP_STREAM",
                                                "TCP_RR"]
    # a test netperf's parser does not know is refused at validation
    task = render(path, netperf_tests=["TCP_MAERTS_X"])
    name, args, w = [x for x in workloads(task) if x[0] == "KVMPerf.netperf"][0]
    assert check_workload(name, args, w["contexts"]) != []


def test_compare_task_on_the_local_cloud_runtime_pinning_and_paper_gate():
    """The scaled-down before/after of the functional case: "after" with
    runtime pinning on an unpinned flavor, the hosts' baselines measured
    in both halves, and each sweep gated on the paper's findings that its
    benchmark can show (bonnie++ 1 and 2, netperf 3 and 4)."""
    task = render(os.path.join(ROOT, "samples", "tasks",
                               "kvm-perf-compare.yaml"),
                  instances=2, repetitions=3, netserver="10.99.1.2:12865",
                  measure_baseline=True, local_host=True, ept="warn",
                  runtime_pinning="0-1", tenant_network=False,
                  paper_findings=[1, 3, 4], paper_on_inconclusive="pass")
    found = list(workloads(task))
    assert [n for n, _a, _w in found] == ["KVMPerf.bonnie",
                                          "KVMPerf.netperf"] * 2
    for i, (name, args, w) in enumerate(found):
        ctx = w["contexts"]
        assert "network" not in ctx
        assert ctx["kvm_perf_flavor"]["pinning"] is False
        hyper = ctx["kvm_perf_hypervisors"]
        assert hyper["local"] is True and hyper["ept"] == "warn"
        assert ("runtime_pinning" in hyper) == (i >= 2)
        assert ctx["kvm_perf_baseline"]["repetitions"] == 3
        assert w["sla"]["kvm_perf_paper"] == {
            "findings": [1] if name == "KVMPerf.bonnie" else [3, 4],
            "on_inconclusive": "pass"}
        assert check_workload(name, args, ctx) == []
    # without paper_findings: no paper gate
    plain = render(os.path.join(ROOT, "samples", "tasks",
                                "kvm-perf-compare.yaml"))
    assert all("kvm_perf_paper" not in w["sla"]
               for _n, _a, w in workloads(plain))


def test_paper_samples_gate_on_the_findings_their_benchmark_shows():
    for sample in ("kvm-perf-paper-baseline.yaml",
                   "kvm-perf-paper-optimized.yaml"):
        task = render(os.path.join(ROOT, "samples", "tasks", sample),
                      paper_findings=[2, 4], local_host=True)
        slas = {n: w["sla"] for n, _a, w in workloads(task)}
        assert slas["KVMPerf.bonnie"]["kvm_perf_paper"] == {
            "findings": [2], "on_inconclusive": "fail"}, sample
        assert slas["KVMPerf.netperf"]["kvm_perf_paper"] == {
            "findings": [4], "on_inconclusive": "fail"}, sample
        plain = render(os.path.join(ROOT, "samples", "tasks", sample))
        assert all("kvm_perf_paper" not in w["sla"]
                   for _n, _a, w in workloads(plain)), sample
    opt = render(os.path.join(ROOT, "samples", "tasks",
                              "kvm-perf-paper-optimized.yaml"),
                 local_host=True)
    assert all(w["contexts"]["kvm_perf_hypervisors"]["local"] is True
               for _n, _a, w in workloads(opt))


def test_compare_task_compares_the_scenarios_asked_for():
    """scenarios: the before/after of netperf alone (CI's case: half the
    boots); a name that is neither is a workload Rally refuses, naming it,
    not a task that silently compares nothing."""
    path = os.path.join(ROOT, "samples", "tasks", "kvm-perf-compare.yaml")
    task = render(path, scenarios=["netperf"], measure_baseline=True,
                  netserver="10.99.1.2:12865", local_host=True,
                  paper_findings=[1, 2, 3, 4])
    found = list(workloads(task))
    assert [n for n, _a, _w in found] == ["KVMPerf.netperf"] * 2
    for _n, _a, w in found:
        assert w["contexts"]["network"] == {}   # the default: tenant
        assert w["sla"]["kvm_perf_paper"]["findings"] == [3, 4]
    assert [n for n, _a, _w in workloads(render(path))] == [
        "KVMPerf.bonnie", "KVMPerf.netperf"] * 2
    bad = render(path, scenarios=["netperf", "disk"])
    [unknown] = [s for s in bad["subtasks"] if "workloads" not in s]
    [name] = unknown["scenario"]
    assert "disk" in unknown["title"] and "disk" in name
    with pytest.raises(exceptions.PluginNotFound, match="disk"):
        scenario.Scenario.get(name)
