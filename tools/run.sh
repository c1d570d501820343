#!/bin/bash
# The README's two commands.
#   bash tools/run.sh        install everything, then the main job: the smoke
#                            sweep (samples/tasks/kvm-perf-smoke.yaml) through
#                            `rally task start`, against the cloud in the OS_*
#                            variables, or, with none set, against the local
#                            single-node cloud it stands up (tools/aio);
#                            Rally's HTML report + the kvm-perf report
#   bash tools/run.sh test   install everything, then run the tests (the
#                            functional ones against the local cloud)
#   bash tools/run.sh host-baseline
#                            only this machine's host baseline through Rally
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/install.sh
# shellcheck source=tools/aio/lib.sh
. tools/aio/lib.sh

case "${1:-main}" in
test)
    # The local cloud comes up in the background (apt, services, guest
    # image: mostly waiting) while pep8 (ruff), the unit + integration tests
    # (real bonnie++, netperf, Rally, libvirt, Chromium) and the docs
    # (sphinx -W) run; then the functional tests: guests under qemu, and
    # the smoke sweep through Rally against the cloud. tox builds its own
    # virtualenvs from requirements.txt
    #
    # A cache must never be why CI is green: every run starts from no cloud
    # state (databases, configs, glance, instances: purged) and an empty
    # image cache of its own, so the guest image is built from scratch
    # beside the cloud's start, exactly as on a fresh machine.
    t0=$(date +%s)
    bash tools/aio/cloud.sh purge > /dev/null 2>&1 || {
        echo "could not purge the local cloud's state:" >&2
        bash tools/aio/cloud.sh purge; exit 1; }
    KVM_PERF_CACHE=$(mktemp -d /var/tmp/kvm-perf-ci-cache.XXXXXX)
    export KVM_PERF_CACHE
    trap 'rm -rf "$KVM_PERF_CACHE"' EXIT
    mkdir -p "$AIO_STATE"
    up_log=$AIO_STATE/up.log
    bash tools/aio/cloud.sh up > "$up_log" 2>&1 &
    up_pid=$!
    rc=0
    # one virtualenv for the tests and the docs: tox builds py3's from
    # requirements.txt + test-requirements.txt (sphinx included); the docs
    # and the functional tests run in it rather than in two more copies
    .venv/bin/tox -e pep8,py3 || rc=$?
    py3=.tox/py3/bin
    [ $rc != 0 ] || "$py3/sphinx-build" -q -W -b html doc/source doc/build/html || rc=$?
    echo "pep8, py3, docs: $(( $(date +%s) - t0 )) s"
    if ! wait $up_pid; then
        # the failing service and its log tail are in there
        cat "$up_log"
        bash tools/aio/cloud.sh status || true
        bash tools/aio/cloud.sh down || true
        exit 1
    fi
    grep '^aio: up in' "$up_log" || true
    [ $rc = 0 ] || { bash tools/aio/cloud.sh down; exit $rc; }
    t1=$(date +%s)
    KVM_PERF_AIO_REQUIRED=1 KVM_PERF_FRESH_IMAGE=1 \
        "$py3/pytest" -q -s --durations=0 tests/functional || rc=$?
    echo "functional: $(( $(date +%s) - t1 )) s; .ci/run total: $(( $(date +%s) - t0 )) s"
    [ $rc = 0 ] || bash tools/aio/cloud.sh status || true
    bash tools/aio/cloud.sh down
    exit $rc
    ;;
main|host-baseline)
    ;;
*)
    echo "usage: $0 [test|host-baseline]" >&2; exit 2
    ;;
esac

# A private Rally home: this job never touches the user's ~/.rally.
RALLY_HOME=$PWD/.rally
RESULTS=$PWD/results
mkdir -p "$RALLY_HOME" "$RESULTS" /var/tmp/rally-kvm-perf
conf=$RALLY_HOME/rally.conf
[ -f "$conf" ] || printf '[database]\nconnection = sqlite:///%s/rally.sqlite\n' \
    "$RALLY_HOME" > "$conf"
rally() { HOME=$RALLY_HOME .venv/bin/rally --config-file "$conf" "$@"; }
[ -f "$RALLY_HOME/rally.sqlite" ] || rally db create >/dev/null
stamp=$(date +%Y%m%dT%H%M%S)
rc=0
if [ "${1:-main}" = main ]; then
    exec bash tools/smoke.sh "$RALLY_HOME" "$RESULTS/smoke-$stamp"
fi
if ! rally env show local >/dev/null 2>&1; then
    echo '{}' > "$RALLY_HOME/empty-env.json"
    rally env create --name local --spec "$RALLY_HOME/empty-env.json" >/dev/null
fi
rally task start samples/tasks/kvm-perf-host-baseline.yaml --env local \
    --task-args "{\"bonnie_directory\": \"/var/tmp/rally-kvm-perf\",
                  \"output_file\": \"$RESULTS/host-baseline-$stamp.json\"}" \
    || rc=$?
rally task report --html-static --out "$RESULTS/host-baseline-$stamp.html" >/dev/null
echo "report:   $RESULTS/host-baseline-$stamp.html"
echo "baseline: $RESULTS/host-baseline-$stamp.json"
exit $rc
