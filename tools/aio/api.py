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
    api.py volume-up           exit 0 when a cinder-volume backend is up
    api.py agent-alive-on TYPE HOST   the same, of compute host HOST
    api.py hypervisor-up NAME  exit 0 when nova lists hypervisor NAME, up
    api.py forget-host NAME    delete the nova-compute service and the
                               neutron agents of compute host NAME
    api.py health              print each enabled nova or cinder service
                               that is down and each neutron agent that is
                               not alive (they missed their reports: dead,
                               or blocked); exit 1 if any
    api.py cpu-inventory [HOST]
                               print placement's PCPU/VCPU totals of each
                               resource provider (of compute host HOST
                               only), e.g. "PCPU=1 VCPU=1"
    api.py catalog NAME:TYPE:PORT[/PATH]...
                               keystone's service project, and for each
                               service its user (password from
                               AIO_SERVICE_PASS, never on a command line,
                               admin and service in project service), its
                               service entry
                               and its public, internal and admin endpoints
                               http://127.0.0.1:PORT[/PATH]; what exists is
                               kept (about 45 openstack calls, 90 s of CPU)
"""

import json
import os
import sys
import urllib.error
import urllib.parse
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


def send(tok, method, url, body=None, headers=None):
    req = urllib.request.Request(
        url, method=method, data=None if body is None else json.dumps(
            body).encode(),
        headers=dict({"X-Auth-Token": tok,
                      "Content-Type": "application/json"}, **(headers or {})))
    with urllib.request.urlopen(req, timeout=30) as resp:
        text = resp.read()
    return json.loads(text) if text else None


def catalog(tok, specs):
    keystone = os.environ["OS_AUTH_URL"].rstrip("/")
    region = os.environ.get("OS_REGION_NAME", "RegionOne")

    def find(kind, query):
        return send(tok, "GET", "%s/%s?%s" % (
            keystone, kind, urllib.parse.urlencode(query)))[kind]

    def ensure(kind, query, body):
        found = find(kind, query)
        if found:
            return found[0]
        return send(tok, "POST", "%s/%s" % (keystone, kind),
                    {kind[:-1]: body})[kind[:-1]]

    project = ensure("projects", {"name": "service"},
                     {"name": "service", "domain_id": "default"})
    [admin] = find("roles", {"name": "admin"})
    # what a service's token carries when it acts for a user (nova's
    # service token to cinder): keystone's usual "service" role
    service_role = ensure("roles", {"name": "service"}, {"name": "service"})
    for spec in specs:
        name, kind, port = spec.split(":", 2)
        user = ensure("users", {"name": name}, {
            "name": name, "domain_id": "default",
            "password": os.environ["AIO_SERVICE_PASS"]})
        for role in (admin, service_role):
            send(tok, "PUT", "%s/projects/%s/users/%s/roles/%s" % (
                keystone, project["id"], user["id"], role["id"]))
        service = ensure("services", {"type": kind},
                         {"name": name, "type": kind})
        for iface in ("public", "internal", "admin"):
            ensure("endpoints", {"service_id": service["id"],
                                 "interface": iface},
                   {"service_id": service["id"], "interface": iface,
                    "region_id": region, "url": "%s:%s" % (API, port)})


# service IDs are UUIDs (and deleting one deletes its compute node and
# resource provider) from compute API 2.53
COMPUTE_253 = {"OpenStack-API-Version": "compute 2.53"}


def hypervisor_up(tok, name):
    """The hypervisor ``name`` is listed, and its compute service is up."""
    return any(h["hypervisor_hostname"] == name and h["state"] == "up"
               for h in get(tok, 8774, "/v2.1/os-hypervisors/detail",
                            COMPUTE_253)["hypervisors"])


def forget_host(tok, name):
    """Delete the nova-compute service and the neutron agents of the
    compute host ``name`` (a node that is not coming back). Returns 1 if
    one could not be deleted (nova refuses while servers are on it)."""
    rc = 0
    for svc in get(tok, 8774, "/v2.1/os-services?binary=nova-compute&host="
                   + urllib.parse.quote(name), COMPUTE_253)["services"]:
        try:
            send(tok, "DELETE", "%s:8774/v2.1/os-services/%s"
                 % (API, svc["id"]), headers=COMPUTE_253)
            print("deleted the nova-compute service of %s" % name)
        except urllib.error.HTTPError as e:
            print("cannot delete the nova-compute service of %s: %s %s"
                  % (name, e, e.read()[:300]))
            rc = 1
    for agent in get(tok, 9696, "/v2.0/agents?host="
                     + urllib.parse.quote(name))["agents"]:
        send(tok, "DELETE", "%s:9696/v2.0/agents/%s" % (API, agent["id"]))
        print("deleted the neutron %s of %s" % (agent["agent_type"], name))
    return rc


def health(tok):
    """Lines naming every service that stopped reporting; [] when none."""
    sick = []
    for port, path in ((8774, "/v2.1/os-services"),
                       (8776, "/v3/os-services")):
        for svc in get(tok, port, path)["services"]:
            if svc["status"] == "enabled" and svc["state"] != "up":
                sick.append("%s on %s is down since %s (it stopped "
                            "reporting: dead, or blocked)" % (
                                svc["binary"], svc["host"],
                                svc["updated_at"]))
    for agent in get(tok, 9696, "/v2.0/agents")["agents"]:
        if agent["admin_state_up"] and not agent["alive"]:
            sick.append("neutron %s on %s is not alive (last heartbeat %s)"
                        % (agent["agent_type"], agent["host"],
                           agent["heartbeat_timestamp"]))
    return sick


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
    if what == "agent-alive-on" and len(argv) == 3:
        agents = get(tok, 9696, "/v2.0/agents?host="
                     + urllib.parse.quote(argv[2]))["agents"]
        return 0 if any(a["agent_type"] == argv[1] and a["alive"]
                        for a in agents) else 1
    if what == "hypervisor-up" and len(argv) == 2:
        return 0 if hypervisor_up(tok, argv[1]) else 1
    if what == "forget-host" and len(argv) == 2:
        return forget_host(tok, argv[1])
    if what == "volume-up":
        # cinder-volume's backend (not only the service) reports itself up
        found = get(tok, 8776, "/v3/os-services?binary=cinder-volume")
        return 0 if any(s["state"] == "up" and s["status"] == "enabled"
                        for s in found["services"]) else 1
    if what == "catalog" and len(argv) > 1:
        catalog(tok, argv[1:])
        return 0
    if what == "health":
        sick = health(tok)
        for line in sick:
            print(line)
        return 1 if sick else 0
    if what == "cpu-inventory" and len(argv) <= 2:
        version = {"OpenStack-API-Version": "placement 1.10"}
        path = "/resource_providers"
        if len(argv) == 2:
            path += "?name=" + urllib.parse.quote(argv[1])
        for rp in get(tok, 8778, path, version)["resource_providers"]:
            inv = get(tok, 8778, "/resource_providers/%s/inventories"
                      % rp["uuid"], version)["inventories"]
            print(" ".join("%s=%s" % (rc, inv[rc]["total"])
                           for rc in ("PCPU", "VCPU") if rc in inv))
        return 0
    sys.exit(__doc__)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
