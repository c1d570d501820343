"""Print, as JSON, the IDs of everything a task could leave behind in the
local cloud, cloud-wide: run inside its namespace with its admin openrc
(`cloud.sh exec python cloud_resources.py`). One process and one token
instead of eight `openstack` commands (about 45 s on this machine under
load, twice per task).
"""

import json

import openstack


def main():
    conn = openstack.connect()
    ids = lambda items: sorted(x.id for x in items)  # noqa: E731
    projects = ids(conn.identity.projects())
    # every flavor, private ones included (is_public=None: all)
    flavors = sorted(f["id"] for f in conn.compute.get(
        "/flavors?is_public=None").json()["flavors"])
    # neutron creates a project's "default" group when the project first
    # talks to it (the service project, on a new cloud, during the first
    # boot): not the task's. One in a project that is gone is a leak.
    groups = sorted(g.id for g in conn.network.security_groups()
                    if not (g.name == "default"
                            and g.project_id in projects))
    print(json.dumps({
        "servers": ids(conn.compute.servers(all_projects=True)),
        "ports": ids(conn.network.ports()),
        "floating ips": ids(conn.network.ips()),
        "flavors": flavors,
        "security groups": groups,
        "images": ids(conn.image.images()),
        "projects": projects,
        "users": ids(conn.identity.users()),
        "server groups": ids(conn.compute.server_groups(all_projects=True)),
    }))


if __name__ == "__main__":
    main()
