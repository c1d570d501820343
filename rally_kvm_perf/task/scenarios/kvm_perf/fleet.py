"""A sweep's servers: boot them once, check where they landed, delete them.

``Fleet`` boots the measured instances (and netperf's peer) all at once,
waits for ACTIVE, attaches floating IPs, looks up each compute host, checks
the placement asked for and the root volumes, and at the end deletes every
server, floating IP, volume and server group it made, saying what it could
not. Each server is an ``Instance`` whose fields say which stage filled
them; one that failed a stage carries ``error`` and is not measured, the
others are.
"""

import dataclasses
import time
import typing as t

from novaclient import api_versions as nova_api_versions
from rally.task import atomic
from rally.task import utils as task_utils

from rally_kvm_perf import exceptions
from rally_kvm_perf import opts
from rally_kvm_perf.analysis import levels as analysis
from rally_kvm_perf.sweep import engine
from rally_kvm_perf.sweep import plan as plan_mod
from rally_kvm_perf.task.contexts import common
from rally_kvm_perf.task.scenarios.kvm_perf import progress

CONF = opts.CONF
# nova's attribute listing a server's attached volumes
VOLUMES_ATTR = "os-extended-volumes:volumes_attached"
# nova's faults of a server its scheduler could not place: none found at
# once, or (two boots racing for one host) compute's late check of the
# group's policy rescheduled it until no host was left
UNPLACEABLE = ("no valid host", "exhausted all hosts",
               "group policy was violated")
# how often a root volume is looked for after its server was deleted
VOLUME_POLL_S = 5


def fault(server: t.Any) -> t.Optional[str]:
    """nova's fault message of a fetched server, or None."""
    found = getattr(server, "fault", None) or {}
    return (found.get("message") if isinstance(found, dict)
            else str(found)) or None


def unplaceable(message: t.Optional[str]) -> bool:
    return any(m in (message or "").lower() for m in UNPLACEABLE)


def _create_server_group(nova, name, policy):
    """nova's server group API took a list of policies until 2.64, one
    policy since."""
    version = getattr(nova, "api_version", None)
    if version is not None and not version.is_null() and \
            version >= nova_api_versions.APIVersion("2.64"):
        return nova.server_groups.create(name=name, policy=policy)
    return nova.server_groups.create(name=name, policies=[policy])


@dataclasses.dataclass
class Instance:
    """One server of the sweep, filled stage by stage."""

    server: t.Any                         # create; refreshed once ACTIVE
    peer: bool = False                    # netperf's netserver "peer"
    error: t.Optional[str] = None         # why it is not measured
    fip: t.Optional[dict] = None          # floating IP {id, ip}, if any
    ip: t.Optional[str] = None            # the address SSH uses
    fixed_ip: t.Optional[str] = None      # its port's address
    hypervisor: t.Optional[str] = None    # compute host (admins only)
    volumes: t.List[str] = dataclasses.field(default_factory=list)
    target: t.Optional[engine.Target] = None   # guests.Guests.connect

    @property
    def name(self) -> str:
        return self.server.name


class Fleet:
    """The servers of one sweep iteration; ``notes`` collects what the
    report must say about them."""

    def __init__(self, scenario, plan: plan_mod.Plan, notes: t.List[str]):
        self.sc = scenario
        self.plan = plan
        self.notes = notes
        self.instances: t.List[Instance] = []
        self.server_group: t.Any = None
        self.hypervisor_errors: t.Dict[str, str] = {}

    @property
    def measured(self) -> t.List[Instance]:
        return [i for i in self.instances if not i.peer]

    @property
    def peers(self) -> t.List[Instance]:
        return [i for i in self.instances if i.peer]

    def usable(self) -> t.List[Instance]:
        return [i for i in self.instances if i.error is None]

    # -- boot --

    def _kwargs(self) -> t.Tuple[dict, dict]:
        """nova's create arguments: (outside the group, in the group)."""
        args = self.plan.args
        kwargs = dict(args.boot_kwargs or {})
        kwargs.setdefault("key_name",
                          self.sc.context["user"]["keypair"]["name"])
        if args.availability_zone:
            kwargs["availability_zone"] = args.availability_zone
        grouped = dict(kwargs)
        policy = plan_mod.PLACEMENTS[args.placement]
        if policy:
            # recorded at once: cleanup deletes it whatever happens next
            self.server_group = _create_server_group(
                self.sc.clients("nova"), self.sc.generate_random_name(),
                policy)
            grouped["scheduler_hints"] = dict(
                grouped.get("scheduler_hints") or {},
                group=self.server_group.id)
        return kwargs, grouped

    def boot(self, image: t.Any, flavor: t.Any) -> None:
        """Boot every server; the measured ones in a server group of the
        placement's policy; the peer in that group too for peer_placement
        same_host, or created once the measured ones have their hosts,
        with nova's different_host hint, for other_host."""
        args = self.plan.args
        count, placed = self.plan.boots, args.instances
        kwargs, grouped = self._kwargs()
        t0 = time.monotonic()
        # the peer waits for the measured instances' hosts: nova's
        # DifferentHostFilter only sees instances already placed
        now = placed if args.peer_placement == "other_host" else count
        with atomic.ActionTimer(self.sc, "kvm_perf.boot_%d_servers" % count):
            # create all first (nova boots them in parallel), then wait;
            # each is recorded at once so that cleanup finds it
            for i in range(now):
                in_group = i < placed or args.peer_placement == "same_host"
                self.instances.append(Instance(
                    self._create(image, flavor, grouped if in_group
                                 else kwargs), peer=i >= placed))
            progress.say("booting %d server(s): %s" % (now, ", ".join(
                i.name for i in self.instances)))
            active = self._wait_active(self.instances, 0, count, t0)
            if now < count:
                others = dict(kwargs, scheduler_hints=dict(
                    kwargs.get("scheduler_hints") or {},
                    different_host=[i.server.id for i in self.measured]))
                late = []
                for _ in range(now, count):
                    late.append(Instance(self._create(image, flavor, others),
                                         peer=True))
                    self.instances.append(late[-1])
                progress.say("booting the netserver peer(s) %s on another "
                             "host than the measured instances" % ", ".join(
                                 i.name for i in late))
                active = self._wait_active(late, active, count, t0)
        for instance in self.usable():
            self._address(instance)

    def _address(self, instance: Instance) -> None:
        """Its addresses, compute host and root volume, once ACTIVE."""
        server = instance.server
        network = list(server.networks)[0]
        instance.fixed_ip = server.addresses[network][0]["addr"]
        instance.ip = instance.fixed_ip
        if self.plan.args.use_floating_ip:
            # rally-openstack's helper returns {id, ip}; recorded at once,
            # so that cleanup deletes it whatever happens next
            instance.fip = dict(self.sc._attach_floating_ip(
                server, self.plan.args.floating_network), is_floating=True)
            instance.ip = instance.fip["ip"]
        instance.hypervisor = self._hypervisor(server)
        if self.plan.boot_volume:
            self._check_root_volume(instance)

    def _check_root_volume(self, instance: Instance) -> None:
        """Asked to boot from a volume: nova must list one attached, or
        the instance is not measured (its disk would be another one)."""
        server = instance.server
        try:
            current = self.sc.clients("nova").servers.get(server.id)
            attached = getattr(current, VOLUMES_ATTR, None) or []
        except Exception as e:
            attached, why = [], "cannot read it: %s" % e
        else:
            why = "nova lists no volume attached to it"
        instance.volumes = [v["id"] for v in attached
                            if isinstance(v, dict) and v.get("id")]
        if not instance.volumes:
            instance.error = (
                "%s: asked to boot from a volume, but %s: its root disk is "
                "not a volume, so it is not measured" % (server.name, why))

    def _wait_active(self, instances, active, count, t0) -> int:
        """Wait for each server to be ACTIVE; one that is not has that as
        its error. Returns how many are ACTIVE so far."""
        for instance in instances:
            try:
                instance.server = task_utils.wait_for_status(
                    instance.server, ready_statuses=["ACTIVE"],
                    update_resource=task_utils.get_from_manager(),
                    timeout=CONF.openstack.nova_server_boot_timeout,
                    check_interval=(
                        CONF.openstack.nova_server_boot_poll_interval))
                active += 1
                progress.say("server %s ACTIVE (%d of %d, %.0f s)" % (
                    instance.name, active, count, time.monotonic() - t0))
            except Exception as e:
                # nova's own reason (e.g. "No valid host was found"): Rally
                # puts it in the error only when the first poll already
                # saw ERROR (its get_from_manager() checks a generator of
                # error statuses that the first poll used up)
                why = self.server_fault(instance.server)
                instance.error = "%s never became ACTIVE: %s%s" % (
                    instance.name, e,
                    " (nova: %s)" % why if why and why not in str(e) else "")
                progress.say("server %s FAILED: %s" % (instance.name,
                                                    instance.error))
        return active

    def server_fault(self, server) -> t.Optional[str]:
        """nova's fault message of a server, read now, or None."""
        try:
            return fault(self.sc.clients("nova").servers.get(server.id))
        except Exception:
            return None

    def _create(self, image, flavor, kwargs):
        kwargs = dict(kwargs)
        secgroup = self.sc.context.get("user", {}).get("secgroup")
        if secgroup:
            kwargs.setdefault("security_groups", [secgroup["name"]])
        if not kwargs.get("nics"):
            nic = self.sc._pick_random_nic()
            if nic:
                kwargs["nics"] = nic
        volume = self.plan.boot_volume
        if volume:
            # the root disk a new volume made from the image (nova then
            # takes no image of its own)
            bdm = {"boot_index": 0, "uuid": image, "source_type": "image",
                   "destination_type": "volume",
                   "volume_size": volume["size"],
                   "delete_on_termination": True}
            if volume["type"]:
                bdm["volume_type"] = volume["type"]
            kwargs["block_device_mapping_v2"] = [bdm]
            image = None
        # a block device's volume type needs compute API 2.67 (Stein),
        # which also wants the network said: "auto" is what an older
        # request without nics got
        version = None
        if volume and volume["type"]:
            version = "2.67"
            if not kwargs.get("nics"):
                kwargs["nics"] = "auto"
        return self.sc.clients("nova", version=version).servers.create(
            self.sc.generate_random_name(), image, flavor, **kwargs)

    def _hypervisor(self, server) -> t.Optional[str]:
        """The compute host the server runs on (admin only), else None."""
        if "admin" not in self.sc.context:
            return None
        try:
            full = self.sc.admin_clients("nova").servers.get(server.id)
        except Exception as e:  # said in the notes (placement_notes)
            self.hypervisor_errors[server.name] = str(e)
            return None
        return getattr(full, common.HYPERVISOR_ATTR, None)

    # -- placement --

    def check_placement(self) -> None:
        """The measured instances, and netperf's peer, landed as asked,
        before anything is measured: the curve of "k instances on one
        host" must not be one of instances spread by the scheduler, nor
        the other way round; nor may a VM-to-VM path across the host's
        bridge pass for one across the network."""
        self._check_measured_placement()
        for peer in self.peers:
            self._check_peer_placement(peer)

    def _check_measured_placement(self) -> None:
        placement = self.plan.args.placement
        measured = self.measured
        # nova could not place it: the placement asked for is impossible
        # here (any other boot failure is that instance's own: the others
        # are measured, as always)
        failed = [i.error for i in measured
                  if i.error is not None and unplaceable(i.error)]
        if placement != "any" and failed:
            raise exceptions.SweepFailed(
                "placement %s: %s; %s" % (
                    placement, "; ".join(failed),
                    "all instances on one compute host: it must take %d "
                    "of this flavor" % len(measured)
                    if placement == "same_host"
                    else "one instance per compute host: the cloud needs "
                    "%d compute hosts that can each take one"
                    % len(measured)))
        hosts = [i.hypervisor for i in measured]
        if placement == "any" or not hosts:
            return
        if None in hosts:
            self.notes.append(
                "placement %s: enforced by nova's server group; not "
                "checked here (the compute hosts are visible to admins "
                "only)" % placement)
            return
        wrong = (len(set(hosts)) != 1 if placement == "same_host"
                 else len(set(hosts)) != len(hosts))
        where = ", ".join("%s on %s" % (i.name, i.hypervisor)
                          for i in measured)
        if wrong:
            raise exceptions.SweepFailed("placement %s not honoured: %s"
                                         % (placement, where))
        self.notes.append("placement %s: %s" % (placement, where))

    def _check_peer_placement(self, peer: Instance) -> None:
        wanted = self.plan.args.peer_placement
        error = peer.error or ""
        if wanted != "any" and unplaceable(error):
            raise exceptions.SweepFailed(
                "peer_placement %s: %s; the netserver peer needs %s" % (
                    wanted, error, "room beside the measured instances"
                    if wanted == "same_host" else
                    "a compute host other than the measured instances'"))
        measured = {i.hypervisor for i in self.measured if i.error is None}
        if error or not measured:
            # a peer, or every measured instance, that did not boot fails
            # the workload later, saying so
            return
        if peer.hypervisor is None or None in measured:
            if wanted == "other_host":
                # a scheduler hint nova may ignore (DifferentHostFilter
                # not enabled): unchecked, it may be the other path
                raise exceptions.SweepFailed(
                    "peer_placement other_host cannot be checked: the "
                    "compute hosts are visible to admins only (run with "
                    "an admin in the environment, or peer_placement any)")
            if wanted == "same_host":
                self.notes.append(
                    "peer_placement same_host: enforced by nova's server "
                    "group; not checked here (the compute hosts are "
                    "visible to admins only)")
            return
        host = peer.hypervisor
        wrong = (wanted == "same_host" and measured != {host}) or (
            wanted == "other_host" and host in measured)
        if wrong:
            raise exceptions.SweepFailed(
                "peer_placement %s not honoured: the netserver peer %s is "
                "on %s, the measured instances on %s%s" % (
                    wanted, peer.name, host,
                    ", ".join(sorted(str(h) for h in measured)),
                    " (nova ignores the different_host hint unless "
                    "DifferentHostFilter is in [filter_scheduler] "
                    "enabled_filters)" if wanted == "other_host" else ""))
        self.notes.append("the netserver peer %s runs on %s (%s)" % (
            peer.name, host, "peer_placement %s" % wanted
            if wanted != "any" else "the scheduler's choice"))

    def placement_notes(self, baselines: dict) -> t.List[str]:
        """What the ratios were divided by, where that is not the
        instance's own host's baseline: said, never silent."""
        notes = ["hypervisor of %s unknown (lookup failed: %s): its "
                 "ratios use the baseline filed for any host" % (name, err)
                 for name, err in sorted(self.hypervisor_errors.items())]
        hosts = sorted({str(i.hypervisor) for i in self.instances
                        if i.hypervisor})
        named = sorted(h for h in baselines if h != analysis.ANY_HOST)
        if analysis.ANY_HOST in baselines and hosts and \
                any(h not in baselines for h in hosts):
            notes.append("the instances ran on %s; the one host baseline "
                         "given (of %s) divides all of their values"
                         % (", ".join(hosts), ", ".join(named) or "an "
                            "unnamed host"))
        return notes

    # -- the end --

    def cleanup(self) -> t.List[str]:
        """Close the connections, delete every server and floating IP this
        iteration created; returns what could not be deleted."""
        for instance in self.instances:
            target = instance.target
            if target is not None and target.runner is not None:
                try:
                    target.runner.close()
                except Exception:  # closing a dead connection may fail
                    pass
        leaks = []
        with atomic.ActionTimer(self.sc, "kvm_perf.delete_servers"):
            leaks += self._delete_servers()
            # by ID: rally-openstack's helper skips a floating IP its
            # server no longer lists (a server in ERROR)
            for instance in self.instances:
                if not instance.fip:
                    continue
                try:
                    self.sc.neutron.delete_floatingip(instance.fip["id"])
                except Exception as e:
                    leaks.append("could not delete floating IP %s of %s: %s"
                                 % (instance.fip["ip"], instance.name, e))
        leaks += self._volumes_gone()
        if self.server_group is not None:
            try:
                self.sc.clients("nova").server_groups.delete(
                    self.server_group.id)
                self.server_group = None
            except Exception as e:
                leaks.append("could not delete server group %s: %s"
                             % (self.server_group.id, e))
        return leaks

    def _delete_servers(self) -> t.List[str]:
        """Every server created goes, also on failure (Rally's cleanup
        context is only the safety net; cleanup() then deletes the
        floating IPs): all deletions asked for at once, then waited for.
        One after another (Rally's _delete_server) they took 2.5-4.5 s
        each on the local cloud, a sweep's 10 instances half a minute.
        Returns what could not be deleted, server by server."""
        leaks, asked = [], []
        for instance in self.instances:
            try:
                instance.server.delete()
                asked.append(instance)
            except Exception as e:
                leaks.append("could not delete server %s: %s"
                             % (instance.name, e))
        for instance in asked:
            try:
                task_utils.wait_for_status(
                    instance.server, ready_statuses=["deleted"],
                    check_deletion=True,
                    update_resource=task_utils.get_from_manager(),
                    timeout=CONF.openstack.nova_server_delete_timeout,
                    check_interval=(
                        CONF.openstack.nova_server_delete_poll_interval))
            except Exception as e:
                leaks.append("could not delete server %s: %s"
                             % (instance.name, e))
        return leaks

    VOLUME_DELETE_TIMEOUT_S = 300

    def _volumes_gone(self) -> t.List[str]:
        """Boot from volume: nova deletes each root volume with its server
        (delete_on_termination); wait until cinder no longer has them, and
        delete any it still has. Returns what could not be deleted."""
        volumes = [(i.name, vid) for i in self.instances for vid in i.volumes]
        if not volumes:
            return []
        try:
            cinder = self.sc.clients("cinder")
        except Exception as e:
            return ["cannot check that the root volumes %s are gone: %s"
                    % (", ".join(v for _n, v in volumes), e)]
        deadline = time.monotonic() + self.VOLUME_DELETE_TIMEOUT_S
        left = list(volumes)
        with atomic.ActionTimer(self.sc, "kvm_perf.wait_volumes_deleted"):
            while left and time.monotonic() < deadline:
                left = [(name, vid) for name, vid in left
                        if not _gone(cinder, vid)]
                if left:
                    time.sleep(VOLUME_POLL_S)
        leaks = []
        for name, vid in left:
            try:
                cinder.volumes.delete(vid)
                leaks.append("volume %s of %s was still there %d s after "
                             "its server was deleted: deleted it"
                             % (vid, name, self.VOLUME_DELETE_TIMEOUT_S))
            except Exception as e:
                leaks.append("could not delete volume %s of %s: %s"
                             % (vid, name, e))
        return leaks


def _gone(cinder, volume_id) -> bool:
    try:
        cinder.volumes.get(volume_id)
    except Exception as e:
        return getattr(e, "code", None) == 404 or \
            type(e).__name__ == "NotFound"
    return False
