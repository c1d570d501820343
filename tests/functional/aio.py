"""What the functional tests share about the local cloud (tools/aio):
where it is, running commands in its namespace, Rally tasks of the smoke
sample against it, and the leak check every task passes.

The leak check: the IDs of everything a task could leave behind, cloud-wide,
before and after the task. Run alone, the cloud after a task must equal the
cloud before it. CI runs two pytest processes against the cloud at once
(KVM_PERF_AIO_SHARED=1, tools/run.sh test): then what another task has
running is no leak of this one, so each task is checked for what it alone
can be blamed for (anything owned by its module's own project and user,
the Rally environment's existing user: conftest.cloud_user, or by a project
or user that no longer exists), and
`python -m tests.functional.aio snapshot|compare FILE` checks
the whole cloud against its state before the functional tests, once both
processes are done.
"""

import json
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
CLOUD = os.path.join(ROOT, "tools", "aio", "cloud.sh")
SMOKE = os.path.join(ROOT, "samples", "tasks", "kvm-perf-smoke.yaml")
FIO = os.path.join(ROOT, "samples", "tasks", "kvm-perf-fio.yaml")
RALLY = os.path.join(os.path.dirname(sys.executable), "rally")
NS = os.environ.get("KVM_PERF_AIO_NS", "kvmperf")
STATE = os.environ.get("KVM_PERF_AIO_STATE", "/var/lib/rally-kvm-perf/aio")
SPEC = os.path.join(STATE, "etc", "rally-env.json")
RESOURCES = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                         "cloud_resources.py")
CLOUD_USER = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                          "cloud_user.py")
IMAGE_NAME = "debian-12-bonnie-netperf"   # tools/aio/lib.sh: AIO_IMAGE_NAME
GATEWAY = "10.99.0.1"       # tools/aio/lib.sh: AIO_GW
# AIO_NETSERVER: its own namespace behind the gateway, so that the host
# baseline and the instances both leave their network stack to reach it
NETSERVER = "10.99.1.2:12865"
LOCAL_CLOUD_ARGS = {"netserver": NETSERVER, "local_host": True}
# the fio sample at its smallest: one 1-vCPU instance, two repetitions of
# randread and seqwrite on a 64 MiB file, 3 s each
SMALL_FIO_ARGS = dict(
    local_host=True, instances=1, repetitions=2, vcpus=1, ram=512, disk=3,
    use_floating_ip=False, fio_jobs=["randread", "seqwrite"], fio_size_mb=64,
    fio_runtime=3, fio_ramp_time=1, fio_iodepth=8,
    # a run takes seconds: a guest whose disk stopped answering (seen once
    # on a volume under TCG, 2026-12-03: the guest's writeback blocked for
    # minutes, qemu idle) fails the case in minutes, not at the default's
    # 4 hours, past CI's own limit
    command_timeout=600,
    # 2 repetitions give the ratio no interval: its gate judges the estimate
    ratio_on_inconclusive="estimate")


def shared():
    """Another pytest process runs tasks against this cloud meanwhile."""
    return bool(os.environ.get("KVM_PERF_AIO_SHARED"))


def in_ns(argv, timeout=600, check=True, **kwargs):
    proc = subprocess.run(["bash", CLOUD, "exec", *argv], capture_output=True,
                          text=True, timeout=timeout, **kwargs)
    if check:
        assert proc.returncode == 0, (argv, proc.stdout[-2000:],
                                      proc.stderr[-3000:])
    return proc


def resources():
    """{kind: {id: owner}} of everything a task could leave behind,
    cloud-wide; the owner is a project ID (a user ID for keypairs, None
    where there is none: projects, users, flavors, images)."""
    found = json.loads(in_ns([sys.executable, RESOURCES]).stdout)
    # keypairs of every user, deleted projects' too: nova's own table
    rows = in_ns(["mariadb", "-uroot", "-N", "-e",
                  "SELECT user_id, name FROM nova_api.key_pairs"]).stdout
    found["keypairs"] = {"%s/%s" % tuple(line.split("\t", 1)): line.split(
        "\t", 1)[0] for line in rows.splitlines() if line.strip()}
    return found


def leaks(before, after, owners=()):
    """What a task left: everything new since before (alone), or (shared)
    everything new that the task's own project or user (``owners``: the
    Rally environment's existing user) owns, or whose owning project or
    user is gone (Rally's users context made and deleted it)."""
    found = {}
    for kind, items in after.items():
        new = {i: owner for i, owner in items.items()
               if i not in before.get(kind, {})}
        if shared():
            alive = set(after["users"] if kind == "keypairs"
                        else after["projects"]) - set(owners)
            new = {i: owner for i, owner in new.items()
                   if owner is not None and owner not in alive}
        gone = [] if shared() else sorted(set(before.get(kind, {})) -
                                          set(items))
        if new or gone:
            found[kind] = {"left": sorted(new), "vanished": gone}
    return found


def settled_leaks(before, owners=(), timeout=240):
    """leaks() once deletions already under way have finished: a port
    nova deletes after its server was reported gone is no leak (seen once
    in CI, gone seconds later; and in a trial with Cinder and the second
    node's case beside two lanes, still there after 90 s, gone minutes
    later); one still there after ``timeout`` is."""
    deadline = time.monotonic() + timeout
    while True:
        left = leaks(before, resources(), owners)
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(5)


def task(rally, tmp_path, args, expect_rc=0, sample=SMOKE):
    """Run a sample (the smoke one by default) with args; returns (rally
    report JSON, task uuid), the task checked to have left nothing
    behind. ``expect_rc``: rally's exit code, or a tuple of those allowed
    (2: an SLA failed)."""
    before = resources()
    proc = rally("task", "start", sample, "--env", rally.env,
                 "--task-args", json.dumps(args), check=False)
    uuid = [line.split()[1].rstrip(":") for line in proc.stdout.splitlines()
            if line.startswith("Task ") and "started" in line]
    # the report first: a failure is summarised from it
    report, why = None, "(no task was started)"
    if uuid:
        try:
            report = rally.report(uuid[0], tmp_path / "report.json")
        except Exception as e:   # said below, beside rally's own output
            why = "(no report: %s)" % e
    expected = expect_rc if isinstance(expect_rc, tuple) else (expect_rc,)
    if proc.returncode not in expected:
        # why, on the message's first line: pytest's short summary (all
        # that CI's "what failed" shows) keeps only that line
        errors = task_errors(report) if report else why
        raise AssertionError(
            "rally task start: exit %d, expected %d: %s\n%s\n"
            "--- stdout:\n%s\n--- stderr:\n%s" % (
                proc.returncode, expect_rc, one_line(errors), errors,
                proc.stdout[-6000:], proc.stderr[-3000:]))
    assert uuid, proc.stdout[-3000:]
    assert report is not None, why
    # nothing the task created survives it, nothing else was touched
    left = settled_leaks(before, getattr(rally, "owners", ()))
    assert not left, left
    return report, uuid[0]


def task_errors(report):
    """Each failed iteration's error and each failed SLA of a task's JSON
    report, one line each (its traceback's last lines after it)."""
    lines = []
    for sub in report["tasks"][0]["subtasks"]:
        for wl in sub["workloads"]:
            name = next(iter(wl["scenario"]))
            for sla in wl.get("sla_results", {}).get("sla", []):
                if not sla.get("success", True):
                    lines.append("%s: SLA %s: %s" % (
                        name, sla.get("criterion"), sla.get("detail")))
            for it in wl["data"]:
                if it.get("error"):
                    err = it["error"]
                    lines.append("%s: %s: %s" % (name, err[0], err[1]))
                    lines.extend("    " + line for line in
                                 err[2].strip().splitlines()[-6:])
    return "\n".join(lines) or "(no iteration error, no failed SLA)"


def one_line(text, limit=600):
    """text's unindented lines (task_errors' heads, not their tracebacks)
    joined with " | ", cut to limit characters."""
    joined = " | ".join(line.strip() for line in text.splitlines()
                        if line.strip() and not line[0].isspace())
    return joined if len(joined) <= limit else joined[:limit - 3] + "..."


def workloads(report):
    """{scenario name: workload} of a task's JSON report."""
    return {next(iter(sub["workloads"][0]["scenario"])): sub["workloads"][0]
            for sub in report["tasks"][0]["subtasks"]}


def table(workload, title):
    for chart in workload["data"][0]["output"]["complete"]:
        if chart["title"] == title:
            return chart["data"]
    raise AssertionError("no %r chart in %s" % (title, workload["name"]))


def main(argv):
    """snapshot FILE: the cloud's resources into FILE; compare FILE: exit 1
    (saying what) unless the cloud holds exactly what FILE holds."""
    if len(argv) != 2 or argv[0] not in ("snapshot", "compare"):
        sys.exit("usage: python -m tests.functional.aio snapshot|compare FILE")
    if argv[0] == "snapshot":
        with open(argv[1], "w") as f:
            json.dump(resources(), f)
        return
    with open(argv[1]) as f:
        before = json.load(f)
    os.environ.pop("KVM_PERF_AIO_SHARED", None)
    left = settled_leaks(before)
    if left:
        sys.exit("the functional tests left the cloud changed: %s"
                 % json.dumps(left, indent=1))
    print("the cloud holds what it held before the functional tests")


if __name__ == "__main__":
    main(sys.argv[1:])
