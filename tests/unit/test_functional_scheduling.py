"""CI schedules the functional tests with pytest-xdist (tools/run.sh test):
the tests that share a module fixture of their own (one Rally task read by
several tests) must run on one worker, or that task runs once per worker.
Checked for real: a small suite under two xdist workers with the
functional tests' conftest as a plugin, its timeline read back. (pytest 9.2
broke loadgroup without a word, pytest-xdist issue #1386: this is what
would say so after a constraints refresh.)"""

import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))

SUITE = '''
import pytest

@pytest.fixture(scope="module")
def shared_task():
    return "measured once"

@pytest.mark.parametrize("i", range(6))
def test_reads_the_shared_task(shared_task, i):
    assert shared_task == "measured once"

@pytest.mark.long
def test_long_case():
    pass

@pytest.mark.parametrize("i", range(4))
def test_short_case(i):
    pass
'''


def test_a_modules_shared_task_runs_on_one_worker(tmp_path):
    (tmp_path / "test_suite.py").write_text(SUITE)
    timeline = tmp_path / "timeline"
    env = dict(os.environ, PYTHONPATH=ROOT, KVM_PERF_TIMELINE=str(timeline),
               KVM_PERF_AIO_NS="kvmperf-absent")
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         "-p", "tests.functional.conftest", "-n", "2", "--dist", "loadgroup",
         "--rootdir", str(tmp_path), str(tmp_path)],
        capture_output=True, text=True, cwd=str(tmp_path), env=env,
        timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    rows = [line.split() for line in timeline.read_text().splitlines()]
    # start -> end s worker outcome nodeid
    worker = {row[6]: row[4] for row in rows}
    assert len(worker) == 11 and set(worker.values()) == {"gw0", "gw1"}, rows
    shared = {w for test, w in worker.items() if "shared_task" in test}
    assert len(shared) == 1, worker
    assert all(row[5] == "passed" for row in rows), rows


ORDERED = '''
import pytest

def test_short():
    pass

@pytest.mark.long
def test_long():
    pass

@pytest.mark.long(minutes=12)
def test_longest():
    pass
'''


def test_the_longest_case_is_handed_out_first(tmp_path):
    """long(minutes=N) orders the long cases, the longest first, then the
    others in collection order: the worker that takes the longest case
    takes it at the start, not when the other worker is nearly done."""
    (tmp_path / "test_order.py").write_text(ORDERED)
    env = dict(os.environ, PYTHONPATH=ROOT, KVM_PERF_AIO_NS="kvmperf-absent")
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "--collect-only",
         "-p", "no:cacheprovider", "-p", "tests.functional.conftest",
         "--rootdir", str(tmp_path), str(tmp_path)],
        capture_output=True, text=True, cwd=str(tmp_path), env=env,
        timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    names = [line.split("::")[-1] for line in proc.stdout.splitlines()
             if "::" in line]
    assert names == ["test_longest", "test_long", "test_short"], names


def test_cis_set_keeps_the_main_job_and_the_tenant_network():
    """CI's functional set (tools/run.sh test: "not periodic") still runs
    the README's main job, a task on Rally's tenant network over floating
    IPs (with runtime pinning in its "after" half) and the volume-backed
    sweep; the full set adds the periodic cases, the paper's path (peer
    baseline, reboots) among them. The cases CI runs beside the checks
    ("light") boot nothing and none of them must run alone; the one
    "early" case after them boots one guest."""
    def collected(marks):
        proc = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "--collect-only",
             "-p", "no:cacheprovider", "-m", marks, "tests/functional"],
            capture_output=True, text=True, cwd=ROOT, timeout=300,
            env=dict(os.environ, KVM_PERF_AIO_NS="kvmperf-absent"))
        assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
        return {line.split("::")[-1] for line in proc.stdout.splitlines()
                if "::" in line}
    ci = collected("not periodic")
    assert {"test_smoke_task_finishes_with_every_sla_passing",
            "test_netperf_before_after_on_a_tenant_network_judges_its_"
            "findings",
            "test_volume_backed_fio_sweep_with_its_baseline_on_the_volumes_"
            "disk"} <= ci, ci
    periodic = collected("periodic")
    assert periodic and not periodic & ci
    assert {"test_pinned_flavor_instance_shows_vcpupin",
            "test_papers_path_peer_baseline_reboots_and_runtime_pinning"} \
        <= periodic
    light = collected("light and not periodic")
    assert {"test_spread_on_one_compute_node_fails_before_booting",
            "test_image_built_beside_netns_exec_verifies"} <= light, light
    assert not light & collected("alone")
    assert not light & collected("long")
    # beside the checks too, after the light ones: one guest, no more
    early = collected("early and not periodic")
    assert early == {"test_volume_backed_fio_sweep_with_its_baseline_on_"
                     "the_volumes_disk"}, early
    assert not early & (light | collected("alone") | collected("long"))
