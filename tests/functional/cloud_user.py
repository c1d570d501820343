"""A project and a member user of the local cloud for one pytest module's
Rally environment (`cloud.sh exec python cloud_user.py ...`, admin openrc):

    create NAME             print {"project_id", "user_id", "username",
                            "password", "project_name"} as JSON
    delete PROJECT_ID USER_ID
                            the user, the project, and the "default" security
                            group neutron made for the project

The environment's existing user stands in for Rally's users context, which
creates and deletes a project and a user for every workload and again for
every task's validation (about 35 s per task here). The leak check then
blames whatever a task left in this project (tests/functional/aio.py).
"""

import json
import secrets
import sys

import openstack


def create(conn, name):
    project = conn.identity.create_project(name=name, domain_id="default")
    password = secrets.token_urlsafe(18)
    user = conn.identity.create_user(name=name, password=password,
                                     domain_id="default",
                                     default_project_id=project.id)
    role = conn.identity.find_role("member") or conn.identity.find_role(
        "_member_")
    conn.identity.assign_project_role_to_user(project, user, role)
    return {"project_id": project.id, "user_id": user.id, "username": name,
            "password": password, "project_name": name}


def delete(conn, project_id, user_id):
    for group in conn.network.security_groups(project_id=project_id):
        conn.network.delete_security_group(group, ignore_missing=True)
    conn.identity.delete_user(user_id, ignore_missing=True)
    conn.identity.delete_project(project_id, ignore_missing=True)


def main(argv):
    conn = openstack.connect()
    if len(argv) == 2 and argv[0] == "create":
        print(json.dumps(create(conn, argv[1])))
    elif len(argv) == 3 and argv[0] == "delete":
        delete(conn, argv[1], argv[2])
    else:
        sys.exit("usage: cloud_user.py create NAME | delete PROJECT USER")


if __name__ == "__main__":
    main(sys.argv[1:])
