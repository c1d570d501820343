"""The baseline command, run for real: real bonnie++, real netperf/netserver
on loopback, tiny sizes. Each test takes a few seconds."""

import json
import os
import socket
import stat
import subprocess
import sys

import pytest

TINY = ["--bonnie-size", "64", "--bonnie-ram", "32", "--bonnie-files", "0",
        "--duration", "1"]


def run_cli(*args, env=None):
    return subprocess.run(
        [sys.executable, "-m", "rally_kvm_perf.cmd.main", "baseline", *args],
        capture_output=True, text=True, timeout=600, env=env)


def port_is_closed(port):
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


@pytest.fixture
def workdir(tmp_path):
    d = tmp_path / "bonnie"
    d.mkdir()
    return tmp_path


def test_baseline_for_real(workdir):
    out = workdir / "baseline.json"
    proc = run_cli("--runs", "2", "--bonnie-dir", str(workdir / "bonnie"),
                   "--tests", "TCP_STREAM,UDP_STREAM,TCP_RR",
                   "--message-size", "1472", "-o", str(out), *TINY)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == str(out)
    # progress is visible: benchmark, repetition i of N, elapsed
    assert "bonnie++ run 2/2 started (elapsed" in proc.stderr
    assert "netperf:TCP_RR run 1/2 done" in proc.stderr

    doc = json.loads(out.read_text())
    assert doc["schema"] == "rally-kvm-perf/baseline/1"
    assert doc["status"] == "complete" and doc["errors"] == []
    assert doc["tools"] == {"bonnie++": "2.00a", "netperf": "2.7.0",
                            "fio": "3.33"}
    assert doc["parameters"]["fio"] is None     # fio only with --fio
    assert doc["facts"]["ram_mb"] > 0 and "ept" in doc["facts"]
    assert doc["parameters"]["runs"] == 2
    assert doc["parameters"]["bonnie"]["size_mb"] == 64
    assert "-s 64 -r 32 -n 0" in doc["parameters"]["bonnie"]["command"]
    assert set(doc["benchmarks"]) == {"bonnie++", "netperf:TCP_STREAM",
                                      "netperf:UDP_STREAM", "netperf:TCP_RR"}
    for bench in doc["benchmarks"].values():
        assert [s["run"] for s in bench["samples"]] == [1, 2]
        for sample in bench["samples"]:
            assert sample["exit_code"] == 0 and sample["stdout"]
    bon = doc["benchmarks"]["bonnie++"]
    assert bon["samples"][0]["caches_dropped"] in (True, False)
    assert bon["statistics"]["char_write_kBps"]["n"] == 2
    assert bon["statistics"]["char_write_kBps"]["mean"] > 0
    tcp = doc["benchmarks"]["netperf:TCP_STREAM"]["statistics"]
    assert tcp["throughput_mbps"]["n"] == 2 and tcp["throughput_mbps"]["mean"] > 0
    assert tcp["throughput_mbps"]["ci_low"] <= tcp["throughput_mbps"]["mean"]
    udp = doc["benchmarks"]["netperf:UDP_STREAM"]
    assert "-m 1472" in udp["command"]
    assert udp["statistics"]["throughput_mbps"]["mean"] > 0
    rr = doc["benchmarks"]["netperf:TCP_RR"]["statistics"]
    assert rr["latency_p99_us"]["mean"] > 0 and rr["transactions_per_s"]["n"] == 2
    # the private netserver is gone
    assert port_is_closed(doc["parameters"]["netperf"]["port"])
    assert doc["parameters"]["netperf"]["host"] == "127.0.0.1"
    # bonnie++ cleaned up its files
    assert os.listdir(workdir / "bonnie") == []


def test_extra_bonnie_argument_is_run_and_recorded(workdir):
    """--bonnie-arg=-D: O_DIRECT, the disk instead of the page cache; the
    baseline records it so that only instances running -D compare."""
    out = workdir / "direct.json"
    proc = run_cli("--runs", "1", "--no-netperf", "--bonnie-dir",
                   str(workdir / "bonnie"), "--bonnie-size", "64",
                   "--bonnie-ram", "32", "--bonnie-files", "0", "--bonnie-fast",
                   "--bonnie-arg=-D", "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(out.read_text())
    bonnie = doc["parameters"]["bonnie"]
    assert bonnie["extra_args"] == ["-D"]
    assert bonnie["command"].endswith(" -D")
    assert doc["benchmarks"]["bonnie++"]["samples"][0]["exit_code"] == 0


def test_fio_baseline_for_real(workdir):
    """--fio: real fio, its jobs one after the other, every metric with its
    statistics, the parameters a sweep is compared against; its test file
    is removed afterwards."""
    out = workdir / "fio.json"
    fio_dir = workdir / "fio"
    fio_dir.mkdir()
    proc = run_cli("--runs", "2", "--no-netperf", "--no-bonnie", "--fio",
                   "--fio-dir", str(fio_dir), "--fio-job", "randread",
                   "--fio-job", "seqwrite", "--fio-size", "16",
                   "--fio-runtime", "1", "--fio-ramp", "0", "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "fio run 2/2 done" in proc.stderr and "randread_iops=" in \
        proc.stderr
    doc = json.loads(out.read_text())
    assert doc["status"] == "complete" and doc["tools"]["fio"] == "3.33"
    p = doc["parameters"]["fio"]
    assert p["jobs"] == ["randread", "seqwrite"] and p["size_mb"] == 16
    assert p["runtime"] == 1 and p["ramp_time"] == 0
    assert "--name=randread --rw=randread --bs=4k" in p["command"]
    bench = doc["benchmarks"]["fio"]
    assert [s["run"] for s in bench["samples"]] == [1, 2]
    assert all(s["caches_dropped"] in (True, False) for s in bench["samples"])
    st = bench["statistics"]
    assert st["randread_iops"]["n"] == 2 and st["randread_iops"]["mean"] > 0
    assert st["seqwrite_bw_kBps"]["mean"] > 0
    assert st["seqwrite_lat_p99_us"]["mean"] > 0
    assert "seqread_iops" not in st                 # not asked for
    assert os.listdir(fio_dir) == []                # --unlink=1


@pytest.mark.parametrize("args, message", [
    (["--fio", "--fio-dir", "/nonexistent/dir"],
     "fio directory /nonexistent/dir does not exist"),
    (["--fio", "--fio-iodepth", "0"], "fio iodepth must be"),
    (["--bonnie-dir", "/nonexistent/dir"], "/nonexistent/dir does not exist"),
    (["--bonnie-size", "64", "--bonnie-ram", "64"], "below twice the RAM"),
    (["--netserver", "127.0.0.1:1"], "netserver 127.0.0.1:1 is not reachable"),
    (["--runs", "0"], "runs must be"),
    (["--tests", "TCP_CRR"], "tests must be"),
])
def test_bad_input_gives_one_line_error(workdir, args, message):
    base = ["--bonnie-dir", str(workdir / "bonnie"), "--bonnie-size", "64",
            "--bonnie-ram", "32", "--duration", "1", "-o",
            str(workdir / "b.json")]
    proc = run_cli(*(base + args))
    assert proc.returncode != 0
    error_lines = [ln for ln in proc.stderr.splitlines()
                   if "error" in ln.lower()]
    assert len(error_lines) == 1, proc.stderr
    assert message in error_lines[0]
    assert "Traceback" not in proc.stderr


def test_failure_midway_keeps_what_was_measured(workdir):
    """bonnie++ fails on its 2nd run: run 1's results are still written."""
    bindir = workdir / "bin"
    bindir.mkdir()
    real = subprocess.run(["sh", "-c", "command -v bonnie++"],
                          capture_output=True, text=True).stdout.strip()
    counter = workdir / "count"
    wrapper = bindir / "bonnie++"
    # passes -h (version probe) through; the 2nd measurement fails like a
    # full disk would
    wrapper.write_text(
        "#!/bin/sh\n"
        'case "$1" in -h) exec %s "$@";; esac\n'
        'n=$(cat %s 2>/dev/null || echo 0); n=$((n+1)); echo $n > %s\n'
        'if [ "$n" -ge 2 ]; then echo "Can\'t write block.: No space left '
        'on device" >&2; exit 1; fi\n'
        'exec %s "$@"\n' % (real, counter, counter, real))
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IEXEC)
    env = dict(os.environ, PATH="%s:%s" % (bindir, os.environ["PATH"]))
    out = workdir / "partial.json"
    proc = run_cli("--runs", "3", "--bonnie-dir", str(workdir / "bonnie"),
                   "--tests", "TCP_STREAM", "-o", str(out), *TINY, env=env)
    assert proc.returncode == 1
    assert "No space left on device" in proc.stderr
    assert "bonnie++" in proc.stderr
    doc = json.loads(out.read_text())
    assert doc["status"] == "failed"
    assert "No space left on device" in doc["errors"][0]["message"]
    bon = doc["benchmarks"]["bonnie++"]
    assert [s["exit_code"] for s in bon["samples"]] == [0, 1]
    assert bon["statistics"]["char_write_kBps"]["n"] == 1
    tcp = doc["benchmarks"]["netperf:TCP_STREAM"]
    assert len(tcp["samples"]) == 1
    assert tcp["statistics"]["throughput_mbps"]["n"] == 1
    assert port_is_closed(doc["parameters"]["netperf"]["port"])


def test_sigterm_stops_cleanly_and_keeps_results(workdir):
    out = workdir / "terminated.json"
    proc = subprocess.Popen(
        [sys.executable, "-m", "rally_kvm_perf.cmd.main", "baseline",
         "--runs", "20", "--bonnie-dir", str(workdir / "bonnie"),
         "--no-bonnie", "--tests", "TCP_STREAM", "--duration", "1",
         "-o", str(out)],
        stderr=subprocess.PIPE, text=True)
    seen = []
    for line in proc.stderr:
        seen.append(line)
        if "TCP_STREAM run 2/20 done" in line:
            proc.terminate()
            break
    rest = proc.communicate(timeout=60)[1]
    assert proc.returncode == 130, "".join(seen) + rest
    assert "interrupted; results so far are written" in rest
    doc = json.loads(out.read_text())
    assert doc["status"] == "failed"
    assert "terminated by signal 15" in doc["errors"][0]["message"]
    samples = doc["benchmarks"]["netperf:TCP_STREAM"]["samples"]
    assert len(samples) >= 2 and samples[0]["exit_code"] == 0
    assert port_is_closed(doc["parameters"]["netperf"]["port"])
