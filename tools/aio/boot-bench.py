"""How long the local cloud takes to boot servers: for 1 and for 2 servers
created at once (each count a round of its own), the seconds from `server
create` to ACTIVE and from `server create` until the guest's sshd answers
on port 22, per server, on a warm image cache (a first, untimed boot puts
the image in nova's _base), and the CPU seconds its qemu process had spent
by then (under TCG a boot is CPU work: what a CI run pays per server). A
benchmark, not a test: it prints figures.

    bash tools/aio/cloud.sh exec /usr/bin/python3 tools/aio/boot-bench.py [COUNT ...]

Runs inside the cloud's namespace with the admin openrc (cloud.sh exec):
the guests' addresses are reachable only there. Everything it creates (a
flavor, a security group, the servers) is deleted before it exits, also
when a boot fails.
"""

import argparse
import os
import socket
import sys
import time
import uuid

import openstack

IMAGE = "debian-12-bonnie-netperf"   # tools/aio/lib.sh: AIO_IMAGE_NAME
NETWORK = "provider"


def wait_ssh(address, deadline):
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((address, 22), timeout=2) as sock:
                sock.settimeout(5)
                if sock.recv(4).startswith(b"SSH-"):
                    return time.monotonic()
        except OSError:
            time.sleep(0.5)
    return None


def qemu_cpu_seconds(instance_name):
    """user + system CPU seconds of the guest's qemu (libvirt's pid file)."""
    try:
        with open("/run/libvirt/qemu/%s.pid" % instance_name) as f:
            pid = int(f.read())
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except (OSError, ValueError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def boot_round(conn, count, flavor, image, network, group, timeout):
    """Boot count servers at once; [(create->ACTIVE, create->SSH, qemu
    CPU seconds at SSH)]."""
    servers = []
    try:
        for i in range(count):
            started = time.monotonic()
            server = conn.compute.create_server(
                name="kvm-perf-boot-bench-%d" % i, flavor_id=flavor.id,
                image_id=image.id, networks=[{"uuid": network.id}],
                security_groups=[{"name": group.name}])
            servers.append((server, started))
        deadline = time.monotonic() + timeout
        active = {}
        while len(active) < count and time.monotonic() < deadline:
            for server, _ in servers:
                if server.id in active:
                    continue
                now = conn.compute.get_server(server.id)
                if now.status == "ERROR":
                    raise RuntimeError("server %s went to ERROR: %s" % (
                        server.id, (now.fault or {}).get("message")))
                if now.status == "ACTIVE":
                    active[server.id] = (time.monotonic(), now)
            time.sleep(0.5)
        if len(active) < count:
            raise RuntimeError("%d of %d servers not ACTIVE after %d s"
                               % (count - len(active), count, timeout))
        out = []
        for server, started in servers:
            at, now = active[server.id]
            address = next(a["addr"] for addrs in now.addresses.values()
                           for a in addrs)
            ssh = wait_ssh(address, deadline)
            cpu = qemu_cpu_seconds(now.instance_name)
            out.append((at - started, None if ssh is None
                        else ssh - started, cpu))
        return out
    finally:
        for server, _ in servers:
            conn.compute.delete_server(server, ignore_missing=True)
        for server, _ in servers:
            conn.compute.wait_for_delete(server, wait=300)


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("counts", nargs="*", type=int, default=[1, 2],
                        help="servers booted at once, a round each "
                        "(default: 1 2)")
    parser.add_argument("--image", default=IMAGE)
    parser.add_argument("--network", default=NETWORK)
    parser.add_argument("--timeout", type=int, default=600,
                        help="seconds a round may take (default 600)")
    args = parser.parse_args(argv)
    if not args.counts or min(args.counts) < 1:
        parser.error("each COUNT must be at least 1")
    conn = openstack.connect()
    image = conn.image.find_image(args.image, ignore_missing=False)
    network = conn.network.find_network(args.network, ignore_missing=False)
    tag = uuid.uuid4().hex[:8]
    flavor = conn.compute.create_flavor(name="kvm-perf-boot-bench-" + tag,
                                        vcpus=1, ram=512, disk=3,
                                        is_public=False)
    group = conn.network.create_security_group(
        name="kvm-perf-boot-bench-" + tag)
    try:
        conn.network.create_security_group_rule(
            security_group_id=group.id, direction="ingress", protocol="tcp",
            port_range_min=22, port_range_max=22, ether_type="IPv4")
        # warm-up, untimed: the image into nova's _base cache
        boot_round(conn, 1, flavor, image, network, group, args.timeout)
        print("servers  create->ACTIVE (s)   create->sshd answers (s)   "
              "qemu CPU by then (s)")
        for count in args.counts:
            times = boot_round(conn, count, flavor, image, network, group,
                               args.timeout)
            print("%7d  %-20s %-26s %s" % (
                count, " ".join("%.1f" % a for a, _, _ in times),
                " ".join("never" if s is None else "%.1f" % s
                         for _, s, _ in times),
                " ".join("?" if c is None else "%.1f" % c
                         for _, _, c in times)))
            sys.stdout.flush()
    finally:
        conn.network.delete_security_group(group, ignore_missing=True)
        conn.compute.delete_flavor(flavor, ignore_missing=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
