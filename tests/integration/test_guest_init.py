"""tools/aio/guest-init.sh, the guest image's init, run for real here on a
directory standing in for the guest's root: the metadata from a config
drive or from a metadata service (a real HTTP server on loopback), the
instance's SSH key, a host key per instance kept across reboots, the
DNS servers of systemd-networkd's DHCP lease in resolv.conf, and, with no
metadata anywhere, the console line that the sweep's evidence reads as
such.
"""

import http.server
import json
import os
import shutil
import subprocess
import threading

import pytest

from rally_kvm_perf.sweep import console

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
INIT = os.path.join(ROOT, "tools", "aio", "guest-init.sh")
KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE8l2Vx7aWd0ZXN0a2V5 rally"

pytestmark = pytest.mark.skipif(
    not all(shutil.which(p) for p in ("jq", "curl", "ssh-keygen")),
    reason="needs jq, curl and ssh-keygen (tools/install.sh)")


def meta(uuid="1b4e28ba-2fa1-11d2-883f-0016d3cca427", name="s-rally-1"):
    return {"uuid": uuid, "hostname": name + ".novalocal", "name": name,
            "public_keys": {"rally_key": KEY}}


@pytest.fixture
def guest(tmp_path):
    """A guest's root: passwd with the login user, hosts."""
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    (root / "etc/passwd").write_text(
        "root:x:0:0:root:/root:/bin/bash\n"
        "debian:x:%d:%d::/home/debian:/bin/bash\n" % (os.getuid(),
                                                      os.getgid()))
    (root / "etc/hosts").write_text("127.0.0.1\tlocalhost\n"
                                    "127.0.1.1\tkvm-perf-guest\n")
    return root


def run(guest, phase, drive=None, url="http://127.0.0.1:9/none", wait=0):
    env = dict(os.environ, KVM_PERF_GUEST_ROOT=str(guest),
               KVM_PERF_METADATA_URL=url, KVM_PERF_METADATA_WAIT=str(wait),
               KVM_PERF_GROW="0", KVM_PERF_CONFIG_DRIVE=str(drive or
                                                           guest / "none"))
    return subprocess.run(["sh", INIT, phase], env=env, capture_output=True,
                          text=True, timeout=60)


def drive_with(tmp_path, doc):
    drive = tmp_path / "config-2"
    (drive / "openstack/latest").mkdir(parents=True, exist_ok=True)
    (drive / "openstack/latest/meta_data.json").write_text(json.dumps(doc))
    return drive


def host_key(guest):
    return (guest / "etc/ssh/ssh_host_ed25519_key.pub").read_text()


def test_config_drive_gives_key_name_and_host_key(guest, tmp_path):
    proc = run(guest, "local", drive_with(tmp_path, meta()))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    keys = guest / "home/debian/.ssh/authorized_keys"
    assert keys.read_text() == KEY + "\n"
    assert oct(keys.stat().st_mode & 0o777) == "0o600"
    assert (guest / "etc/hostname").read_text() == "s-rally-1\n"
    hosts = (guest / "etc/hosts").read_text()
    assert "127.0.1.1\ts-rally-1\n" in hosts and "kvm-perf-guest" not in hosts
    assert "localhost" in hosts
    # a real key, printed between the markers the console evidence reads
    pub = host_key(guest)
    assert pub.startswith("ssh-ed25519 ")
    assert ("-----BEGIN SSH HOST KEY KEYS-----\n%s-----END SSH HOST KEY "
            "KEYS-----" % pub) in proc.stdout
    # the net phase has nothing left to do
    net = run(guest, "net")
    assert net.returncode == 0 and net.stdout == "", net.stdout


def test_dns_servers_of_the_dhcp_lease_go_into_resolv_conf(guest,
                                                          tmp_path):
    """systemd-networkd keeps what DHCP gave in its lease files; without
    systemd-resolved nothing else writes resolv.conf. No DNS in any lease
    leaves the file alone."""
    (guest / "etc/resolv.conf").write_text("nameserver 192.0.2.53\n")
    leases = guest / "run/systemd/netif/leases"
    leases.mkdir(parents=True)
    (leases / "2").write_text("# This is private data. Do not parse.\n"
                              "ADDRESS=10.0.0.5\nROUTER=10.0.0.1\n")
    assert run(guest, "net").returncode == 1   # no metadata: said below
    assert (guest / "etc/resolv.conf").read_text() == \
        "nameserver 192.0.2.53\n"
    (leases / "3").write_text("ADDRESS=10.0.1.5\nDNS=10.0.1.2 10.0.1.3\n")
    assert run(guest, "local", drive_with(tmp_path, meta())).returncode == 0
    assert run(guest, "net").returncode == 0
    assert (guest / "etc/resolv.conf").read_text() == \
        "nameserver 10.0.1.2\nnameserver 10.0.1.3\n"


def test_a_reboot_keeps_the_host_key_a_new_instance_gets_its_own(guest,
                                                                 tmp_path):
    assert run(guest, "local", drive_with(tmp_path, meta())).returncode == 0
    first = host_key(guest)
    (guest / "run/kvm-perf-guest-init/done").unlink()   # /run is a tmpfs
    assert run(guest, "local", drive_with(tmp_path, meta())).returncode == 0
    assert host_key(guest) == first
    other = meta(uuid="6fa459ea-ee8a-3ca4-894e-db77e160355e", name="s-2")
    assert run(guest, "local", drive_with(tmp_path, other)).returncode == 0
    assert host_key(guest) != first
    assert (guest / "etc/hostname").read_text() == "s-2\n"
    assert (guest / "etc/hosts").read_text().count("127.0.1.1") == 1


class _Metadata(http.server.BaseHTTPRequestHandler):
    doc = None
    misses = 0          # answer 404 this many times first (service late)

    def do_GET(self):
        if self.path != "/openstack/latest/meta_data.json" or \
                type(self).misses > 0:
            type(self).misses -= 1
            self.send_error(404)
            return
        body = json.dumps(self.doc).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def metadata_service():
    _Metadata.doc = meta(name="from-the-service")
    _Metadata.misses = 2
    server = http.server.HTTPServer(("127.0.0.1", 0), _Metadata)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield "http://127.0.0.1:%d/openstack/latest" % server.server_port
    server.shutdown()


def test_no_config_drive_then_the_metadata_service(guest, metadata_service):
    local = run(guest, "local")
    assert local.returncode == 0, local.stdout + local.stderr
    assert not (guest / "home/debian/.ssh/authorized_keys").exists()
    # the service answers on the third try: the phase waits for it
    net = run(guest, "net", url=metadata_service, wait=20)
    assert net.returncode == 0, net.stdout + net.stderr
    assert "metadata from %s" % metadata_service in net.stdout
    assert (guest / "home/debian/.ssh/authorized_keys").read_text() == \
        KEY + "\n"
    assert (guest / "etc/hostname").read_text() == "from-the-service\n"


def test_no_metadata_anywhere_is_said_on_the_console(guest):
    assert run(guest, "local").returncode == 0
    net = run(guest, "net", wait=2)
    assert net.returncode == 1
    assert "No datasource found" in net.stdout, net.stdout
    # sshd can still start (a host key), so the console's verdict is the
    # missing metadata, not a failed sshd
    assert host_key(guest).startswith("ssh-ed25519 ")
    assert "could not fetch its metadata" in console.diagnose(net.stdout)


def test_a_root_without_etc_hosts_gets_one(guest, tmp_path):
    """debootstrap's minbase writes no /etc/hosts: sudo must still resolve
    the instance's own name."""
    (guest / "etc/hosts").unlink()
    assert run(guest, "local", drive_with(tmp_path, meta())).returncode == 0
    assert (guest / "etc/hosts").read_text() == "127.0.1.1\ts-rally-1\n"


def test_metadata_without_a_key_says_nobody_can_log_in(guest, tmp_path):
    doc = dict(meta(), public_keys={})
    proc = run(guest, "local", drive_with(tmp_path, doc))
    assert proc.returncode == 0
    assert "the metadata has no SSH key: nobody can log in" in proc.stdout
    assert (guest / "home/debian/.ssh/authorized_keys").read_text() == ""
    # two keys: both, a line each
    doc = dict(meta(), public_keys={"a": KEY, "b": KEY.replace("rally",
                                                                "other")})
    assert run(guest, "local", drive_with(tmp_path, doc)).returncode == 0
    assert (guest / "home/debian/.ssh/authorized_keys").read_text() == \
        "%s\n%s\n" % (KEY, KEY.replace("rally", "other"))


def test_metadata_that_is_not_json_fails(guest, tmp_path):
    drive = tmp_path / "bad"
    (drive / "openstack/latest").mkdir(parents=True)
    (drive / "openstack/latest/meta_data.json").write_text("<html>")
    proc = run(guest, "local", drive)
    assert proc.returncode == 1
    assert "meta_data.json is not JSON" in proc.stdout
