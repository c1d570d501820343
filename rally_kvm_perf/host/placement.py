"""Ask placement which compute hosts can give dedicated CPUs (PCPU)."""

PLACEMENT = {"service_type": "placement", "interface": "public"}
# PCPU inventory needs placement microversion >= 1.0; resource providers
# and inventories exist since 1.0
HEADERS = {"OpenStack-API-Version": "placement 1.6"}


def pcpu_hosts(session):
    """Names of resource providers with PCPU inventory.

    :param session: a keystoneauth1 session (or anything with
        ``get(url, endpoint_filter=..., headers=...)`` returning a response
        with ``json()``)
    :returns: {provider name: PCPU total}
    """
    providers = session.get("/resource_providers", endpoint_filter=PLACEMENT,
                            headers=HEADERS).json()["resource_providers"]
    hosts = {}
    for rp in providers:
        inventories = session.get(
            "/resource_providers/%s/inventories" % rp["uuid"],
            endpoint_filter=PLACEMENT, headers=HEADERS).json()["inventories"]
        pcpu = inventories.get("PCPU")
        if pcpu and pcpu.get("total", 0) - pcpu.get("reserved", 0) > 0:
            hosts[rp["name"]] = pcpu["total"] - pcpu.get("reserved", 0)
    return hosts
