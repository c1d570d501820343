import pytest

from rally_kvm_perf import exceptions
from rally_kvm_perf import metrics
from rally_kvm_perf.benchmarks import bonnie
from rally_kvm_perf.benchmarks import outputs
from tests.conftest import read_fixture


def test_2_00a_full_line_from_this_machine():
    [r] = bonnie.parse(read_fixture("bonnie", "2.00a-full.csv"))
    assert r["format"] == "1.98" and r["version"] == "2.00a"
    assert r["name"] == "debian12" and r["file_size_mb"] == 512
    assert r["char_write_kBps"] == 4306 and r["char_write_cpu_pct"] == 99
    assert r["block_write_kBps"] == 456374 and r["block_write_cpu_pct"] == 80
    # +++++ is "too fast to measure": None, never 0, and listed
    assert r["rewrite_kBps"] is None and r["rewrite_cpu_pct"] is None
    assert "rewrite_kBps" in r["too_fast"] and "seeks_per_s" in r["too_fast"]
    assert r["char_write_latency_us"] == 1926
    assert r["seeks_latency_us"] == 5752
    assert r["ran_delete_latency_us"] == 77
    assert r["num_files"] == "4"


def test_2_00a_fast_mode_leaves_char_tests_unmeasured():
    [r] = bonnie.parse(read_fixture("bonnie", "2.00a-fast.csv"))
    assert r["char_write_kBps"] is None and r["char_read_kBps"] is None
    assert "char_write_kBps" not in r["too_fast"]  # not run, not too fast
    assert r["block_write_latency_us"] == 1291
    assert r["char_write_latency_us"] is None


def test_2_00a_header_line_with_48_names_is_skipped():
    # bonnie++ 2.00a -x prints the 1.96 header (48 names) above 50-field data
    rows = bonnie.parse(read_fixture("bonnie", "2.00a-x2-with-header.csv"))
    assert len(rows) == 2
    assert rows[1]["char_read_kBps"] == 5577
    assert rows[1]["seq_create_per_s"] == 3848


def test_2_00a_human_report_before_csv_is_ignored():
    [r] = bonnie.parse(read_fixture("bonnie", "2.00a-stdout-not-quiet.txt"))
    assert r["char_write_kBps"] == 4379 and r["file_size_mb"] == 128


def test_2_00a_files_only():
    [r] = bonnie.parse(read_fixture("bonnie", "2.00a-files-only.csv"))
    assert r["file_size_mb"] is None and r["block_write_kBps"] is None
    assert r["seq_create_latency_us"] == 1076


def test_1_03e_public_lines():
    rows = bonnie.parse(read_fixture("bonnie", "1.03e-public.csv"))
    assert [r["name"] for r in rows] == ["raid0", "standard", "ubuntu", "",
                                         "yzh-desktop"]
    raid0 = rows[0]
    assert raid0["format"] == "1.03"
    assert raid0["file_size_mb"] == 2048
    assert raid0["char_write_kBps"] == 83720
    assert raid0["block_write_kBps"] == 813061
    assert raid0["rewrite_kBps"] == 1185231 and raid0["rewrite_cpu_pct"] == 100
    assert raid0["char_read_kBps"] == 84567
    assert raid0["block_read_kBps"] == 2828489
    assert raid0["seeks_per_s"] == 1187.5 and raid0["seeks_cpu_pct"] == 0
    assert raid0["seq_create_per_s"] is None
    assert not any(k.endswith("_latency_us") for k in raid0)  # 1.03 has none
    standard = rows[1]
    assert standard["char_write_kBps"] is None  # -f: not run
    assert standard["seq_create_per_s"] == 81 and standard["seq_stat_per_s"] is None
    assert standard["ran_delete_per_s"] == 115 and standard["ran_delete_cpu_pct"] == 0
    netbook = rows[3]
    assert netbook["seq_create_cpu_pct"] == 93 and netbook["ran_delete_per_s"] == 20590


def test_1_96_public_lines():
    rows = bonnie.parse(read_fixture("bonnie", "1.96-public.csv"))
    romano = rows[0]
    assert romano["format"] == "1.96" and romano["version"] == "1.96"
    assert romano["file_size_mb"] == 252 * 1024
    assert romano["char_write_kBps"] == 136
    assert romano["block_write_kBps"] == 590366
    assert romano["seeks_per_s"] == 161.6 and romano["seeks_cpu_pct"] == 16
    assert romano["seq_create_per_s"] == 14246
    assert romano["rewrite_latency_us"] == 1411000      # 1411ms
    assert romano["char_write_latency_us"] == 89204     # 89204us
    assert romano["ran_delete_latency_us"] == 120
    corei7 = rows[1]
    assert corei7["char_read_cpu_pct"] == 100 and corei7["seeks_cpu_pct"] == 160
    ako = rows[2]  # fast mode, no file tests
    assert ako["char_write_kBps"] is None and ako["block_write_kBps"] == 56561
    assert ako["seq_create_per_s"] is None and ako["num_files"] is None
    assert ako["block_write_latency_us"] == 5549000
    server = rows[3]
    assert server["num_files"] == "50" and server["seq_stat_per_s"] == 42859
    assert server["block_read_latency_us"] == 349000


def test_1_96_files_only_line_one_field_short_is_realigned():
    fslab3 = bonnie.parse(read_fixture("bonnie", "1.96-public.csv"))[-1]
    assert fslab3["name"] == "fslab3"
    assert fslab3["num_files"] == "60:32:32"
    assert fslab3["seq_create_per_s"] == 1702
    assert fslab3["ran_delete_per_s"] == 1266 and fslab3["ran_delete_cpu_pct"] == 3
    assert fslab3["seq_create_latency_us"] == 3874000
    assert fslab3["ran_delete_latency_us"] == 9627000


def test_1_97_public_lines():
    rows = bonnie.parse(read_fixture("bonnie", "1.97-public.csv"))
    assert len(rows) == 4
    nfs = rows[0]
    assert nfs["version"] == "1.97" and nfs["format"] == "1.96"
    assert nfs["char_write_kBps"] == 1113 and nfs["block_read_kBps"] == 271440
    assert nfs["seeks_per_s"] == 6863 and nfs["seeks_cpu_pct"] == 53
    assert nfs["seq_stat_per_s"] is None and "seq_stat_per_s" in nfs["too_fast"]
    assert nfs["block_write_latency_us"] == 801000
    assert rows[2]["file_size_mb"] == 8196


def test_every_metric_key_is_declared_with_a_direction():
    for fmt in (bonnie.FORMAT_103, bonnie.FORMAT_196, bonnie.FORMAT_198):
        for name in bonnie.metric_names(fmt):
            assert metrics.get(name).better in (metrics.HIGHER, metrics.LOWER)
    [r] = bonnie.parse(read_fixture("bonnie", "2.00a-full.csv"))
    assert set(bonnie.metric_names()) <= set(r)
    assert metrics.get("block_write_kBps").better == metrics.HIGHER
    assert metrics.get("block_write_cpu_pct").better == metrics.LOWER
    assert metrics.get("block_write_latency_us").better == metrics.LOWER


LINE = read_fixture("bonnie", "2.00a-full.csv").strip()


@pytest.mark.parametrize("text, message", [
    ("", "no bonnie++ CSV result line"),
    ("Writing a byte at a time...done\n", "no bonnie++ CSV result line"),
    (LINE[:len(LINE) // 2], "fields"),                       # truncated
    (LINE.replace("456374", "45x374"), "put_block is '45x374'"),
    (LINE.replace("4741us", "4741 parsecs"), "put_block_latency"),
    (LINE.replace("512M", "512Q"), "file size"),
    (LINE.replace("1.98,", "abc,", 1), "format version"),
    (LINE.replace(",99,", ",-5,", 1), "negative"),
    ("a,b,c," * 9, "fields"),
    (LINE.replace("456374", "nan"), "put_block is 'nan'"),
    (LINE.replace("456374", "inf"), "put_block is 'inf'"),
    (",".join(["1.97"] * 48), "putc_latency is '1.97'"),
])
def test_malformed_input_raises_parse_error_naming_the_line(text, message):
    with pytest.raises(exceptions.ParseError) as e:
        bonnie.parse(text)
    assert message in str(e.value)
    assert isinstance(e.value, ValueError)
    if text.strip():
        assert "line" in str(e.value) or "found" in str(e.value)


@pytest.mark.parametrize("value", [None, b"1.98,2.00a", 42])
def test_non_text_raises_parse_error_only(value):
    with pytest.raises(exceptions.ParseError):
        bonnie.parse(value)


def test_build_command_defaults_to_twice_the_ram():
    argv = bonnie.build_command("/var/lib/nova/instances",
                                bonnie.Options(user="root"),
                                machine_ram_mb=2048)
    assert argv == ["bonnie++", "-d", "/var/lib/nova/instances", "-s", "4096",
                    "-r", "2048", "-u", "root", "-q"]


def test_build_command_all_options():
    argv = bonnie.build_command("/data", bonnie.Options(
        size_mb=8192, ram_mb=4096, files="16:100000:16:64", user="nobody",
        machine_name="vm-1", fast=True, chunk_size=8192, extra_args=["-b"]))
    assert argv == ["bonnie++", "-d", "/data", "-s", "8192:8192", "-r", "4096",
                    "-n", "16:100000:16:64", "-u", "nobody", "-m", "vm-1",
                    "-f", "-q", "-b"]


def test_size_below_twice_ram_is_refused_unless_forced():
    with pytest.raises(exceptions.InvalidArgument) as e:
        bonnie.build_command("/data", bonnie.Options(size_mb=64),
                             machine_ram_mb=2048)
    assert "twice the RAM" in str(e.value) and "4096" in str(e.value)
    argv = bonnie.build_command("/data", bonnie.Options(size_mb=64,
                                                        force=True),
                                machine_ram_mb=2048)
    # bonnie++ itself refuses size < 2 x -r, so it is told half the size
    assert argv[argv.index("-s") + 1] == "64" and argv[argv.index("-r") + 1] == "32"


@pytest.mark.parametrize("kwargs, message", [
    ({"directory": "relative/dir", "size_mb": 10, "force": True}, "absolute"),
    ({"directory": "/d"}, "RAM is unknown"),
    ({"directory": "/d", "size_mb": -1, "force": True}, "size_mb"),
    ({"directory": "/d", "size_mb": 1.5, "force": True}, "size_mb"),
    ({"directory": "/d", "size_mb": 64, "force": True, "files": "1; rm -rf /"},
     "files"),
    ({"directory": "/d", "size_mb": 64, "force": True, "user": "-x"}, "user"),
    ({"directory": "/d", "size_mb": 64, "force": True, "chunk_size": 1000},
     "power of two"),
    ({"directory": "/d", "size_mb": 64, "force": True, "machine_name": "a b"},
     "machine_name"),
])
def test_build_command_rejects_bad_arguments(kwargs, message):
    with pytest.raises(exceptions.InvalidArgument) as e:
        directory = kwargs.pop("directory")
        bonnie.build_command(directory, bonnie.Options(**kwargs))
    assert message in str(e.value)


def test_error_line_of_a_failed_run_is_bonnies_complaint():
    """bonnie++ prints its error, then its usage, then its version: the
    message must carry the error, not "Version: 2.00a"."""
    stderr = read_fixture("bonnie", "2.00a-bad-directory.stderr")
    assert stderr.strip().endswith("Version: 2.00a")
    assert exceptions.last_line(stderr) == \
        'Can\'t change to directory "/var/tmp/nonexist".'
    err = exceptions.CommandFailed("vm-1", "bonnie++", 1, stderr)
    assert 'Can\'t change to directory "/var/tmp/nonexist"' in str(err)
    assert exceptions.last_line("a\nb\n") == "b"
    assert exceptions.last_line("usage: x\n") == "usage: x"


def test_metrics_keep_too_fast_as_none_and_drop_what_did_not_run(
        fixture_text):
    """"+++++" stays a None (unmeasurable: never averaged away); a test
    bonnie++ did not run (-f: per-char, -n 0: file tests) is absent."""
    values, _ = outputs.parse_metrics(
        "bonnie++", fixture_text("bonnie", "2.00a-fast.csv"))
    assert "block_write_kBps" in values and values["block_write_kBps"] is None
    assert "char_write_kBps" not in values
    assert "seq_create_per_s" not in values
    assert values["block_write_latency_us"] == 1291.0


def test_direct_io_without_fast_mode_is_refused_naming_why():
    # bonnie++'s per-character tests write a byte at a time, which O_DIRECT
    # refuses: 2.00a ended every such run with "Can't write() - disk full?"
    with pytest.raises(exceptions.InvalidArgument, match="-D .*fast mode"):
        bonnie.build_command("/var/tmp", bonnie.Options(size_mb=64,
                                                        extra_args=["-D"]))
    argv = bonnie.build_command("/var/tmp", bonnie.Options(
        size_mb=64, fast=True, extra_args=["-D"]))
    assert argv[-2:] == ["-q", "-D"] and "-f" in argv
    assert "-D" not in bonnie.build_command("/var/tmp",
                                            bonnie.Options(size_mb=64))
