"""The Zuul job's playbooks, run for real with ansible-playbook against this
machine, the local cloud standing in for DevStack (its credentials file has
DevStack's shape: OS_* exports). Everything the job does runs: the Debian
packages, the virtualenv with the plugin, the guest image build (verified)
and its upload, the host baseline, the smoke sweep through Rally, and the
reports into zuul-output. Only DevStack's own install is not exercised.
"""

import csv
import glob
import hashlib
import json
import os
import shutil
import subprocess
import time
import xml.etree.ElementTree as ET

import pytest
import yaml

from tests.functional import aio

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
PLAYBOOKS = os.path.join(ROOT, "playbooks", "rally-kvm-perf-smoke")
CACHE = os.environ.get("KVM_PERF_CACHE", "/var/cache/rally-kvm-perf")


def _failure(stdout):
    """What a failed task said: ansible prints its result as one JSON line
    whose stdout (Rally's whole log) hides the cause at its tail; show the
    task's command, the end of its stderr and Rally's summary lines."""
    parts = []
    for line in stdout.splitlines():
        if not line.startswith("fatal:") or "=>" not in line:
            continue
        try:
            result = json.loads(line.split("=>", 1)[1])
        except ValueError:
            parts.append(line[-3000:])
            continue
        out = result.get("stdout", "")
        keep = [s for s in out.splitlines()
                if "kvm-perf:" in s or "SLA" in s or "rror" in s
                or "FAIL" in s or "Traceback" in s]
        parts.append("rc=%s cmd=%s\nstderr: %s\nsummary:\n%s\ntail:\n%s" % (
            result.get("rc"), str(result.get("cmd"))[-400:],
            result.get("stderr", "")[-3000:], "\n".join(keep)[-6000:],
            out[-3000:]))
    return "\n".join(parts) or stdout[-6000:]


def _task_times(junit_dir):
    """'task name: N s, ...' from ansible's junit callback."""
    times = []
    for path in sorted(junit_dir.glob("*.xml")):
        for case in ET.parse(path).iter("testcase"):
            name = case.get("name", "").split(":", 1)[-1].strip()
            times.append("%s: %.0f s" % (name[:40], float(case.get("time",
                                                                    0))))
    return "; ".join(times)


def _job_vars():
    entries = yaml.safe_load(open(os.path.join(ROOT, ".zuul.yaml")))
    return [e["job"] for e in entries if "job" in e][0]["vars"]


@pytest.mark.periodic
@pytest.mark.long
def test_gate_playbooks_build_upload_measure_and_report(cloud, tmp_path):
    if not shutil.which("ansible-playbook"):
        pytest.fail("ansible-playbook is missing: tools/install.sh installs "
                    "ansible-core")
    job = _job_vars()
    home = tmp_path / "home"
    home.mkdir()
    # the job's own variables, the smoke task made short (one instance,
    # bonnie++ only), and the paths that point at the local cloud
    extra = {
        "zuul": {"project": {"src_dir": ROOT}},
        "venv": str(tmp_path / "venv"),
        "results": str(tmp_path / "results"),
        "artifacts": str(tmp_path / "zuul-output" / "logs" / "kvm-perf"),
        "image_cache": CACHE,
        "kvm_perf_image": job["kvm_perf_image"],
        "kvm_perf_task_args": dict(job["kvm_perf_task_args"], instances=1,
                                   repetitions=1, scenarios=["bonnie"]),
        "kvm_perf_openrc": os.path.join(aio.STATE, "etc", "openrc"),
        "kvm_perf_openrc_args": "",
        "kvm_perf_bonnie_dir": "/var/lib/nova/instances",
        "kvm_perf_exec": "ip netns exec %s" % aio.NS,
    }
    (tmp_path / "vars.json").write_text(json.dumps(extra))
    (tmp_path / "inventory").write_text(
        "controller ansible_connection=local "
        "ansible_python_interpreter=/usr/bin/python3\n")
    # a private HOME (Rally's database), pip's cache shared with the install
    env = dict(os.environ, HOME=str(home), ANSIBLE_NOCOLOR="1",
               PIP_CACHE_DIR=os.path.join(os.path.expanduser("~"), ".cache",
                                          "pip"),
               ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible-tmp"),
               ANSIBLE_HOST_KEY_CHECKING="False",
               # per-task times, printed below (where the minutes go)
               ANSIBLE_CALLBACKS_ENABLED="ansible.builtin.junit",
               JUNIT_OUTPUT_DIR=str(tmp_path / "junit"))
    before = aio.resources()
    t0 = time.monotonic()
    for book in ("run.yaml", "post.yaml"):
        proc = subprocess.run(
            ["ansible-playbook", "-i", str(tmp_path / "inventory"),
             "-e", "@%s" % (tmp_path / "vars.json"),
             os.path.join(PLAYBOOKS, book)],
            capture_output=True, text=True, env=env, timeout=3600)
        assert proc.returncode == 0, (book, _failure(proc.stdout),
                                      proc.stderr[-3000:])
        assert "failed=0" in proc.stdout
    print("\ngate playbooks against the local cloud: %.0f s (%s)"
          % (time.monotonic() - t0, _task_times(tmp_path / "junit")))
    left = aio.settled_leaks(before)
    assert not left, left     # the task cleaned up after itself
    out = tmp_path / "zuul-output" / "logs" / "kvm-perf"
    assert "VM/host ratio vs active instances" in (
        out / "rally.html").read_text()
    assert (out / "kvm-perf" / "index.html").read_text().count("<svg") >= 1
    assert (out / "host-bonnie.json").exists()
    rows = list(csv.DictReader(open(out / "kvm-perf" / "ratios.csv")))
    writes = [r for r in rows if r["benchmark"] == "bonnie++"
              and r["metric"] == "block_write_kBps"]
    assert writes and all(float(r["ratio"]) > 0 for r in writes), writes
    # glance holds the very image the job built and verified
    # (the build step verified it; the cache holds that one image)
    [image] = glob.glob(os.path.join(CACHE, "*.qcow2"))
    digest = hashlib.sha256(open(image, "rb").read()).hexdigest()
    props = subprocess.run(
        ["bash", os.path.join(ROOT, "tools", "aio", "cloud.sh"), "exec",
         "openstack", "image", "show", job["kvm_perf_image"], "-f", "value",
         "-c", "properties"], capture_output=True, text=True, check=True)
    assert digest in props.stdout, props.stdout
