"""Print, as JSON, everything a task could leave behind in the local cloud,
cloud-wide, as {kind: {id: owning project ID or null}}: run inside its
namespace with its admin openrc (`cloud.sh exec python cloud_resources.py`).
One process, one token, Python's standard library (tools/aio/api.py):
openstacksdk's import alone cost 2 s of CPU, and this runs twice per task.
"""

import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(
    os.path.dirname(os.path.abspath(__file__)))), "tools", "aio"))
import api  # noqa: E402  (tools/aio/api.py)

NOVA, NEUTRON, GLANCE, KEYSTONE, CINDER = 8774, 9696, 9292, 5000, 8776


def main():
    tok = api.token()

    def get(port, path, key):
        return api.get(tok, port, path)[key]

    projects = {p["id"]: None for p in get(KEYSTONE, "/v3/projects",
                                           "projects")}
    # every flavor, private ones included (is_public=None: all)
    flavors = {f["id"]: None for f in get(
        NOVA, "/v2.1/flavors?is_public=None", "flavors")}
    # neutron creates a project's "default" group when the project first
    # talks to it (the service project, on a new cloud, during the first
    # boot): not the task's. One in a project that is gone is a leak.
    groups = {g["id"]: g["project_id"] for g in get(
        NEUTRON, "/v2.0/security-groups", "security_groups")
        if not (g["name"] == "default" and g["project_id"] in projects)}
    images, path = {}, "/v2/images?limit=1000"
    while path:    # glance pages its list
        page = api.get(tok, GLANCE, path)
        images.update({i["id"]: None for i in page["images"]})
        path = page.get("next")
    # neutron's resources, each by its owning project; networks, subnets
    # and routers: Rally's network context makes one of each per project
    owned = {kind: {r["id"]: r["project_id"] for r in get(
        NEUTRON, "/v2.0/" + key, key)} for kind, key in (
        ("ports", "ports"), ("floating ips", "floatingips"),
        ("networks", "networks"), ("subnets", "subnets"),
        ("routers", "routers"))}
    print(json.dumps({
        **owned,
        "servers": {s["id"]: s["tenant_id"] for s in get(
            NOVA, "/v2.1/servers/detail?all_tenants=1", "servers")},
        "flavors": flavors,
        "security groups": groups,
        "images": images,
        "projects": projects,
        "users": {u["id"]: None for u in get(KEYSTONE, "/v3/users",
                                             "users")},
        # every project's volumes (the project is an admin's attribute)
        "volumes": {v["id"]: v["os-vol-tenant-attr:tenant_id"] for v in get(
            CINDER, "/v3/volumes/detail?all_tenants=1", "volumes")},
        # project_id is in the server group's view from microversion 2.13
        "server groups": {g["id"]: g["project_id"] for g in api.get(
            tok, NOVA, "/v2.1/os-server-groups?all_projects=True",
            {"OpenStack-API-Version": "compute 2.13"})["server_groups"]},
    }))


if __name__ == "__main__":
    main()
