"""bonnie++: command builder and CSV parser (pure functions, no I/O).

Three CSV layouts exist in the wild and all are parsed:

* 1.03e (format 1, 27 fields): ``name,size,putc,putc_cpu,...``, no version
  column and no latencies;
* 1.96 / 1.97 (48 fields): ``format_version,bonnie_version,name,concurrency,
  seed,file_size,chunk_size,putc,...`` with 12 latencies at the end (with
  ``-s 0`` 1.96 writes one empty I/O field too few: realigned);
* 1.98, written by 2.00a (50 fields): as 1.96 plus ``seeks,seek_proc_count``
  after ``chunk_size`` (``man bon_csv2txt``). Its ``-x`` header line still
  lists the 48 names of 1.96, so header lines are recognised and skipped,
  never used to map fields.

``+++++`` / ``+++`` mean the operation finished too quickly to be measured:
the value is ``None`` (never 0) and the metric is listed in ``too_fast``.
An empty field means the test was not run (e.g. per-char tests in fast mode).
"""

from collections.abc import Sequence
import dataclasses
import math
import re

from rally_kvm_perf import exceptions
from rally_kvm_perf import metrics

BINARY = "bonnie++"

# bonnie++ field stems in CSV order -> our metric stems
_OPERATIONS = (
    ("putc", "char_write"), ("put_block", "block_write"),
    ("rewrite", "rewrite"), ("getc", "char_read"),
    ("get_block", "block_read"), ("seeks", "seeks"),
)
_FILE_OPERATIONS = (
    ("seq_create", "seq_create"), ("seq_stat", "seq_stat"),
    ("seq_del", "seq_delete"), ("ran_create", "ran_create"),
    ("ran_stat", "ran_stat"), ("ran_del", "ran_delete"),
)
_RATE_SUFFIX = {stem: suffix for stem, suffix, _t, _p
                in metrics.BONNIE_OPERATIONS}
_ALL_OPERATIONS = _OPERATIONS + _FILE_OPERATIONS

FORMAT_103 = "1.03"
FORMAT_196 = "1.96"
FORMAT_198 = "1.98"
_FIELD_COUNTS = {27: FORMAT_103, 48: FORMAT_196, 50: FORMAT_198}

_LATENCY_RE = re.compile(r"^(\d+(?:\.\d+)?)(us|ms|s)$")
_LATENCY_FACTOR = {"us": 1.0, "ms": 1e3, "s": 1e6}
_SIZE_RE = re.compile(r"^(\d+(?:\.\d+)?)([KMGT]?)$")
_SIZE_FACTOR_MB = {"K": 1.0 / 1024, "": 1.0, "M": 1.0, "G": 1024.0,
                   "T": 1024.0 ** 2}
_FILES_RE = re.compile(r"^\d+(:\d+){0,4}(/\d+)?$")
_VERSION_RE = re.compile(r"^1\.9\d+[a-z]?$|^2\.\d+[a-z]?$")
# Lines with fewer commas are the human-readable report or progress text
# (the CSV line follows them when bonnie++ runs without -q).
_MIN_CSV_COMMAS = 20


def metric_names(fmt: str = FORMAT_198) -> list[str]:
    """The metric keys a parsed line of format ``fmt`` has."""
    names = []
    for _field, stem in _ALL_OPERATIONS:
        names.append("%s_%s" % (stem, _RATE_SUFFIX[stem]))
        names.append("%s_cpu_pct" % stem)
        if fmt != FORMAT_103:
            names.append("%s_latency_us" % stem)
    return names


def parse(text: str) -> list[dict]:
    """Parse bonnie++ CSV output into one dict per result line.

    :param text: bonnie++ stdout (with ``-q`` only the CSV; without it the
        human-readable report is skipped), or the content of a CSV file.
    :returns: list of dicts with every metric key of the format (values are
        floats or None) and ``format``, ``version``, ``name``,
        ``file_size_mb``, ``file_size``, ``concurrency``, ``num_files``,
        ``too_fast`` (metric names reported as +++).
    :raises ParseError: naming the offending line, on malformed input.
    """
    if not isinstance(text, str):
        raise exceptions.ParseError(
            "bonnie++ output must be text, got %s" % type(text).__name__)
    results = []
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#") or _is_header(line):
            continue
        if line.count(",") < _MIN_CSV_COMMAS:
            continue
        results.append(_parse_line(line, lineno))
    if not results:
        raise exceptions.ParseError(
            "no bonnie++ CSV result line found in output: %s"
            % exceptions.excerpt(text))
    return results


def _is_header(line):
    return line.startswith("format_version,") or line.startswith("name,")


def _parse_line(line, lineno):
    fields = [f.strip() for f in line.split(",")]
    if len(fields) == 47 and _VERSION_RE.match(fields[0]) \
            and not any(fields[5:18]):
        # 1.96 run with -s 0 (file tests only) writes one empty I/O field
        # too few; the file-test fields are intact, so realign them.
        fields.insert(5, "")
    fmt = _FIELD_COUNTS.get(len(fields))
    if fmt is None:
        raise _error(lineno, line,
                     "%d fields; bonnie++ CSV has 27 (1.03), 48 (1.96/1.97) "
                     "or 50 (1.98/2.00) fields (truncated output?)"
                     % len(fields))
    if fmt == FORMAT_103:
        layout = _layout_103(fields)
    else:
        if not _VERSION_RE.match(fields[0]):
            raise _error(lineno, line, "format version %r is not a bonnie++ "
                         "1.9x/2.x CSV format version" % fields[0])
        layout = _layout_19x(fields, fmt)
    result = {"format": fmt, "version": layout["version"],
              "name": layout["name"], "file_size": layout["size"],
              "concurrency": layout["concurrency"],
              "num_files": layout["num_files"] or None, "too_fast": []}
    result["file_size_mb"] = _parse_size(layout["size"], lineno, line)
    for (field, stem), (rate, cpu) in zip(_ALL_OPERATIONS, layout["pairs"]):
        rate_key = "%s_%s" % (stem, _RATE_SUFFIX[stem])
        cpu_key = "%s_cpu_pct" % stem
        result[rate_key] = _number(rate, field, lineno, line, result, rate_key)
        result[cpu_key] = _number(cpu, field + "_cpu", lineno, line, result,
                                  cpu_key)
    for (field, stem), value in zip(_ALL_OPERATIONS, layout["latencies"]):
        result["%s_latency_us" % stem] = _latency(
            value, field + "_latency", lineno, line)
    return result


def _layout_103(f):
    # name,size,6 x (rate,cpu),num_files,6 x (rate,cpu)
    pairs = [(f[i], f[i + 1]) for i in range(2, 14, 2)]
    pairs += [(f[i], f[i + 1]) for i in range(15, 27, 2)]
    return {"version": "1.03", "name": f[0], "size": f[1],
            "concurrency": 1, "num_files": f[14], "pairs": pairs,
            "latencies": []}


def _layout_19x(f, fmt):
    # 1.98 inserts seeks,seek_proc_count after chunk_size
    shift = 2 if fmt == FORMAT_198 else 0
    start = 7 + shift
    pairs = [(f[i], f[i + 1]) for i in range(start, start + 12, 2)]
    files = start + 12
    file_start = files + 5
    pairs += [(f[i], f[i + 1]) for i in range(file_start, file_start + 12, 2)]
    latencies = f[file_start + 12:file_start + 24]
    try:
        concurrency = int(f[3]) if f[3] else 1
    except ValueError:
        concurrency = None
    num_files = ":".join(x for x in f[files:files + 4] if x)
    return {"version": f[1], "name": f[2], "size": f[5],
            "concurrency": concurrency, "num_files": num_files,
            "pairs": pairs, "latencies": latencies}


def _number(value, field, lineno, line, result, key):
    if value == "":
        return None
    if set(value) == {"+"}:
        result["too_fast"].append(key)
        return None
    try:
        number = float(value)
    except ValueError:
        number = None
    if number is None or not math.isfinite(number):
        raise _error(lineno, line, "field %s is %r, not a number"
                     % (field, value))
    if number < 0:
        raise _error(lineno, line, "field %s is negative (%r)" % (field, value))
    return number


def _latency(value, field, lineno, line):
    """'512ms', '44660us', '1s' -> microseconds; '' or '+++' -> None."""
    if value == "" or set(value) == {"+"}:
        return None
    match = _LATENCY_RE.match(value)
    if not match:
        raise _error(lineno, line, "field %s is %r, not a latency like "
                     "'44660us', '512ms' or '1s'" % (field, value))
    return float(match.group(1)) * _LATENCY_FACTOR[match.group(2)]


def _parse_size(value, lineno, line):
    """'64M', '8G', '2G:4096' (size:chunk) -> MiB; '' -> None."""
    size = value.split(":", 1)[0]
    if size == "":
        return None
    match = _SIZE_RE.match(size)
    if not match:
        raise _error(lineno, line, "file size %r is not like '512M' or '8G'"
                     % value)
    return float(match.group(1)) * _SIZE_FACTOR_MB[match.group(2)]


def _error(lineno, line, reason):
    return exceptions.ParseError(
        "malformed bonnie++ CSV at line %d (%s): %s"
        % (lineno, reason, exceptions.excerpt(line)))


@dataclasses.dataclass(frozen=True)
class Options:
    """bonnie++'s options (build_command).

    :param size_mb: file size in MiB (``-s``); default twice the RAM
    :param ram_mb: RAM size bonnie++ is told (``-r``); default the RAM of
        the machine it runs on
    :param files: ``-n`` value: number of files in units of 1024, or
        ``"n:max:min:dirs"``; 0 skips the file tests
    :param user: ``-u`` user (bonnie++ requires it when run as root)
    :param machine_name: ``-m`` label in the output
    :param quiet: ``-q``: only CSV on stdout
    :param fast: ``-f``: skip the per-char tests
    :param force: allow a size below twice the RAM (page-cache effects then
        inflate results); bonnie++ is told ``-r size/2`` so that it runs
    :param chunk_size: chunk size in bytes (``-s size:chunk``), power of two
    :param extra_args: further arguments, passed as they are
    """
    size_mb: int | None = None
    ram_mb: int | None = None
    files: str | int | None = None
    user: str | None = None
    machine_name: str | None = None
    quiet: bool = True
    fast: bool = False
    force: bool = False
    chunk_size: int | None = None
    extra_args: Sequence[str] = ()


def build_command(directory: str, options: Options | None = None,
                  machine_ram_mb: int | None = None,
                  binary: str = BINARY) -> list[str]:
    """Build a bonnie++ argv list.

    :param directory: directory to test in (``-d``); must be absolute
    :param options: the other options (Options)
    :param machine_ram_mb: RAM of the machine bonnie++ will run on, in MiB
    :returns: argv list; quote it with shlex.join() for a remote shell
    :raises InvalidArgument: naming the argument that is wrong
    """
    if not isinstance(directory, str) or not directory.startswith("/"):
        raise exceptions.InvalidArgument(
            "bonnie++ directory must be an absolute path, got %r" % (directory,))
    o = options or Options()
    size_mb, ram = _size_and_ram(o.size_mb, o.ram_mb, machine_ram_mb, o.force)
    size_arg = str(size_mb) + _chunk(o.chunk_size)
    argv = [binary, "-d", directory, "-s", size_arg]
    if ram is not None:
        argv += ["-r", str(ram)]
    if o.files is not None:
        files = str(o.files)
        if not _FILES_RE.match(files):
            raise exceptions.InvalidArgument(
                "bonnie++ files must be a number or 'n:max:min:dirs', got %r"
                % files)
        argv += ["-n", files]
    if o.user is not None:
        argv += ["-u", _word("user", o.user)]
    if o.machine_name is not None:
        argv += ["-m", _word("machine_name", o.machine_name)]
    extra = [str(a) for a in o.extra_args]
    check_direct_io(o.fast, extra)
    if o.fast:
        argv.append("-f")
    if o.quiet:
        argv.append("-q")
    return argv + extra


def _size_and_ram(size_mb, ram_mb, machine_ram_mb, force):
    """(-s MiB, -r MiB or None): the file at least twice the RAM unless
    forced, where bonnie++ is told half the file as its RAM so that it
    runs."""
    ram = ram_mb if ram_mb is not None else machine_ram_mb
    ram = _positive_int("ram_mb", ram) if ram is not None else None
    if size_mb is None:
        if ram is None:
            raise exceptions.InvalidArgument(
                "bonnie++ size_mb not given and the machine's RAM is unknown: "
                "give size_mb or machine_ram_mb")
        size_mb = 2 * ram
    size_mb = _positive_int("size_mb", size_mb)
    if ram is not None and size_mb < 2 * ram and not force:
        raise exceptions.InvalidArgument(
            "bonnie++ size_mb=%d is below twice the RAM (%d MiB): the page "
            "cache would inflate the results; use at least %d or force it"
            % (size_mb, ram, 2 * ram))
    if force and (ram is None or size_mb < 2 * ram):
        ram = max(size_mb // 2, 1)
    return size_mb, ram


def _chunk(chunk_size):
    """``-s``'s ":chunk" suffix, or ""."""
    if chunk_size is None:
        return ""
    chunk_size = _positive_int("chunk_size", chunk_size)
    if chunk_size & (chunk_size - 1) or not 256 <= chunk_size <= 1048576:
        raise exceptions.InvalidArgument(
            "bonnie++ chunk_size must be a power of two from 256 to "
            "1048576, got %d" % chunk_size)
    return ":%d" % chunk_size


def check_direct_io(fast: bool, extra_args: Sequence[str] | None) -> None:
    """Refuse -D (O_DIRECT) without fast mode: bonnie++ writes its
    per-character test a byte at a time, which O_DIRECT refuses, so every
    run would end at once with "Can't write() - disk full?" (2.00a, seen
    on the local cloud with the paper's samples)."""
    if "-D" in [str(a) for a in extra_args or ()] and not fast:
        raise exceptions.InvalidArgument(
            "bonnie++ -D (O_DIRECT) needs fast mode (-f, bonnie_fast: true): "
            "its per-character tests write one byte at a time, which O_DIRECT "
            "refuses ('Can't write() - disk full?'); drop -D to measure them")


def _positive_int(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, float)) \
            or value != int(value) or value <= 0:
        raise exceptions.InvalidArgument(
            "bonnie++ %s must be a positive whole number, got %r"
            % (name, value))
    return int(value)


def _word(name, value):
    value = str(value)
    if not value or value.startswith("-") or "," in value \
            or any(c.isspace() for c in value):
        raise exceptions.InvalidArgument(
            "bonnie++ %s must be one word not starting with '-' and without "
            "commas, got %r" % (name, value))
    return value
