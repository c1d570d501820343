"""Cinder volumes on the local cloud (tools/aio: the NFS driver on a
directory of the compute host, see lib.sh): Rally's own
VMTasks.boot_runcommand_delete (which requires Cinder) with an extra volume
it writes to, and a volume-backed fio sweep whose host baseline runs in the
directory that holds the volumes. Each task leaves no volume, server or
anything else behind (aio.task)."""

import json
import os
import time

import pytest

from tests.functional import aio

VOLUME_DIR = os.path.join(aio.STATE, "volumes")   # lib.sh: AIO_VOLUME_DIR
VOLUME_TYPE = "nfs"                              # lib.sh: AIO_VOLUME_TYPE

# the guest writes a pattern through the volume's block device and reads it
# back past its page cache: the volume is really attached and writable
SCRIPT = """set -e
dev=/dev/vdb    # vda is the root disk, the config drive is a CD-ROM
test -b $dev
echo "device $dev sectors $(cat /sys/block/vdb/size)"
head -c 1048576 /dev/urandom > /tmp/pattern
sudo dd if=/tmp/pattern of=$dev bs=1M count=1 oflag=direct status=none
sudo dd if=$dev of=/tmp/back bs=1M count=1 iflag=direct status=none
cmp /tmp/pattern /tmp/back && echo "written and read back"
"""


@pytest.mark.periodic
@pytest.mark.long
def test_rallys_boot_runcommand_delete_runs_with_a_volume(rally, tmp_path):
    task = {"version": 2, "title": "VMTasks on the local cloud",
            "subtasks": [{"title": "VMTasks.boot_runcommand_delete",
                          "workloads": [{
                              "scenario": {"VMTasks.boot_runcommand_delete": {
                                  "flavor": {"name": "kvm-perf-vmtasks"},
                                  "image": {"name": aio.IMAGE_NAME},
                                  "username": "debian",
                                  "use_floating_ip": False,
                                  "volume_args": {"size": 1},
                                  "command": {"script_inline": SCRIPT,
                                              "interpreter": "/bin/sh"}}},
                              "runner": {"constant": {"times": 1,
                                                      "concurrency": 1}},
                              "contexts": {"flavors": [{
                                  "name": "kvm-perf-vmtasks", "vcpus": 1,
                                  "ram": 512, "disk": 3}]},
                              "sla": {"failure_rate": {"max": 0}}}]}]}
    path = tmp_path / "vmtasks.json"
    path.write_text(json.dumps(task))
    t0 = time.monotonic()
    report, _uuid = aio.task(rally, tmp_path, {}, sample=str(path))
    print("\nVMTasks.boot_runcommand_delete with a 1 GB volume: %.0f s"
          % (time.monotonic() - t0))
    wl = aio.workloads(report)["VMTasks.boot_runcommand_delete"]
    assert not wl["data"][0]["error"], wl["data"][0]["error"]
    actions = {a["name"] for a in wl["data"][0]["atomic_actions"]}
    assert "cinder_v3.create_volume" in actions, actions
    out = "\n".join(aio.table(wl, "Script Output"))
    # 1 GB = 2,097,152 sectors of 512 bytes
    assert "sectors 2097152" in out, out
    assert "written and read back" in out, out


@pytest.mark.early
def test_volume_backed_fio_sweep_with_its_baseline_on_the_volumes_disk(
        rally, tmp_path):
    out = tmp_path / "fio-volume.json"
    t0 = time.monotonic()
    report, _uuid = aio.task(rally, tmp_path, dict(
        aio.SMALL_FIO_ARGS, boot_from_volume={"size": 3, "type": VOLUME_TYPE},
        host_directory=VOLUME_DIR, output_file=str(out)), sample=aio.FIO)
    print("\nvolume-backed fio task (1 instance, 2 repetitions): %.0f s"
          % (time.monotonic() - t0))
    wl = aio.workloads(report)["KVMPerf.fio"]
    assert not wl["data"][0]["error"], wl["data"][0]["error"]
    actions = {a["name"] for a in wl["data"][0]["atomic_actions"]}
    # the sweep waited for cinder to drop the volume it booted from
    assert "kvm_perf.wait_volumes_deleted" in actions, actions
    doc = json.load(open(out))
    assert doc["status"] == "complete" and len(doc["runs"]) == 2
    assert doc["parameters"]["boot_from_volume"] == {
        "size": 3, "type": VOLUME_TYPE}
    rows = {r["metric"]: r for r in doc["record"]["levels"]
            if r["benchmark"] == "fio"}
    for metric in ("randread_iops", "seqwrite_bw_kBps"):
        row = rows[metric]
        assert row["n"] == 2, row
        assert row["host_mean"] and row["host_mean"] > 0, row
        assert row["vm_host_ratio"] and row["vm_host_ratio"] > 0, row
    # the compute host's baseline ran where the volumes live
    baselines = list((rally.home / ".rally" / "kvm_perf" / "baselines")
                     .glob("*.json"))
    dirs = [(json.load(open(p))["parameters"].get("fio") or {})
            .get("directory") for p in baselines]
    assert VOLUME_DIR in dirs, dirs
