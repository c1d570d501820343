"""Fixtures of the functional tests: the local cloud, and the rally CLI
inside its namespace on a database of this pytest process's own, which
this process also reads through rally.api (see aio.py).

How CI schedules them (tools/run.sh test): pytest-xdist, two workers,
``--dist loadgroup``. Tests that share an expensive module fixture (one
Rally task read by several tests) carry one ``xdist_group`` so that one
worker runs them all and the task runs once; every other test is a unit of
its own, handed to whichever worker is free, the ones marked ``long``
first. Tests marked ``alone`` change
the cloud under every other task (nova's CPU sets, a second compute node):
CI runs them first, in a pytest of their own, and the workers then
deselect them (``-m "not alone"``).

KVM_PERF_TIMELINE=FILE (with KVM_PERF_T0, seconds since the epoch) appends a
line per test: start and end in seconds since T0, the worker, the outcome
and the test; CI prints it sorted at the end.
"""

import json
import os
import subprocess
import sys
import time
import uuid

import pytest

from tests.functional import aio

OUTCOME = pytest.StashKey[str]()


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "alone: changes the cloud under every other task (CPU "
        "sets, a second compute node): CI runs these before the others, "
        "never beside one")
    config.addinivalue_line(
        "markers", "periodic: in the full suite only (bash tools/run.sh test "
        "full), not in every CI run: what CI's cases already prove through "
        "the same cloud paths, or a path CI proves with real tools against "
        "a stand-in cloud (tests/integration)")
    config.addinivalue_line(
        "markers", "light: boots no guest (checks of the built image, tasks "
        "refused before booting): CI runs these beside the checks once the "
        "cloud is up, in a pytest of their own, one node only")
    config.addinivalue_line(
        "markers", "early: boots one guest, no more: CI runs it after the "
        "light cases, beside the checks' last minutes (on two cores they "
        "leave about half the CPU idle), not on the workers' phase")
    config.addinivalue_line(
        "markers", "long(minutes=N): boots and measures for minutes: handed "
        "to a worker before the short cases, the longest first, so that the "
        "two workers end together")


@pytest.hookimpl(tryfirst=True)   # before xdist reads the groups
def pytest_collection_modifyitems(config, items):
    """One xdist group per module whose tests share a module fixture of
    their own (the smoke task, the built image, the second node): the
    task behind it then runs once, on one worker. The rally and cloud
    fixtures (conftest's) are cheap and made per worker."""
    for item in items:
        shared = [name for name, defs in
                  item._fixtureinfo.name2fixturedefs.items()
                  if defs[-1].scope in ("module", "package", "session")
                  and defs[-1].baseid == item.module.__name__.replace(
                      ".", "/") + ".py"]
        if shared:
            item.add_marker(pytest.mark.xdist_group(item.module.__name__))
    # long cases first, the longest first (``long(minutes=N)``; a stable
    # sort: otherwise in collection order); xdist then hands out the
    # groups first (most tests first), then these
    def order(item):
        long = item.get_closest_marker("long")
        return (long is None, -(long.kwargs.get("minutes", 0) if long else 0))
    items.sort(key=order)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.failed or (report.when == "call" and report.outcome):
        # the first failure of setup, call or teardown, else the call's
        if item.stash.get(OUTCOME, "passed") == "passed":
            item.stash[OUTCOME] = report.outcome


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    start = time.time()
    yield
    path = os.environ.get("KVM_PERF_TIMELINE")
    if not path:
        return
    t0 = float(os.environ.get("KVM_PERF_T0", start))
    line = "%6.0f -> %6.0f s  %-5s %-7s %s\n" % (
        start - t0, time.time() - t0,
        os.environ.get("PYTEST_XDIST_WORKER", "main"),
        item.stash.get(OUTCOME, "skipped"), item.nodeid)
    with open(path, "a") as f:   # one short append: the workers' lines
        f.write(line)            # do not interleave


@pytest.fixture(scope="module")
def cloud():
    if not (os.path.exists("/run/netns/" + aio.NS)
            and os.path.exists(aio.SPEC)):
        msg = ("the local cloud is not up: run 'bash tools/aio/cloud.sh up' "
               "(as root)")
        if os.environ.get("KVM_PERF_AIO_REQUIRED"):
            pytest.fail(msg)
        pytest.skip(msg)
    return aio.STATE   # its health: healthy_cloud, before every test


@pytest.fixture(autouse=True)
def healthy_cloud(request):
    """Before every test on the cloud: `cloud.sh status` finds every
    daemon alive, none blocked (heartbeats missed), every service and agent
    reporting, and /dev/kvm usable; else the test fails at once with its
    words, instead of waiting on a sick cloud for minutes."""
    if "cloud" not in request.fixturenames:
        return
    request.getfixturevalue("cloud")
    status = subprocess.run(["bash", aio.CLOUD, "status"],
                            capture_output=True, text=True, timeout=120)
    assert status.returncode == 0, "the local cloud is sick:\n" + "\n".join(
        line for line in (status.stdout + status.stderr).splitlines()
        if "running" not in line)


@pytest.fixture(scope="module")
def cloud_user(cloud):
    """A project and member user of the module's own, deleted after it
    (cloud_user.py): the Rally environment's existing user."""
    name = "kvm-perf-functional-%s" % uuid.uuid4().hex[:8]
    user = json.loads(aio.in_ns([sys.executable, aio.CLOUD_USER, "create",
                                 name]).stdout)
    yield user
    aio.in_ns([sys.executable, aio.CLOUD_USER, "delete", user["project_id"],
               user["user_id"]])


@pytest.fixture(scope="session")
def rally_db(tmp_path_factory):
    """This pytest process's Rally database, opened here through
    rally.api: environments are created and JSON reports read in this
    process, not by a rally CLI start each (about 3 CPU-s apiece, the
    plugins loaded anew every time; 152 such starts were 465 CPU-s of one
    CI run). ``rally task start`` and the commands a user types stay real
    CLI runs inside the namespace (conftest.rally)."""
    home = tmp_path_factory.mktemp("rally-db")
    conf = home / "rally.conf"
    # Rally's own VM scenarios (VMTasks) wait vm_ping_timeout for a new
    # server to answer ping (120 s by default): a TCG guest beside two
    # busy workers can take longer to boot than that
    conf.write_text("[database]\nconnection = sqlite:///%s\n"
                    "[openstack]\nvm_ping_timeout = 600\n"
                    % (home / "rally.sqlite"))
    from rally import api
    from rally.common import db
    handle = api.API(config_file=str(conf), skip_db_check=True)
    db.schema.schema_create()
    handle.conf = conf
    return handle


@pytest.fixture(scope="module")
def rally(cloud, cloud_user, rally_db, tmp_path_factory):
    """The rally CLI inside the namespace, on this process's database
    (rally_db) and in a home of the module's own (the baselines the
    kvm_perf_baseline context writes under it are the module's); its
    environment has the admin and the module's existing user, so that no
    task creates and deletes users of its own (Rally's users context does
    that for each workload and each validation: about 35 s a task). What a
    task leaves owned by that user's project is its leak (aio.task)."""
    from rally.env import env_mgr
    home = tmp_path_factory.mktemp("rally-aio")
    spec = json.load(open(aio.SPEC))
    spec["openstack"]["users"] = [{
        "username": cloud_user["username"],
        "password": cloud_user["password"],
        "project_name": cloud_user["project_name"],
        "user_domain_name": "Default", "project_domain_name": "Default"}]
    # (the spec holds the admin password: never written out or shown)
    env = env_mgr.EnvManager.create("aio-" + uuid.uuid4().hex[:8], spec)
    conf = rally_db.conf

    def run(*args, check=True, timeout=1800):
        proc = aio.in_ns(["env", "HOME=%s" % home, aio.RALLY,
                          "--config-file", str(conf), *args],
                         timeout=timeout, check=False, cwd=str(home))
        if check:
            assert proc.returncode == 0, (args, proc.stdout[-4000:],
                                          proc.stderr[-4000:])
        return proc

    def report(task_uuid, path):
        """The task's JSON report (rally task report --json), built by
        this process and kept at path."""
        text = rally_db.task.export([task_uuid], "json")["print"]
        path.write_text(text)
        return json.loads(text)

    run.argv = lambda *args: ["bash", aio.CLOUD, "exec", "env",
                              "HOME=%s" % home, aio.RALLY, "--config-file",
                              str(conf), *args]
    run.env = env.uuid
    run.report = report
    run.running = lambda: [t["uuid"] for t in rally_db.task.list(
        deployment=env.uuid, status="running")]
    run.home = home
    run.owners = {cloud_user["project_id"], cloud_user["user_id"]}
    return run
