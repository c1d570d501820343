"""Print, as JSON, everything a task could leave behind in the local cloud,
cloud-wide, as {kind: {id: owning project ID or null}}: run inside its
namespace with its admin openrc (`cloud.sh exec python cloud_resources.py`).
One process and one token instead of eight `openstack` commands (about 45 s
on this machine under load, twice per task).
"""

import json

import openstack


def main():
    conn = openstack.connect()
    owned = lambda items: {x.id: x.project_id for x in items}  # noqa: E731
    unowned = lambda items: {x.id: None for x in items}  # noqa: E731
    projects = unowned(conn.identity.projects())
    # every flavor, private ones included (is_public=None: all)
    flavors = {f["id"]: None for f in conn.compute.get(
        "/flavors?is_public=None").json()["flavors"]}
    # neutron creates a project's "default" group when the project first
    # talks to it (the service project, on a new cloud, during the first
    # boot): not the task's. One in a project that is gone is a leak.
    groups = {g.id: g.project_id for g in conn.network.security_groups()
              if not (g.name == "default" and g.project_id in projects)}
    print(json.dumps({
        "servers": owned(conn.compute.servers(all_projects=True)),
        "ports": owned(conn.network.ports()),
        "floating ips": owned(conn.network.ips()),
        "flavors": flavors,
        "security groups": groups,
        "images": unowned(conn.image.images()),
        "projects": projects,
        "users": unowned(conn.identity.users()),
        "server groups": owned(conn.compute.server_groups(
            all_projects=True)),
    }))


if __name__ == "__main__":
    main()
