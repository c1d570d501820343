#!/bin/bash
# The main job: the smoke sweep (samples/tasks/kvm-perf-smoke.yaml) through
# `rally task start`, then Rally's HTML report and the kvm-perf report.
#   - OS_AUTH_URL set: against that cloud (rally env --from-sysenv); task
#     arguments from KVM_PERF_TASK_ARGS (JSON), e.g. '{"image": "...",
#     "use_floating_ip": true, "floating_network": "public"}'
#   - otherwise: stands up the local single-node cloud (tools/aio/cloud.sh)
#     and runs there, Rally inside the cloud's network namespace, with the
#     host baseline measured on this machine against the same netserver as
#     the instances (in its own namespace, routed from the provider
#     gateway), so that every metric has a VM/host ratio
#
#   bash tools/smoke.sh RALLY_HOME OUTPUT_DIR
set -euo pipefail
cd "$(dirname "$0")/.."
RALLY_HOME=$1
OUT=$2
# shellcheck source=tools/aio/lib.sh
. tools/aio/lib.sh
conf=$RALLY_HOME/rally.conf
mkdir -p "$OUT"
runin=()
rally() { "${runin[@]}" env HOME="$RALLY_HOME" "$PWD/.venv/bin/rally" --config-file "$conf" "$@"; }

t0=$(date +%s)
if [ -n "${OS_AUTH_URL:-}" ]; then
    # other credentials (another cloud, a new password): another environment,
    # never one whose stored credentials no longer authenticate
    envname=kvm-perf-sysenv-$(env | grep '^OS_' | LC_ALL=C sort | sha256sum | cut -c1-8)
    rally env show "$envname" > /dev/null 2>&1 || \
        rally env create --name "$envname" --from-sysenv > /dev/null
    args=${KVM_PERF_TASK_ARGS:-"{}"}
    echo "target: the cloud at $OS_AUTH_URL"
else
    [ "$(id -u)" = 0 ] || { echo "the local cloud needs root" >&2; exit 1; }
    # tools/run.sh has stood it up already, beside its pip install
    [ -n "${KVM_PERF_AIO_UP:-}" ] || bash tools/aio/cloud.sh up
    runin=(bash tools/aio/cloud.sh exec)
    spec=$AIO_ETC/rally-env.json
    # a new cloud (after purge) has new credentials: a new environment
    envname=kvm-perf-aio-$(sha256sum "$spec" | cut -c1-8)
    rally env show "$envname" > /dev/null 2>&1 || \
        rally env create --name "$envname" --spec "$spec" > /dev/null
    args=$(printf '{"netserver": "%s:%s", "measure_baseline": true, "local_host": true, "output_dir": "%s"}' \
        "$AIO_NETSERVER" "$AIO_NETSERVER_PORT" "$OUT")
    up_after=", up after $(( $(date +%s) - t0 )) s"
    [ -z "${KVM_PERF_AIO_UP:-}" ] || up_after=""
    echo "target: the local cloud (namespace $AIO_NS)$up_after"
fi

rc=0
rally task start samples/tasks/kvm-perf-smoke.yaml --env "$envname" \
    --task-args "$args" || rc=$?
rally task report --html-static --out "$OUT/rally-report.html" > /dev/null
rally task export --type kvm-perf --to "$OUT/kvm-perf" > /dev/null
echo "smoke sweep: exit $rc after $(( $(date +%s) - t0 )) s${KVM_PERF_T0:+ ($(( $(date +%s) - KVM_PERF_T0 )) s since tools/run.sh started)}"
echo "report:      $OUT/rally-report.html"
echo "kvm-perf:    $OUT/kvm-perf/index.html (ratios.csv, ratios.json beside it)"
[ -z "${runin[*]}" ] || echo "local cloud: still up; 'bash tools/aio/cloud.sh down' stops it"
exit $rc
