"""rally-kvm-perf through a real Rally: its CLI, a real sqlite database, an
empty environment (the host baseline needs no cloud), real benchmarks."""

import csv
import json
import os
import re
import shutil
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
SAMPLE = os.path.join(ROOT, "samples", "tasks", "kvm-perf-host-baseline.yaml")
RALLY = os.path.join(os.path.dirname(sys.executable), "rally")
REPLAY = os.path.join(ROOT, "tests", "rally_plugins", "replay.py")
RECORDED = os.path.join(ROOT, "tests", "fixtures", "iterations",
                        "netperf-sweep-with-baseline.json")


@pytest.fixture(scope="module")
def rally(tmp_path_factory):
    home = tmp_path_factory.mktemp("rally-home")
    conf = home / "rally.conf"
    conf.write_text("[database]\nconnection = sqlite:///%s\n"
                    % (home / "rally.sqlite"))
    env = dict(os.environ, HOME=str(home))

    def run(*args, check=True):
        proc = subprocess.run([RALLY, "--config-file", str(conf),
                               "--plugin-paths", REPLAY, *args],
                              capture_output=True, text=True, env=env,
                              timeout=600, cwd=str(home))
        if check:
            assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
        return proc

    run("db", "create")
    spec = home / "empty.json"
    spec.write_text("{}")
    run("env", "create", "--name", "local", "--spec", str(spec))
    run.home = home
    return run


def test_version_lists_the_plugin_package(rally):
    out = rally("--version")
    text = out.stdout + out.stderr
    assert "rally-kvm-perf" in text


def test_plugin_list_and_show(rally):
    listing = rally("plugin", "list", "--plugin-base", "Scenario").stdout
    for name in ("KVMPerf.host_baseline", "KVMPerf.bonnie", "KVMPerf.netperf"):
        assert name in listing
    show = rally("plugin", "show", "KVMPerf.host_baseline").stdout
    assert "denominator of every VM/host ratio" in show
    for param in ("repetitions", "bonnie_directory", "netserver", "tests"):
        assert param in show
    show = rally("plugin", "show", "KVMPerf.bonnie").stdout
    assert "bonnie++ in 1, 2, ... N instances at the same time" in show
    for param in ("active_counts", "between_repetitions", "availability_zone",
                  "host_baseline", "install_command", "bonnie_size_mb"):
        assert param in show
    show = rally("plugin", "show", "KVMPerf.netperf").stdout
    assert "peer" in show and "TCP_RR" in show
    listing = rally("plugin", "list", "--plugin-base", "Context").stdout
    for name in ("kvm_perf_flavor", "kvm_perf_hypervisors",
                 "kvm_perf_baseline"):
        assert name in listing
    show = rally("plugin", "show", "kvm_perf_hypervisors").stdout
    assert "runtime_pinning" in show and "EPT" in show


def test_sample_task_validates(rally):
    rally("task", "validate", SAMPLE)


@pytest.mark.parametrize("args, message", [
    ({"repetitions": 0}, "repetitions is 0 which is less than the minimum"),
    ({"tests": ["TCP_CRR"]}, "'TCP_CRR' is not one of"),
    ({"bonnie_size_mb": "big"}, "'big' is not of type"),
    ({"host": "root@compute-1"}, "'netserver' is required with 'host'"),
    ({"no_such_argument": 1}, "Unexpected argument(s) found"),
])
def test_bad_arguments_fail_validation(rally, tmp_path, args, message):
    task = {"version": 2, "title": "bad", "subtasks": [{
        "title": "bad", "workloads": [{
            "scenario": {"KVMPerf.host_baseline": args},
            "runner": {"constant": {"times": 1, "concurrency": 1}}}]}]}
    path = tmp_path / "task.json"
    path.write_text(json.dumps(task))
    proc = rally("task", "validate", str(path), check=False)
    assert proc.returncode != 0
    assert message in proc.stdout + proc.stderr


def _report(rally, tmp_path):
    out = tmp_path / "report.json"
    rally("task", "report", "--json", "--out", str(out))
    return json.loads(out.read_text())["tasks"][0]["subtasks"][0][
        "workloads"][0]


def test_task_start_for_real(rally, tmp_path):
    baseline_file = tmp_path / "baseline.json"
    proc = rally("task", "start", SAMPLE, "--task-args", json.dumps({
        "repetitions": 2, "bonnie_size_mb": 64, "bonnie_files": 0,
        "duration": 1, "bonnie_directory": str(tmp_path),
        "output_file": str(baseline_file)}))
    assert "KVMPerf.host_baseline" in proc.stdout
    rally("task", "sla-check")
    workload = _report(rally, tmp_path)
    assert workload["pass_sla"] is True
    [iteration] = workload["data"]
    assert iteration["error"] == []
    atomics = [a["name"] for a in iteration["atomic_actions"]]
    assert atomics.count("bonnie++") == 2
    assert atomics.count("netperf:TCP_RR") == 2
    complete = {c["title"]: c for c in iteration["output"]["complete"]}
    table = complete["Host baseline statistics"]["data"]
    metrics = {(row[0], row[1]): row for row in table["rows"]}
    assert metrics[("netperf:TCP_STREAM", "throughput_mbps")][4] == 2  # n
    assert metrics[("netperf:TCP_STREAM", "throughput_mbps")][5] > 0
    assert metrics[("bonnie++", "char_write_kBps")][4] == 2
    runs = complete["netperf TCP_RR latency per run"]["data"]
    assert {name for name, _ in runs} >= {"latency_p99_us", "latency_mean_us"}
    assert [x for x, _ in dict(runs)["latency_p99_us"]] == [1, 2]
    facts = complete["Host facts and tools"]["data"]
    assert any(line.startswith("EPT/NPT: ") for line in facts)
    assert "tools: bonnie++ 2.00a, fio 3.33, netperf 2.7.0" in facts
    [additive] = iteration["output"]["additive"]
    # a line per metric over the iterations: Rally heads a StatsTable's
    # columns "(sec)" whatever they hold
    assert additive["chart_plugin"] == "Lines"
    assert any("throughput_mbps" in row[0] for row in additive["data"])
    doc = json.loads(baseline_file.read_text())
    assert doc["status"] == "complete"
    assert len(doc["benchmarks"]["bonnie++"]["samples"]) == 2

    html = tmp_path / "report.html"
    rally("task", "report", "--html-static", "--out", str(html))
    page = html.read_text()
    assert "Host baseline statistics" in page
    assert "KVMPerf.host_baseline" in page


def test_failed_baseline_is_reported_with_its_cause(rally, tmp_path):
    proc = rally("task", "start", SAMPLE, "--task-args", json.dumps({
        "repetitions": 1, "duration": 1,
        "bonnie_directory": "/nonexistent/kvm-perf"}), check=False)
    assert proc.returncode == 2  # the failure_rate SLA failed
    workload = _report(rally, tmp_path)
    [iteration] = workload["data"]
    assert iteration["error"][0] == "InvalidArgument"
    assert "/nonexistent/kvm-perf does not exist" in iteration["error"][1]
    # what was learned before the failure is still in the report
    [facts] = [c for c in iteration["output"]["complete"]
               if c["title"] == "Host facts and tools"]
    assert any("does not exist" in line for line in facts["data"])


def _replay_task(tmp_path, slas):
    task = {"version": 2, "title": "replayed sweep", "subtasks": [{
        "title": "recorded netperf sweep", "workloads": [{
            "scenario": {"KVMPerfTest.replay": {"path": RECORDED}},
            "runner": {"constant": {"times": 2, "concurrency": 1}},
            "sla": slas}]}]}
    path = tmp_path / "task.json"
    path.write_text(json.dumps(task))
    return str(path)


def test_slas_pass_in_a_real_rally_task(rally, tmp_path):
    task = _replay_task(tmp_path, {
        # both levels' intervals lie above 0.4 (level 2's: 0.4776 to 0.9506)
        "kvm_perf_ratio": {"throughput_mbps": 0.4},
        # two levels recorded: no interval, "cannot tell" passes only so
        "kvm_perf_scaling": {"throughput_mbps": {"max_loss_per_instance": 0.3,
                                                 "on_inconclusive": "pass"}},
        "kvm_perf_overlap": {"min_overlap": 0.8, "max_start_skew_s": 1},
        # two levels: whether TCP_STREAM's fall is linear cannot be told
        "kvm_perf_paper": {"findings": [3], "on_inconclusive": "pass"},
        "kvm_perf_confidence": {"throughput_mbps": 0.5}})
    assert rally("task", "start", task).returncode == 0
    out = rally("task", "sla-check").stdout
    for name in ("kvm_perf_ratio", "kvm_perf_scaling", "kvm_perf_overlap",
                 "kvm_perf_paper", "kvm_perf_confidence"):
        assert name in out
    assert "FAIL" not in out


def test_a_failing_sla_makes_rally_exit_2(rally, tmp_path):
    task = _replay_task(tmp_path, {
        "kvm_perf_ratio": {"throughput_mbps": 0.8, "at_instances": 2}})
    proc = rally("task", "start", task, check=False)
    assert proc.returncode == 2
    check = rally("task", "sla-check", check=False)
    assert check.returncode != 0
    assert ("netperf:TCP_STREAM throughput_mbps at 2 instance(s): cannot "
            "tell whether the ratio 0.7141 is at least 0.8") in check.stdout


def _start(rally, tmp_path, title, recorded, name):
    task = {"version": 2, "title": title, "subtasks": [{
        "title": title, "workloads": [{
            "scenario": {"KVMPerfTest.replay": {"path": recorded}},
            "runner": {"constant": {"times": 1, "concurrency": 1}},
            "sla": {"kvm_perf_overlap": {"min_overlap": 0.5}}}]}]}
    path = tmp_path / name
    path.write_text(json.dumps(task))
    out = rally("task", "start", str(path)).stdout
    return re.search(r"Task .*?([0-9a-f-]{36}): started", out).group(1)


def test_rallys_own_html_report_shows_the_sweep_charts(rally, tmp_path):
    run_id = _start(rally, tmp_path, "sweep", RECORDED, "h.json")
    html = tmp_path / "rally.html"
    rally("task", "report", run_id, "--html-static", "--out", str(html))
    page = html.read_text()
    for title in ("netperf:TCP_STREAM VM/host ratio vs active instances",
                  "Concurrency: how well the runs overlapped",
                  "netperf:TCP_STREAM per level: instances, host and ratio",
                  "Headline metrics per level"):
        assert title in page


def test_kvm_perf_exporter_writes_the_report(rally, tmp_path):
    second = os.path.join(ROOT, "tests", "fixtures", "iterations",
                          "netperf-sweep-second-run.json")
    before = _start(rally, tmp_path, "before: unpinned", RECORDED, "a.json")
    after = _start(rally, tmp_path, "after: pinned", second, "b.json")
    out = tmp_path / "report"
    rally("task", "export", before, after, "--type", "kvm-perf",
          "--to", str(out))
    page = (out / "index.html").read_text()
    for fig in ("fig2", "fig3", "fig4", "fig5", "fig7"):
        assert "id='%s'" % fig in page
    assert page.count("<svg") >= 5
    assert "Before / after" in page and "Welch" in page
    # self-contained: nothing is fetched from the network (the only URLs
    # left are SVG's XML namespace names, which are never fetched)
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert "<script" not in page and "<link" not in page
    assert set(re.findall(r"https?://[^\s'\"]+", page)) <= {
        "http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}
    rows = list(csv.DictReader((out / "ratios.csv").read_text()
                               .splitlines()))
    tcp = [r for r in rows if r["benchmark"] == "netperf:TCP_STREAM"
           and r["metric"] == "throughput_mbps"]
    assert [r["active_instances"] for r in tcp] == ["1", "2", "1", "2"]
    assert tcp[1]["ratio"] == "0.7141"
    doc = json.loads((out / "ratios.json").read_text())
    [comp] = doc["comparisons"]
    assert comp["before"].startswith("1. before: unpinned")
    verdicts = {r["verdict"] for r in comp["rows"]}
    assert verdicts <= {"improved", "worse", "no significant change",
                        "not enough data"} and verdicts


CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu",
                  "--disable-quic", "--no-first-run",
                  "--disable-background-networking",
                  "--disable-component-update", "--disable-sync",
                  "--enable-logging=stderr", "--v=0"]


def test_report_opens_offline_in_headless_chromium(rally, tmp_path):
    chromium = shutil.which("chromium")
    assert chromium, "chromium is missing: tools/install.sh installs it"
    run_id = _start(rally, tmp_path, "sweep", RECORDED, "c.json")
    out = tmp_path / "report"
    rally("task", "export", run_id, "--type", "kvm-perf", "--to", str(out))
    url = "file://%s" % (out / "index.html")
    base = [chromium] + CHROMIUM_FLAGS + [
        "--user-data-dir=%s" % (tmp_path / "profile")]
    dom = subprocess.run(base + ["--dump-dom", url], capture_output=True,
                         text=True, timeout=120)
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert dom.stdout.count("<svg") >= 4          # the figures were parsed
    assert "Fig. 4: netperf TCP_STREAM throughput" in dom.stdout
    console = [ln for ln in dom.stderr.splitlines() if "CONSOLE" in ln]
    assert console == []                          # no console messages
    shot = tmp_path / "report.png"
    proc = subprocess.run(base + ["--window-size=1280,2000",
                                  "--screenshot=%s" % shot, url],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and shot.stat().st_size > 20000


def _planted(tmp_path, factor):
    """The recorded sweep with every VM value and ratio of its per-level
    tables scaled by ``factor`` (the spread kept): a lowered ratio."""
    recorded = json.load(open(RECORDED))
    scaled = ("VM mean", "VM 95% low", "VM 95% high", "VM/host",
              "Ratio 95% low", "Ratio 95% high")
    for chart in recorded["output"]["complete"]:
        if not chart["title"].endswith("per level: instances, host and "
                                       "ratio"):
            continue
        cols = chart["data"]["cols"]
        for row in chart["data"]["rows"]:
            for i, col in enumerate(cols):
                if col in scaled and isinstance(row[i], (int, float)):
                    row[i] = row[i] * factor
    path = tmp_path / "planted.json"
    path.write_text(json.dumps(recorded))
    return str(path)


def test_trends_flag_a_planted_regression_and_render_offline(rally,
                                                             tmp_path):
    """Three ordinary runs of one sweep: no regression; two of them and a
    run whose ratios were lowered by 30 %: flagged, with the size of the
    drop. The trends page opens in headless Chromium without fetching
    anything, and the CLI gate exits 1 on the regression only."""
    runs = [_start(rally, tmp_path, "sweep", RECORDED, "r%d.json" % i)
            for i in range(3)]
    planted = _start(rally, tmp_path, "sweep", _planted(tmp_path, 0.7),
                     "p.json")
    calm, bad = tmp_path / "calm", tmp_path / "bad"
    rally("task", "export", *runs, "--type", "kvm-perf-trends", "--to",
          str(calm))
    rally("task", "export", runs[0], runs[1], planted, "--type",
          "kvm-perf-trends", "--to", str(bad))
    calm_doc = json.loads((calm / "trends.json").read_text())
    assert calm_doc["regressions"] == 0
    verdicts = {s["verdict"]["verdict"] for s in calm_doc["series"]}
    assert verdicts == {"no significant change", "not enough data"}, verdicts
    for s in calm_doc["series"]:
        # said why: a run without a ratio, or a metric without spread
        assert s["verdict"]["verdict"] != "not enough data" or \
            s["verdict"]["why"], s
    doc = json.loads((bad / "trends.json").read_text())
    flagged = [s for s in doc["series"]
               if s["verdict"]["verdict"] == "regression"]
    assert flagged, [s["verdict"] for s in doc["series"]]
    for s in flagged:
        assert abs(s["verdict"]["relative_change"] + 0.3) < 1e-9, s
    assert ("netperf:TCP_STREAM", "throughput_mbps", 1) in {
        (s["benchmark"], s["metric"], s["active_instances"])
        for s in flagged}
    page = (bad / "trends.html").read_text()
    assert "Regression" in page and "-30.0%" in page
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert "<script" not in page and "<link" not in page
    # offline in a real browser: parsed, drawn, nothing logged
    chromium = shutil.which("chromium")
    assert chromium, "chromium is missing: tools/install.sh installs it"
    dom = subprocess.run(
        [chromium] + CHROMIUM_FLAGS + [
            "--user-data-dir=%s" % (tmp_path / "profile"), "--dump-dom",
            "file://%s" % (bad / "trends.html")],
        capture_output=True, text=True, timeout=120)
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert dom.stdout.count("<svg") == len({
        (s["scenario"], s["optimised"], s["benchmark"], s["metric"])
        for s in doc["series"]})
    assert [ln for ln in dom.stderr.splitlines() if "CONSOLE" in ln] == []
    # the CI gate over 'rally task report --json' files
    reports = []
    for uuid in (runs[0], runs[1], planted, runs[2]):
        path = tmp_path / ("%s.json" % uuid)
        rally("task", "report", uuid, "--json", "--out", str(path))
        reports.append(str(path))
    gate = [os.path.join(os.path.dirname(sys.executable), "rally-kvm-perf"),
            "trends"]
    ok = subprocess.run(gate + [reports[0], reports[1], reports[3]],
                        capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    regressed = subprocess.run(gate + reports[:3], capture_output=True,
                               text=True, timeout=120)
    assert regressed.returncode == 1, regressed.stdout + regressed.stderr
    assert "REGRESSION KVMPerf" in regressed.stdout
