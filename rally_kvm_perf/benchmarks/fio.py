"""fio: command builder and JSON parser (pure functions, no I/O).

bonnie++ measures sequential throughput through the page cache; operators
size clouds by IOPS and latency. fio runs a few standard jobs one after the
other (``stonewall``) on one file, with O_DIRECT and a fixed duration
(``time_based``), and reports in JSON (``--output-format=json``, fio 3.x).

The jobs are fixed by name, so that a name always means the same I/O:

* ``randread`` / ``randwrite``: 4 KiB random, the IOPS jobs;
* ``seqread`` / ``seqwrite``: 1 MiB sequential, the bandwidth jobs.

Per job: IOPS, bandwidth, mean total latency, completion-latency
percentiles (50, 99, 99.9) and fio's CPU use. A job that failed or did no
I/O is an error, never a zero.
"""

from collections.abc import Sequence
import dataclasses
import json
import math
import os
import re
import typing as t

from rally_kvm_perf import exceptions

BINARY = "fio"

# job name -> (fio rw, block size, title)
JOBS = {
    "randread": ("randread", "4k", "4 KiB random read"),
    "randwrite": ("randwrite", "4k", "4 KiB random write"),
    "seqread": ("read", "1M", "1 MiB sequential read"),
    "seqwrite": ("write", "1M", "1 MiB sequential write"),
}
DEFAULT_JOBS = tuple(JOBS)
# completion-latency percentiles asked for: (fio's key, our suffix)
PERCENTILES = (("50.000000", "p50"), ("99.000000", "p99"),
               ("99.900000", "p99_9"))
PERCENTILE_LIST = "50:99:99.9"
FILENAME = "kvm-perf-fio.dat"
DEFAULTS: dict[str, t.Any] = {"size_mb": 1024, "runtime": 30, "ramp_time": 5,
                              "iodepth": 16, "ioengine": "libaio"}

_WORD_RE = re.compile(r"^[A-Za-z0-9_]+$")
_VERSION_RE = re.compile(r"fio-(\d+\.\d+\S*)")


def metric_names(job: str) -> list[str]:
    """The metric keys one job yields."""
    return ["%s_%s" % (job, m) for m in
            ("iops", "bw_kBps", "lat_mean_us")
            + tuple("lat_%s_us" % p for _k, p in PERCENTILES) + ("cpu_pct",)]


def parse_jobs(jobs: Sequence[str] | None) -> tuple[str, ...]:
    """A validated tuple of job names; ``None``: every standard job."""
    if jobs is None:
        return DEFAULT_JOBS
    if isinstance(jobs, str) or not isinstance(jobs, (list, tuple)) \
            or not jobs:
        raise exceptions.InvalidArgument(
            "fio jobs must be a non-empty list of %s, got %r"
            % (", ".join(JOBS), jobs))
    unknown = [j for j in jobs if j not in JOBS]
    if unknown:
        raise exceptions.InvalidArgument(
            "unknown fio job(s) %s: the jobs are %s"
            % (", ".join(map(repr, unknown)), ", ".join(JOBS)))
    if len(set(jobs)) != len(jobs):
        raise exceptions.InvalidArgument(
            "fio jobs are listed twice: %r" % (list(jobs),))
    return tuple(jobs)


@dataclasses.dataclass
class Options:
    """What fio runs with (build_command); a sweep's instances and a host
    baseline must run alike (benchmarks/params.py).

    :param directory: directory of the test file; must be absolute
    :param jobs: job names (see JOBS), default all four
    :param size_mb: size of the test file in MiB (with O_DIRECT the page
        cache plays no part, so it need not exceed the RAM)
    :param runtime: seconds each job is measured (``time_based``)
    :param ramp_time: seconds each job runs before measuring starts
    :param iodepth: I/Os in flight per job
    :param ioengine: fio I/O engine, e.g. libaio, io_uring, psync
    :param extra_args: further global fio options, passed as they are
        (they precede the jobs: a job's own rw and bs stay)
    """
    directory: str
    jobs: tuple = DEFAULT_JOBS
    size_mb: int = DEFAULTS["size_mb"]
    runtime: int = DEFAULTS["runtime"]
    ramp_time: int = DEFAULTS["ramp_time"]
    iodepth: int = DEFAULTS["iodepth"]
    ioengine: str = DEFAULTS["ioengine"]
    extra_args: tuple = ()

    def argv(self) -> list[str]:
        return build_command(self)


def build_command(options: Options, binary: str = BINARY) -> list[str]:
    """Build a fio argv list: the jobs one after the other on one file.

    :returns: argv list; quote it with shlex.join() for a remote shell
    :raises InvalidArgument: naming the argument that is wrong
    """
    o = options
    directory, ioengine = o.directory, o.ioengine
    if not isinstance(directory, str) or not directory.startswith("/") \
            or ":" in directory:
        raise exceptions.InvalidArgument(
            "fio directory must be an absolute path without ':', got %r"
            % (directory,))
    jobs = parse_jobs(o.jobs)
    size_mb = _whole("size_mb", o.size_mb, 1)
    runtime = _whole("runtime", o.runtime, 1)
    ramp_time = _whole("ramp_time", o.ramp_time, 0)
    iodepth = _whole("iodepth", o.iodepth, 1)
    if iodepth > 65536:
        raise exceptions.InvalidArgument(
            "fio iodepth must be at most 65536, got %d" % iodepth)
    if not isinstance(ioengine, str) or not _WORD_RE.match(ioengine):
        raise exceptions.InvalidArgument(
            "fio ioengine must be one word like 'libaio', got %r"
            % (ioengine,))
    argv = [binary, "--output-format=json", "--directory=" + directory,
            "--filename=" + FILENAME, "--size=%dM" % size_mb, "--direct=1",
            "--ioengine=" + ioengine, "--iodepth=%d" % iodepth,
            "--time_based", "--runtime=%d" % runtime,
            "--ramp_time=%d" % ramp_time,
            "--percentile_list=" + PERCENTILE_LIST,
            # each job waits for the one before: one at a time
            "--stonewall"]
    argv += [str(a) for a in o.extra_args]
    for job in jobs:
        rw, bs, _title = JOBS[job]
        argv += ["--name=" + job, "--rw=" + rw, "--bs=" + bs]
    # the last job removes the file: gigabytes are not left on a host
    argv.append("--unlink=1")
    return argv


def _whole(name, value, minimum):
    if isinstance(value, bool) or not isinstance(value, (int, float)) \
            or value != int(value) or value < minimum:
        raise exceptions.InvalidArgument(
            "fio %s must be a whole number >= %d, got %r"
            % (name, minimum, value))
    return int(value)


def _document(text):
    """The JSON document in fio's stdout (warnings may precede it)."""
    if not isinstance(text, str):
        raise exceptions.ParseError(
            "fio output must be text, got %s" % type(text).__name__)
    match = re.search(r"^\{", text, re.MULTILINE)
    if not match:
        raise exceptions.ParseError(
            "no fio JSON document in the output (was it run with "
            "--output-format=json?): %s" % exceptions.excerpt(text))
    try:
        doc, _end = json.JSONDecoder().raw_decode(text, match.start())
    except ValueError as e:
        raise exceptions.ParseError(
            "fio JSON is malformed (truncated output?): %s: %s"
            % (e, exceptions.excerpt(text[match.start():]))) from None
    if not isinstance(doc, dict) or not isinstance(doc.get("jobs"), list):
        raise exceptions.ParseError(
            "fio JSON has no 'jobs' list: %s" % exceptions.excerpt(text))
    return doc


def _job_failed(name, code):
    return "fio job %s failed with error %s%s" % (
        name, code, " (%s)" % os.strerror(code)
        if isinstance(code, int) and code > 0 else "")


def failure(text: str) -> str | None:
    """What a fio that exited non-zero said of it, or None: its first
    failed job ("fio job randread failed with error 2 (No such file or
    directory)"), where the output's last line alone is JSON's "}"."""
    try:
        doc = _document(text)
    except exceptions.ParseError:
        return None
    for job in doc["jobs"]:
        if isinstance(job, dict) and job.get("error"):
            return _job_failed(job.get("jobname"), job["error"])
    return None


def parse(text: str) -> dict:
    """Parse fio's JSON output.

    :returns: {"version": "3.33" or None, "jobs": {name: {metric: value}}}
        with the keys of metric_names(name); a percentile fio did not
        report is None.
    :raises ParseError: naming the job, when a job failed, did no I/O, is
        not one of JOBS, or a value is not a number
    """
    doc = _document(text)
    version = _VERSION_RE.search(str(doc.get("fio version", "")))
    found = {}
    for job in doc["jobs"]:
        name = job.get("jobname") if isinstance(job, dict) else None
        if name not in JOBS:
            raise exceptions.ParseError(
                "fio job %r is not one of %s" % (name, ", ".join(JOBS)))
        if name in found:
            raise exceptions.ParseError("fio job %r reported twice" % name)
        if job.get("error"):
            raise exceptions.ParseError(_job_failed(name, job["error"]))
        side = "read" if JOBS[name][0] in ("read", "randread") else "write"
        io = job.get(side)
        if not isinstance(io, dict):
            raise exceptions.ParseError(
                "fio job %s has no %s statistics" % (name, side))
        if not _num(io, "total_ios", name):
            raise exceptions.ParseError(
                "fio job %s did no I/O in its runtime (nothing measured)"
                % name)
        lat = io.get("lat_ns") or {}
        pcts = (io.get("clat_ns") or {}).get("percentile") or {}
        values = {
            "%s_iops" % name: _num(io, "iops", name),
            "%s_bw_kBps" % name: _num(io, "bw", name),
            "%s_lat_mean_us" % name: _num(lat, "mean", name) / 1e3,
            "%s_cpu_pct" % name: (_num(job, "usr_cpu", name)
                                  + _num(job, "sys_cpu", name)),
        }
        for key, suffix in PERCENTILES:
            values["%s_lat_%s_us" % (name, suffix)] = (
                _num(pcts, key, name) / 1e3 if key in pcts else None)
        found[name] = values
    if not found:
        raise exceptions.ParseError("fio JSON lists no job")
    return {"version": version.group(1) if version else None, "jobs": found}


def _num(mapping, key, job):
    value = mapping.get(key) if isinstance(mapping, dict) else None
    if isinstance(value, bool) or not isinstance(value, (int, float)) \
            or not math.isfinite(value) or value < 0:
        raise exceptions.ParseError(
            "fio job %s: %s is %r, not a number" % (job, key, value))
    return float(value)
