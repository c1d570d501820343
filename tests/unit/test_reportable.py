"""A report shows what the plugin names as safe, not what a deny-list
misses: secrets under any key name, or inside free text, never reach the
kvm-perf page, ratios.json, the NDJSON samples or the trends, and the
report names what it left out."""

import json

from rally_kvm_perf.task import reportable
from rally_kvm_perf.task.exporters import kvm_perf
from rally_kvm_perf.task.exporters import kvm_perf_ndjson
from rally_kvm_perf.task.exporters import kvm_perf_trends
from tests.unit import test_ndjson

SECRETS = ("s3cr3t-db", "AKIA-key", "cr3dential", "tok-in-command",
           "hunter2", "userdata-secret", "ctx-pass")


def _task():
    task = test_ndjson._task()
    wl = task["subtasks"][0]["workloads"][0]
    wl["args"] = {
        "image": {"name": "debian-12"}, "repetitions": 3,
        "password": "hunter2",
        "install_command": "curl -H 'X-Auth-Token: tok-in-command' x",
        "boot_kwargs": {"user_data": "userdata-secret"},
        # not KVMPerf.bonnie arguments: never shown, whatever their name
        "db_passwd": "s3cr3t-db", "api_key": "AKIA-key",
        "credentials": "cr3dential"}
    wl["contexts"] = {
        "kvm_perf_flavor": {"pinning": True, "vcpus": 2},
        "users": {"tenants": 2, "users_per_tenant": 1,
                  "password": "ctx-pass"},
        "network@openstack": {"cidr": "10.2.0.0/24", "dns": "10.0.0.1"}}
    return task


def _texts(exporter_cls, tmp_path):
    out = exporter_cls([_task()], str(tmp_path / "out")).generate()
    return {path: text for path, text in out["files"].items()}


def test_no_secret_reaches_any_export(tmp_path):
    for cls in (kvm_perf.KVMPerfExporter,
                kvm_perf_ndjson.KVMPerfNDJSONExporter,
                kvm_perf_trends.KVMPerfTrendsExporter):
        for path, text in _texts(cls, tmp_path).items():
            for secret in SECRETS:
                assert secret not in text, (cls.__name__, path, secret)


def test_the_report_names_what_it_left_out(tmp_path):
    files = _texts(kvm_perf.KVMPerfExporter, tmp_path)
    page = [t for p, t in files.items() if p.endswith("index.html")][0]
    assert "debian-12" in page    # a KVMPerf argument it may show
    left = ("api_key, boot_kwargs, credentials, db_passwd, "
            "install_command, password, users.password, "
            "network@openstack.cidr, network@openstack.dns")
    assert "left out of this report, not on its allow-list: " + left in page
    ratios = json.loads([t for p, t in files.items()
                         if p.endswith("ratios.json")][0])
    [ds] = ratios["datasets"]
    assert ds["args"] == {"image": {"name": "debian-12"}, "repetitions": 3}
    assert "password" in ds["left_out"]


def test_other_plugins_show_only_numbers_and_booleans():
    [task] = reportable.tasks([_task()])
    wl = task["subtasks"][0]["workloads"][0]
    # kvm-perf's own context: every key its schema names
    assert wl["contexts"]["kvm_perf_flavor"] == {"pinning": True, "vcpus": 2}
    # Rally's users context: numbers only; its password left out
    assert wl["contexts"]["users"] == {"tenants": 2, "users_per_tenant": 1}
    assert "users.password" in wl[reportable.LEFT_OUT]
    # a scenario kvm-perf does not know: nothing but numbers and booleans
    kept, left = reportable.keep({"command": "echo tok", "times": 2},
                                 reportable._scenario_allowed(
                                     "VMTasks.boot_runcommand_delete"))
    assert kept == {"times": 2} and left == ["command"]


def test_the_input_is_not_changed():
    tasks = [_task()]
    before = json.dumps(tasks, sort_keys=True)
    reportable.tasks(tasks)
    assert json.dumps(tasks, sort_keys=True) == before
