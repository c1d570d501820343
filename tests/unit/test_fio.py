"""fio: the command it runs and its JSON, on fio 3.33's real output (captured
on this machine: tests/fixtures/fio)."""

import json
import shlex

import pytest

from rally_kvm_perf import exceptions
from rally_kvm_perf import metrics
from rally_kvm_perf.benchmarks import fio
from rally_kvm_perf.benchmarks import outputs
from tests.conftest import read_fixture

FOUR = read_fixture("fio", "3.33-four-jobs.json")


def test_four_jobs_every_metric_with_its_direction():
    parsed = fio.parse(FOUR)
    assert parsed["version"] == "3.33"
    assert list(parsed["jobs"]) == ["randread", "randwrite", "seqread",
                                    "seqwrite"]
    for job, values in parsed["jobs"].items():
        assert sorted(values) == sorted(fio.metric_names(job))
        for name, value in values.items():
            assert metrics.get(name).tool == "fio"
            assert value is not None and value > 0, name


def test_values_are_fios_own_in_our_units():
    rr = fio.parse(FOUR)["jobs"]["randread"]
    raw = json.loads(FOUR)["jobs"][0]
    assert rr["randread_iops"] == raw["read"]["iops"] == 41783.108446
    assert rr["randread_bw_kBps"] == raw["read"]["bw"]        # KiB/s
    assert rr["randread_lat_mean_us"] == pytest.approx(
        raw["read"]["lat_ns"]["mean"] / 1000)
    pct = raw["read"]["clat_ns"]["percentile"]
    assert rr["randread_lat_p50_us"] == pct["50.000000"] / 1000
    assert rr["randread_lat_p99_us"] == pct["99.000000"] / 1000
    assert rr["randread_lat_p99_9_us"] == pct["99.900000"] / 1000
    assert rr["randread_cpu_pct"] == pytest.approx(raw["usr_cpu"]
                                                   + raw["sys_cpu"])
    # a write job is read from its write side
    sw = fio.parse(FOUR)["jobs"]["seqwrite"]
    assert sw["seqwrite_bw_kBps"] == json.loads(FOUR)["jobs"][3]["write"]["bw"]


def test_directions_latency_lower_iops_higher():
    assert metrics.get("randread_iops").better == metrics.HIGHER
    assert metrics.get("seqwrite_bw_kBps").better == metrics.HIGHER
    assert metrics.get("randwrite_lat_p99_9_us").better == metrics.LOWER
    assert metrics.get("seqread_cpu_pct").better == metrics.LOWER
    # the report's summary: IOPS of random jobs, bandwidth of sequential
    # ones, p99 of all
    assert metrics.get("randread_iops").summary
    assert not metrics.get("randread_bw_kBps").summary
    assert metrics.get("seqread_bw_kBps").summary
    assert metrics.get("seqread_lat_p99_us").summary


def test_failed_job_is_an_error_naming_job_and_cause():
    # fio 3.33 on a full filesystem: a 'fio: pid=...' line precedes the
    # JSON and the job carries error 28
    text = read_fixture("fio", "3.33-enospc.stdout")
    assert not text.startswith("{")
    with pytest.raises(exceptions.ParseError,
                       match=r"randwrite failed with error 28 "
                             r"\(No space left on device\)"):
        fio.parse(text)
    # what the sweep says of a fio that exited non-zero: the failed job,
    # not the JSON's last line ("}"); the other tools' last line says it
    assert outputs.failure("fio", text) == (
        "fio job randwrite failed with error 28 (No space left on device)")
    assert outputs.failure("fio", FOUR) is None
    assert outputs.failure("fio", "fio: no such option --x") is None
    assert outputs.failure("bonnie++", text) is None


def test_a_job_that_did_no_io_is_not_a_zero():
    doc = json.loads(read_fixture("fio", "3.33-one-job-tmpfs.json"))
    assert fio.parse(json.dumps(doc))["jobs"]["randread"]["randread_iops"] > 0
    doc["jobs"][0]["read"]["total_ios"] = 0
    with pytest.raises(exceptions.ParseError, match="randread did no I/O"):
        fio.parse(json.dumps(doc))


@pytest.mark.parametrize("text, match", [
    ("", "no fio JSON document"),
    ("fio: /nonexistent is not a directory\n"
     "fio: failed parsing directory=/nonexistent\n", "no fio JSON document"),
    (FOUR[:len(FOUR) // 2], "malformed"),
    ('{"fio version": "fio-3.33"}', "no 'jobs' list"),
    ('{"jobs": []}', "lists no job"),
    ('{"jobs": [{"jobname": "mine"}]}', "'mine' is not one of"),
])
def test_bad_output_is_an_error_that_says_why(text, match):
    with pytest.raises(exceptions.ParseError, match=match):
        fio.parse(text)


def test_a_value_that_is_not_a_number_is_named():
    doc = json.loads(FOUR)
    doc["jobs"][1]["write"]["iops"] = "fast"
    with pytest.raises(exceptions.ParseError,
                       match="randwrite: iops is 'fast'"):
        fio.parse(json.dumps(doc))


def test_a_missing_percentile_is_none_not_zero():
    doc = json.loads(FOUR)
    del doc["jobs"][0]["read"]["clat_ns"]["percentile"]["99.900000"]
    values = fio.parse(json.dumps(doc))["jobs"]["randread"]
    assert values["randread_lat_p99_9_us"] is None
    assert values["randread_lat_p99_us"] > 0


def test_outputs_merges_the_jobs():
    values, warnings = outputs.parse_metrics(outputs.FIO, FOUR)
    assert warnings == []
    assert len(values) == 4 * len(fio.metric_names("randread"))
    assert metrics.headline(values) == ("randread_iops", 41783.108446)


def test_command_runs_the_jobs_one_after_the_other_and_removes_its_file():
    argv = fio.build_command(fio.Options(
        "/var/tmp", jobs=["randread", "seqwrite"], size_mb=64, runtime=2,
        ramp_time=1, iodepth=8))
    assert argv[0] == "fio"
    assert "--output-format=json" in argv and "--direct=1" in argv
    assert "--time_based" in argv and "--runtime=2" in argv
    assert "--stonewall" in argv and "--size=64M" in argv
    assert argv.index("--stonewall") < argv.index("--name=randread")
    assert argv[argv.index("--name=randread"):] == [
        "--name=randread", "--rw=randread", "--bs=4k",
        "--name=seqwrite", "--rw=write", "--bs=1M", "--unlink=1"]
    # one argv element per option: nothing a shell would split
    assert shlex.split(shlex.join(argv)) == argv


def test_extra_args_are_global_options():
    argv = fio.build_command(fio.Options("/var/tmp",
                                         extra_args=["--numjobs=2"]))
    assert argv.index("--numjobs=2") < argv.index("--name=randread")


@pytest.mark.parametrize("kwargs, match", [
    ({"directory": "var/tmp"}, "absolute path"),
    ({"directory": "/a:b"}, "without ':'"),
    ({"jobs": ["randrw"]}, "unknown fio job.*'randrw'"),
    ({"jobs": "randread"}, "non-empty list"),
    ({"jobs": []}, "non-empty list"),
    ({"jobs": ["randread", "randread"]}, "twice"),
    ({"size_mb": 0}, "size_mb must be a whole number >= 1"),
    ({"runtime": 1.5}, "runtime"),
    ({"ramp_time": -1}, "ramp_time must be a whole number >= 0"),
    ({"iodepth": True}, "iodepth"),
    ({"iodepth": 70000}, "at most 65536"),
    ({"ioengine": "libaio --exec=x"}, "one word"),
])
def test_bad_arguments_are_named(kwargs, match):
    kwargs.setdefault("directory", "/var/tmp")
    with pytest.raises(exceptions.InvalidArgument, match=match):
        fio.build_command(fio.Options(**kwargs))
