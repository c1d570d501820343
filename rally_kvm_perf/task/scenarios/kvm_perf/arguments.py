"""The arguments every sweep scenario shares (KVMPerf.bonnie, .fio,
.netperf): their validators and their documentation, written once.

Each scenario's run() keeps its full signature (`rally plugin show` reads
it) and passes the shared arguments on with ``sweep_args(locals())``;
rally_kvm_perf.sweep.plan checks them together before anything boots.
"""

from rally.task import validation
from rally_openstack.common import consts

from rally_kvm_perf.sweep import engine
from rally_kvm_perf.sweep import plan

# the run() arguments every sweep scenario has and passes on to _sweep()
SWEEP_ARGS = plan.SWEEP_ARGS

# Rally's safety net for what a sweep itself creates, should the scenario
# die before its own finally: its servers (the peer too), their server group
# and floating IPs. Not all of nova and neutron: listing every neutron
# resource type of the task's users took 30 s per workload on the local
# cloud; the keypair, security group and network come from contexts that
# delete their own.
CLEANUP = ["nova.servers", "nova.server_groups", "neutron.floatingip"]


def sweep_validators(cls):
    """Decorator: the validators of the arguments every sweep scenario
    shares (its own arguments' validators stay on the class)."""
    checks = (
        ("number", dict(param_name="instances", minval=1, integer_only=True,
                        nullable=True)),
        ("number", dict(param_name="repetitions", minval=1,
                        integer_only=True, nullable=True)),
        ("number", dict(param_name="port", minval=1, maxval=65535,
                        integer_only=True, nullable=True)),
        ("number", dict(param_name="ssh_timeout", minval=1, nullable=True)),
        ("number", dict(param_name="density_threshold", minval=0,
                        nullable=True)),
        ("enum", dict(param_name="between_repetitions",
                      values=list(engine.BETWEEN), missed=True)),
        ("kvm_perf_active_counts", {}),
        ("enum", dict(param_name="placement", values=list(plan.PLACEMENTS),
                      missed=True)),
        ("required_param_or_context", dict(param_name="flavor",
                                           ctx_name="kvm_perf_flavor")),
        ("external_network_exists", dict(param_name="floating_network")),
        ("file_exists", dict(param_name="host_baseline", required=False)),
        ("required_services", dict(services=[consts.Service.NOVA])),
        ("required_platform", dict(platform="openstack", users=True)),
    )
    for name, kwargs in reversed(checks):
        cls = validation.add(name, **kwargs)(cls)
    return cls


# The parameters every sweep scenario shares, documented once: each
# scenario's run() docstring has a line "@SWEEP_PARAMS@" where they go
# (sweep_doc), so that `rally plugin show` prints them all.
SWEEP_RECORDS_DOC = """\
        Besides the benchmark, every run records the contention telemetry:
        the kernel's counters read just before and just after it, in each
        active instance (CPU steal, iowait, CPU busy, disk utilisation and
        queue, NIC packets and drops) and, with the kvm_perf_hypervisors
        context, on each compute host (its CPU use and disk, and every
        measured instance's qemu process and vhost threads), and for
        netperf in the netserver instance(s) over the same moments (their
        CPU busy and steal); per level beside the ratios, with the first
        resource to saturate and any knee in a ratio curve ("why the ratio
        falls"). Nothing runs beside the benchmark while it runs.

"""
SWEEP_PARAMS_DOC = """\
        :param image: glance image with @TOOLS@ installed
        :param flavor: flavor of the instances (the paper: 2 vCPU, 2 GB RAM,
            40 GB disk); default: the kvm_perf_flavor context's
        :param instances: instances booted once for the whole sweep
        :param active_counts: numbers of instances running the benchmark at
            the same time, e.g. [1, 2, 4, 8]; default 1..instances
        :param repetitions: runs per level (the paper: 10); with
            ``target_half_width`` the most a level runs
        :param min_repetitions: adaptive repetitions: the fewest a level
            runs before its interval is judged (default 3)
        :param target_half_width: adaptive repetitions: a level stops
            repeating once every benchmark's headline metric (block write,
            throughput, transactions, IOPS) has a 95% interval within this
            fraction of its mean (0.05: +-5%), over the repetition-level
            values; the notes say how many runs each level took and why it
            stopped. Default: every level runs ``repetitions``
        :param density_threshold: the VM/host ratio the density answer
            holds to (default 0.8): the most instances per host at which
            each headline metric's ratio stays at or above it, with its
            interval
        :param between_repetitions: before each run: "drop_caches" (default;
            sync and drop the page caches in the active instances),
            "reboot" (the paper's choice: reboot them and wait for SSH; not
            before the first run) or "none"
        :param username: SSH user of the image
        :param password: SSH password, if the image needs one
        :param port: SSH port
        :param use_floating_ip: reach instances through floating IPs
        :param floating_network: external network for the floating IPs
        :param ssh_timeout: seconds an instance may take to answer SSH
        :param command_timeout: seconds one benchmark run may take (default
            ``[kvm_perf] command_timeout``; Rally's 3600 s SSH limit does not
            apply)
        :param availability_zone: e.g. "nova:compute-1" to pack every
            instance on one hypervisor, as in the paper
        :param placement: "same_host" (default: the paper's k instances on
            one host; a server group with the affinity policy), "spread"
            (one per compute host; anti-affinity) or "any" (the
            scheduler's choice); checked after the boot, before anything
            is measured (netperf's netserver peer: its peer_placement)
        :param install_command: shell command run in each instance before
            the sweep, e.g. "sudo apt-get install -y @PACKAGES@"
        :param host_baseline: baseline JSON file from ``rally-kvm-perf
            baseline`` (taken with the same benchmark parameters); without
            it and without the kvm_perf_baseline context only absolute
            values are reported
        :param boot_kwargs: extra arguments for nova's server create
        :param boot_from_volume: boot every instance from a new Cinder
            volume made from the image instead of an ephemeral disk:
            {"size": GB, "type": volume type (optional)}. Checked after the
            boot (an instance whose root disk is not a volume is not
            measured); the volumes go with their servers and are checked
            gone. Its host baseline must be taken on the storage that backs
            the volumes
        :param output_file: also write everything measured (raw outputs,
            per-run metrics, the analysis) to this JSON file, rewritten
            after every run so that an interrupted sweep keeps what it
            measured
        :param resume: continue the interrupted sweep in ``output_file``:
            its finished runs are kept and not run again (on newly booted
            instances: a repetition stands on its own); a file of other
            parameters, or of a complete sweep, is refused before anything
            boots; without the file, a new sweep
"""


def sweep_doc(tools, packages):
    """Decorator of a sweep scenario's run(): its docstring's
    "@SWEEP_PARAMS@" line becomes the shared parameters' documentation,
    naming the scenario's ``tools`` and Debian ``packages``."""
    marker = "        @SWEEP_PARAMS@\n"

    def decorate(run):
        if marker not in (run.__doc__ or ""):
            raise ValueError("%s: no @SWEEP_PARAMS@ line in its docstring"
                             % run.__qualname__)
        run.__doc__ = run.__doc__.replace(
            marker, SWEEP_RECORDS_DOC + SWEEP_PARAMS_DOC.replace(
                "@TOOLS@", tools).replace("@PACKAGES@", packages))
        return run
    return decorate


def sweep_args(run_locals):
    """The shared arguments out of a scenario's run() locals, as keywords."""
    return {name: run_locals[name] for name in SWEEP_ARGS}
