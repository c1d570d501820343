"""What tools/aio/cloud.sh waits for, asked of the APIs directly (Python's
standard library, one token): `openstack` costs about 2 s of CPU per call
(its plugins load), and `up` polls each second while the machine is busy
starting everything else. Run in the cloud's namespace with the openrc's
OS_* variables:

    api.py token               exit 0 when keystone gives a token
    api.py compute-up          exit 0 when a nova-compute service is up
    api.py hypervisors         exit 0 when nova lists a hypervisor
    api.py agent-alive TYPE    exit 0 when neutron's TYPE agent is alive
                               ("Linux bridge agent", "DHCP agent", ...)
    api.py cpu-inventory       print placement's PCPU/VCPU totals of each
                               resource provider, e.g. "PCPU=1 VCPU=1"
"""

import json
import os
import sys
import urllib.request

API = "http://127.0.0.1"


def token():
    env = os.environ
    body = {"auth": {
        "identity": {"methods": ["password"], "password": {"user": {
            "name": env["OS_USERNAME"], "password": env["OS_PASSWORD"],
            "domain": {"name": env.get("OS_USER_DOMAIN_NAME", "Default")}}}},
        "scope": {"project": {
            "name": env["OS_PROJECT_NAME"],
            "domain": {"name": env.get("OS_PROJECT_DOMAIN_NAME",
                                       "Default")}}}}}
    req = urllib.request.Request(
        env["OS_AUTH_URL"].rstrip("/") + "/auth/tokens",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        return resp.headers["X-Subject-Token"]


def get(tok, port, path, headers=None):
    req = urllib.request.Request("%s:%d%s" % (API, port, path), headers=dict(
        {"X-Auth-Token": tok}, **(headers or {})))
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.load(resp)


def main(argv):
    if not argv:
        sys.exit(__doc__)
    tok = token()
    what = argv[0]
    if what == "token":
        return 0
    if what == "compute-up":
        found = get(tok, 8774, "/v2.1/os-services?binary=nova-compute")
        return 0 if any(s["state"] == "up" for s in found["services"]) else 1
    if what == "hypervisors":
        return 0 if get(tok, 8774, "/v2.1/os-hypervisors")[
            "hypervisors"] else 1
    if what == "agent-alive" and len(argv) == 2:
        agents = get(tok, 9696, "/v2.0/agents")["agents"]
        return 0 if any(a["agent_type"] == argv[1] and a["alive"]
                        for a in agents) else 1
    if what == "cpu-inventory":
        version = {"OpenStack-API-Version": "placement 1.10"}
        for rp in get(tok, 8778, "/resource_providers",
                      version)["resource_providers"]:
            inv = get(tok, 8778, "/resource_providers/%s/inventories"
                      % rp["uuid"], version)["inventories"]
            print(" ".join("%s=%s" % (rc, inv[rc]["total"])
                           for rc in ("PCPU", "VCPU") if rc in inv))
        return 0
    sys.exit(__doc__)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
