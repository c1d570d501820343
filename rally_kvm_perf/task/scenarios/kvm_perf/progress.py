"""Progress lines for the operator watching `rally task start`."""

from oslo_log import log as logging

LOG = logging.getLogger("rally_kvm_perf.task.scenarios.kvm_perf")


def say(message: str) -> None:
    LOG.info("kvm-perf: %s", message)
