"""The ``rally-kvm-perf`` command.

``rally-kvm-perf baseline`` measures the physical side of every VM/host
ratio: bonnie++ and netperf repeated N times on this machine (default) or on
a remote host over SSH, written to one JSON file.
"""

import argparse
import datetime
import json
import logging
import os
import signal
import socket
import sys

from oslo_config import cfg
from oslo_log import log as oslo_logging

from rally_kvm_perf import exceptions
from rally_kvm_perf import opts
from rally_kvm_perf.benchmarks import fio
from rally_kvm_perf.benchmarks import netperf
from rally_kvm_perf.host import baseline
from rally_kvm_perf.report import collect
from rally_kvm_perf.report import trends

LOG = oslo_logging.getLogger("rally_kvm_perf")

# --quick: a small, fast baseline for smoke tests and CI (minutes, not hours)
QUICK = {"runs": 3, "bonnie_size": 256, "bonnie_files": "1", "duration": 2,
         "force": True, "fio_size": 64, "fio_runtime": 2, "fio_ramp": 1}


def _pair(text):
    try:
        a, b = (float(x) for x in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            "expected two numbers like 99,5, got %r" % text) from None
    return (int(a) if a == int(a) else a, b)


def _tests(text):
    tests = tuple(t.strip().upper() for t in text.split(",") if t.strip())
    bad = [t for t in tests if t not in netperf.TESTS]
    if bad or not tests:
        raise argparse.ArgumentTypeError(
            "tests must be a comma-separated list of %s, got %r"
            % (", ".join(netperf.TESTS), text))
    return tests


def build_parser():
    conf = opts.register_opts()
    parser = argparse.ArgumentParser(
        prog="rally-kvm-perf",
        description="KVM instance vs physical host benchmarks (Rally plugin "
                    "companion tool).")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser(
        "baseline", help="measure the host baseline (bonnie++, netperf, fio)",
        description="Run bonnie++ and netperf (and fio with --fio) N times "
                    "on a host and write "
                    "raw outputs, samples, statistics, tool versions and "
                    "host facts to one JSON file.")
    p.add_argument("--host", metavar="[USER@]HOST[:PORT]",
                   help="measure a remote host over SSH (default: this "
                        "machine)")
    p.add_argument("--ssh-key", metavar="FILE",
                   default=conf.kvm_perf.ssh_key_file,
                   help="private key for --host")
    p.add_argument("--runs", type=int, help="repetitions (default %d)"
                   % conf.kvm_perf.repetitions)
    p.add_argument("--output", "-o", metavar="FILE",
                   help="JSON file to write (default: "
                        "kvm-perf-baseline-HOST-TIME.json here)")
    p.add_argument("--quick", action="store_true",
                   help="small and fast: %d runs, bonnie++ %d MiB (forced), "
                        "netperf %d s, fio %d MiB for %d s a job; explicit "
                        "options win"
                   % (QUICK["runs"], QUICK["bonnie_size"], QUICK["duration"],
                      QUICK["fio_size"], QUICK["fio_runtime"]))
    p.add_argument("--timeout", type=int,
                   default=conf.kvm_perf.command_timeout,
                   help="seconds one benchmark command may run")
    p.add_argument("--no-drop-caches", dest="drop_caches",
                   action="store_false",
                   help="do not drop page caches before each bonnie++ and "
                        "fio run")
    _bonnie_options(p.add_argument_group("bonnie++"), conf)
    _fio_options(p.add_argument_group("fio (as KVMPerf.fio's fio_* "
                                      "arguments)"))
    _netperf_options(p.add_argument_group("netperf"), conf)
    add_trends_parser(sub)
    return parser


def _bonnie_options(g, conf):
    g.add_argument("--no-bonnie", dest="bonnie", action="store_false")
    g.add_argument("--bonnie-dir", default=conf.kvm_perf.bonnie_directory,
                   help="directory to test (default %(default)s)")
    g.add_argument("--bonnie-size", type=int, metavar="MiB",
                   help="file size (default twice the host's RAM)")
    g.add_argument("--bonnie-ram", type=int, metavar="MiB",
                   help="RAM size bonnie++ is told (default the host's)")
    g.add_argument("--bonnie-files", metavar="N[:MAX:MIN:DIRS]",
                   help="-n: files in units of 1024; 0 skips file tests")
    g.add_argument("--bonnie-fast", action="store_true",
                   help="-f: skip per-char tests")
    g.add_argument("--bonnie-user", help="-u user (default root when root)")
    g.add_argument("--bonnie-arg", action="append", default=[],
                   dest="bonnie_extra_args", metavar="ARG",
                   help="one more bonnie++ argument, e.g. -D (O_DIRECT); "
                        "repeatable; the instances must use the same")
    g.add_argument("--force", action="store_true", default=None,
                   help="allow a bonnie++ size below twice the RAM")


def _fio_options(g):
    g.add_argument("--fio", action="store_true",
                   help="run fio too (off by default)")
    g.add_argument("--fio-dir", metavar="DIR",
                   help="directory of fio's test file (default --bonnie-dir)")
    g.add_argument("--fio-job", action="append", dest="fio_jobs",
                   choices=list(fio.JOBS), metavar="JOB",
                   help="one job, repeatable, from %s (default all)"
                   % ", ".join(fio.JOBS))
    g.add_argument("--fio-size", type=int, metavar="MiB",
                   help="test file size (default %d)"
                   % fio.DEFAULTS["size_mb"])
    g.add_argument("--fio-runtime", type=int, metavar="S",
                   help="seconds each job is measured (default %d)"
                   % fio.DEFAULTS["runtime"])
    g.add_argument("--fio-ramp", type=int, metavar="S",
                   help="seconds each job runs first (default %d)"
                   % fio.DEFAULTS["ramp_time"])
    g.add_argument("--fio-iodepth", type=int, metavar="N",
                   help="I/Os in flight (default %d)" % fio.DEFAULTS["iodepth"])
    g.add_argument("--fio-ioengine", metavar="ENGINE",
                   help="I/O engine (default %s)" % fio.DEFAULTS["ioengine"])
    g.add_argument("--fio-arg", action="append", default=[],
                   dest="fio_extra_args", metavar="ARG",
                   help="one more global fio option, repeatable; the "
                        "instances must use the same")


def _netperf_options(g, conf):
    g.add_argument("--no-netperf", dest="netperf", action="store_false")
    g.add_argument("--netserver", metavar="HOST[:PORT]",
                   help="netserver to measure against (default: a private "
                        "netserver on a free loopback port, for this "
                        "machine only)")
    g.add_argument("--tests", type=_tests, default=netperf.TESTS,
                   help="comma-separated (default %s)"
                   % ",".join(netperf.TESTS))
    g.add_argument("--duration", type=int, help="seconds per test "
                   "(default %d)" % conf.kvm_perf.netperf_duration)
    g.add_argument("--message-size", type=int, metavar="BYTES",
                   help="stream tests' send size (-- -m)")
    g.add_argument("--confidence", type=_pair, metavar="LEVEL,WIDTH",
                   help="-I: e.g. 99,5 (netperf repeats until reached)")
    g.add_argument("--cpu", action="store_true",
                   help="-c -C: measure CPU utilisation")
    g.add_argument("--data-port", type=int,
                   help="fixed netperf data port (for firewalls)")


def _setup_logging():
    conf = cfg.CONF
    oslo_logging.register_options(conf)
    # stdout carries only the result file's path; progress goes to stderr
    conf.set_default("use_stderr", True)
    conf([], project="rally-kvm-perf", default_config_files=[])
    oslo_logging.setup(conf, "rally-kvm-perf")
    logging.getLogger("rally_kvm_perf").setLevel(logging.INFO)


def _default_output(host):
    stamp = datetime.datetime.now().strftime("%Y%m%dT%H%M%S")
    safe = "".join(c if c.isalnum() or c in ".-" else "_" for c in host)
    return os.path.abspath("kvm-perf-baseline-%s-%s.json" % (safe, stamp))


def _baseline(args):
    conf = cfg.CONF.kvm_perf
    quick = QUICK if args.quick else {}

    def pick(value, key):  # explicit options win over --quick
        return value if value is not None else quick.get(key)

    params = baseline.make_params(
        conf, runs=pick(args.runs, "runs"),
        bonnie_options=None if not args.bonnie else {
            "directory": args.bonnie_dir,
            "size_mb": pick(args.bonnie_size, "bonnie_size"),
            "ram_mb": args.bonnie_ram,
            "files": pick(args.bonnie_files, "bonnie_files"),
            "fast": args.bonnie_fast, "user": args.bonnie_user,
            "extra_args": args.bonnie_extra_args,
            "force": pick(args.force, "force")},
        netperf_options=None if not args.netperf else {
            "netserver": args.netserver, "tests": args.tests,
            "duration": pick(args.duration, "duration"),
            "message_size": args.message_size,
            "confidence": args.confidence, "cpu": args.cpu,
            "data_port": args.data_port},
        drop_caches=args.drop_caches, timeout=args.timeout,
        fio_options=None if not args.fio else {
            "directory": args.fio_dir or args.bonnie_dir,
            "jobs": args.fio_jobs,
            "size_mb": pick(args.fio_size, "fio_size"),
            "runtime": pick(args.fio_runtime, "fio_runtime"),
            "ramp_time": pick(args.fio_ramp, "fio_ramp"),
            "iodepth": args.fio_iodepth, "ioengine": args.fio_ioengine,
            "extra_args": args.fio_extra_args})
    params.validate()  # bad options fail before anything is written
    runner = baseline.make_runner(conf, args.host, args.ssh_key)
    if runner.is_local:
        runner.name = socket.gethostname() or "localhost"
    output = args.output or _default_output(runner.name)
    runs = params.runs
    LOG.info("host baseline of %s: %d runs, writing %s",
             runner.name, runs, output)
    try:
        doc = baseline.measure(runner, params, output_path=output)
    finally:
        runner.close()
    for warning in doc["warnings"]:
        LOG.warning(warning)
    print(output)
    return doc


def _terminate(signum, frame):
    # turn SIGTERM into an exception so that every finally block runs: the
    # private netserver is stopped and the results so far are written
    raise KeyboardInterrupt("terminated by signal %d" % signum)


def add_trends_parser(sub):
    p = sub.add_parser(
        "trends", help="VM/host ratios over several tasks; exit 1 on a "
                       "regression",
        description="Read 'rally task report --json' files (one or more "
                    "tasks each), follow every ratio over the tasks (oldest "
                    "first) and test the newest against the ones before "
                    "(Welch's test on repetition-level ratios). Prints one "
                    "line per regression; exits 1 when there is one, so a "
                    "CI job can gate on it.")
    p.add_argument("reports", nargs="+", metavar="REPORT.json",
                   help="rally task report --json output")
    p.add_argument("--out", metavar="DIR",
                   help="also write DIR/trends.html and DIR/trends.json")
    p.add_argument("--alpha", type=float, default=trends.ALPHA,
                   help="significance level (default %(default)s)")


def _read_reports(paths):
    tasks = []
    for path in paths:
        try:
            with open(path) as f:
                doc = json.load(f)
        except (OSError, ValueError) as e:
            raise exceptions.InvalidArgument(
                "%s: not a readable JSON file (%s)" % (path, e)) from None
        found = collect.report_tasks(doc)
        if not found:
            raise exceptions.InvalidArgument(
                "%s: no tasks in it: give the output of 'rally task report "
                "--json'" % path)
        tasks += found
    return tasks


def _trends(args):
    if not 0 < args.alpha < 1:
        raise exceptions.InvalidArgument(
            "--alpha must be between 0 and 1, got %s" % args.alpha)
    tasks = _read_reports(args.reports)
    files = trends.build(tasks, args.alpha)
    if args.out:
        os.makedirs(args.out, exist_ok=True)
        for name, content in files.items():
            with open(os.path.join(args.out, name), "w") as f:
                f.write(content)
    rows = trends.trends(tasks, args.alpha)
    if not rows:
        raise exceptions.InvalidArgument(
            "no KVMPerf sweep ratios in %s" % ", ".join(args.reports))
    flagged = trends.regressions(rows)
    for row in flagged:
        print("REGRESSION %s (%s): %s" % (row["scenario"], row["optimised"],
                                          trends.sentence(row)))
    print("%d task(s), %d series, %d regression(s)%s" % (
        len(tasks), len(rows), len(flagged),
        "; report: %s" % os.path.join(args.out, "trends.html")
        if args.out else ""))
    return 1 if flagged else 0


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    _setup_logging()
    signal.signal(signal.SIGTERM, _terminate)
    try:
        if args.command == "trends":
            return _trends(args)
        if args.command == "baseline":
            _baseline(args)
    except exceptions.KVMPerfError as e:
        print("rally-kvm-perf: error: %s" % e, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("rally-kvm-perf: interrupted; results so far are written",
              file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
