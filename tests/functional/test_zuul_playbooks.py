"""The Zuul job's playbooks, run for real with ansible-playbook against this
machine, the local cloud standing in for DevStack (its credentials file has
DevStack's shape: OS_* exports). Everything the job does runs: the Debian
packages, the virtualenv with the plugin, the guest image build (verified)
and its upload, the host baseline, the smoke sweep through Rally, and the
reports into zuul-output. Only DevStack's own install is not exercised.
"""

import csv
import hashlib
import json
import os
import shutil
import subprocess
import time

import pytest
import yaml

from tests.functional.test_local_cloud import NS
from tests.functional.test_local_cloud import STATE
from tests.functional.test_local_cloud import _resources
from tests.functional.test_local_cloud import cloud  # noqa: F401 (fixture)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
PLAYBOOKS = os.path.join(ROOT, "playbooks", "rally-kvm-perf-smoke")
CACHE = os.environ.get("KVM_PERF_CACHE", "/var/cache/rally-kvm-perf")


def _job_vars():
    entries = yaml.safe_load(open(os.path.join(ROOT, ".zuul.yaml")))
    return [e["job"] for e in entries if "job" in e][0]["vars"]


def test_gate_playbooks_build_upload_measure_and_report(cloud,  # noqa: F811
                                                        tmp_path):
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
                                   repetitions=2, scenarios=["bonnie"]),
        "kvm_perf_openrc": os.path.join(STATE, "etc", "openrc"),
        "kvm_perf_openrc_args": "",
        "kvm_perf_bonnie_dir": "/var/lib/nova/instances",
        "kvm_perf_exec": "ip netns exec %s" % NS,
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
               ANSIBLE_HOST_KEY_CHECKING="False")
    before = _resources()
    t0 = time.monotonic()
    for book in ("run.yaml", "post.yaml"):
        proc = subprocess.run(
            ["ansible-playbook", "-i", str(tmp_path / "inventory"),
             "-e", "@%s" % (tmp_path / "vars.json"),
             os.path.join(PLAYBOOKS, book)],
            capture_output=True, text=True, env=env, timeout=3600)
        assert proc.returncode == 0, (book, proc.stdout[-6000:],
                                      proc.stderr[-3000:])
        assert "failed=0" in proc.stdout
    print("\ngate playbooks against the local cloud: %.0f s"
          % (time.monotonic() - t0))
    assert _resources() == before   # the task cleaned up after itself
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
    image = subprocess.run(
        ["bash", os.path.join(ROOT, "tools", "aio", "build-guest-image.sh"),
         CACHE], capture_output=True, text=True, check=True,
        timeout=600).stdout.split()[-1]
    digest = hashlib.sha256(open(image, "rb").read()).hexdigest()
    props = subprocess.run(
        ["bash", os.path.join(ROOT, "tools", "aio", "cloud.sh"), "exec",
         "openstack", "image", "show", job["kvm_perf_image"], "-f", "value",
         "-c", "properties"], capture_output=True, text=True, check=True)
    assert digest in props.stdout, props.stdout
