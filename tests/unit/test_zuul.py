"""The Zuul job cannot run here (no DevStack): check its structure."""

import os

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))


def load(*parts):
    with open(os.path.join(ROOT, *parts)) as f:
        return yaml.safe_load(f)


def test_job_definition():
    entries = load(".zuul.yaml")
    [job] = [e["job"] for e in entries if "job" in e]
    [project] = [e["project"] for e in entries if "project" in e]
    assert job["name"] == "rally-kvm-perf-smoke"
    assert job["parent"] == "devstack"
    assert "rally-kvm-perf-smoke" in project["check"]["jobs"]
    for key in ("run", "post-run"):
        assert os.path.exists(os.path.join(ROOT, job[key])), job[key]
    nova = job["vars"]["devstack_local_conf"]["post-config"]["$NOVA_CONF"]
    assert nova["compute"]["cpu_dedicated_set"]   # pinned flavors can boot


def test_playbooks_run_the_smoke_task_and_keep_the_reports():
    run = load("playbooks", "rally-kvm-perf-smoke", "run.yaml")
    [play] = run
    def text(task):
        shell = task.get("shell", "")
        return (shell["cmd"] if isinstance(shell, dict) else shell) + \
            task.get("command", "")
    commands = " ".join(text(t) for t in play["tasks"])
    assert "samples/tasks/kvm-perf-smoke.yaml" in commands
    assert "rally-kvm-perf baseline" in commands
    # the gate builds (and verifies) the guest image and uploads it: a
    # DevStack node has no image with bonnie++ and netperf
    assert "tools/aio/build-guest-image.sh" in commands
    assert "openstack image create" in commands or \
        "os image create" in commands
    assert '"image": kvm_perf_image' in commands
    assert os.path.exists(os.path.join(ROOT, "samples", "tasks",
                                       "kvm-perf-smoke.yaml"))
    post = " ".join(text(t) for t in
                    load("playbooks", "rally-kvm-perf-smoke", "post.yaml")[0][
                        "tasks"])
    assert "--type kvm-perf" in post and "--html-static" in post
