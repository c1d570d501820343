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
    # Everything that can overlap does, on this 2-core machine:
    #   cloud.sh up (apt, services, guest image: mostly waiting)
    #   beside the checks: pep8 (ruff), unit + integration tests (real bonnie++,
    #     netperf, Rally, libvirt, Chromium), the docs (sphinx -W);
    #   once the cloud is up: the pinned-flavor test alone (it switches
    #     nova-compute's CPU sets, so no other server may exist), then
    #   lane A beside the rest of the unit and integration tests, and
    #     then beside lane B: both take the functional cases from one
    #     queue, longest first (below), so that they end together.
    # A 1-instance level or Rally's context set-up keeps one core busy at
    # most: two lanes fill the other. Each task checks what it alone can
    # leave behind (KVM_PERF_AIO_SHARED); the whole cloud is compared with
    # its state before the functional tests once both lanes are done.
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
    logs=$(mktemp -d /var/tmp/kvm-perf-ci-logs.XXXXXX)
    export KVM_PERF_CACHE
    trap 'rm -rf "$KVM_PERF_CACHE"' EXIT
    mkdir -p "$AIO_STATE"
    up_log=$AIO_STATE/up.log
    bash tools/aio/cloud.sh up > "$up_log" 2>&1 &
    up_pid=$!
    rc=0
    # one virtualenv for everything: tools/install.sh built .venv from
    # requirements.txt + test-requirements.txt (ruff, pytest, sphinx) and
    # the plugin, from scratch on a fresh clone; tox's envs (tox.ini, for
    # developers) would build the same twice more: CPU this machine needs
    # for the cloud's start (measured: CPU-bound, 85 % busy, over the run)
    py3=.venv/bin
    ( "$py3/ruff" check rally_kvm_perf tests tools \
          && "$py3/pytest" -q tests/unit tests/integration \
          && "$py3/sphinx-build" -q -W -b html doc/source doc/build/html
      echo "pep8, py3, docs: exit $? after $(( $(date +%s) - t0 )) s" ) \
        > "$logs/checks.log" 2>&1 &
    checks_pid=$!
    if ! wait $up_pid; then
        # the failing service and its log tail are in there
        cat "$up_log"
        bash tools/aio/cloud.sh status || true
        bash tools/aio/cloud.sh down || true
        wait $checks_pid; cat "$logs/checks.log"
        exit 1
    fi
    grep '^aio: up in' "$up_log" || true
    export KVM_PERF_AIO_REQUIRED=1 KVM_PERF_FRESH_IMAGE=1
    functional() {  # log name, pytest arguments
        local name=$1 status=0 start; shift
        start=$(( $(date +%s) - t0 ))
        KVM_PERF_AIO_SHARED=1 "$py3/pytest" -q -s --durations=0 \
            --basetemp="$logs/$name" "$@" > "$logs/$name.log" 2>&1 || status=$?
        echo "exit $status after $(( $(date +%s) - t0 )) s" >> "$logs/$name.log"
        # one line per case for the timeline printed at the end
        echo "$name: $start -> $(( $(date +%s) - t0 )) s, exit $status: $(basename "${1%%::*}") ${1##*::}" \
            >> "$logs/timeline"
    }
    show() { echo "=== $1"; cat "$logs/$1.log"; }
    failed() { tail -1 "$logs/$1.log" | grep -qv '^exit 0 '; }
    "$py3/python" -m tests.functional.aio snapshot "$logs/cloud-before.json" \
        || rc=1
    # Two lanes take the cases from one queue, longest first, each the
    # next one when it is free: lane A once the pinned case is done, lane B
    # once the checks are; they end within one short case of each other
    # whatever the cases take on the day. Every functional test is in
    # exactly one case (checked: a test in none would never run).
    local_cloud=tests/functional/test_local_cloud.py
    failures=tests/functional/test_failures.py
    pinned="$local_cloud::test_pinned_flavor_instance_shows_vcpupin"
    paper="$local_cloud::test_papers_path_peer_baseline_reboots_and_runtime_pinning"
    cases=("$local_cloud --deselect $pinned --deselect $paper"
           tests/functional/test_zuul_playbooks.py
           "$failures::test_an_aborted_sweep_keeps_its_runs_and_resumes"
           "$paper"
           "$failures::test_one_failing_instance_keeps_the_others_results"
           tests/functional/test_volumes.py
           tests/functional/test_fio.py
           "$failures::test_a_run_over_its_command_timeout_is_stopped_in_the_instance"
           "$failures::test_instance_that_cannot_boot_fails_with_console_evidence"
           "$failures::test_spread_on_one_compute_node_fails_before_booting $failures::test_peer_on_another_host_of_a_one_node_cloud_fails_before_measuring tests/functional/test_guest_image.py")
    collect() { "$py3/pytest" --collect-only -q "$@" 2>&1 | grep '^tests/.*::' | sort; }
    # (word splitting of each case is meant: pytest arguments)
    # shellcheck disable=SC2086
    # the second compute node's case runs alone (below): every other
    # case's tasks expect one node
    two_nodes=tests/functional/test_two_nodes.py
    chosen=$({ collect "$pinned" "$two_nodes"; for case in "${cases[@]}"; do collect $case; done; } | sort)
    every=$(collect tests/functional)
    if [ "$every" != "$chosen" ]; then
        echo "tools/run.sh: functional tests in no case, or in two:" >&2
        diff <(echo "$every") <(echo "$chosen") >&2
        rc=1
    fi
    queue=$logs/queue
    printf '%s\n' "${cases[@]}" > "$queue"
    next_case() { flock "$queue.lock" bash -c 'head -n 1 "$1"; sed -i 1d "$1"' _ "$queue"; }
    lane() {  # name: run cases from the queue until it is empty
        local name=$1 n=0 case
        while case=$(next_case) && [ -n "$case" ]; do
            n=$((n + 1))
            # shellcheck disable=SC2086
            functional "$name-$n" $case
        done
    }
    t1=$(date +%s)
    functional pinned "$pinned"
    # the two-node case while the checks run (lane B waits for both: no
    # other task may run while the second node is up), then lane A
    ( functional two-nodes "$two_nodes"; touch "$logs/two-nodes.done"
      lane lane-a ) &
    a_pid=$!
    wait $checks_pid
    show checks
    grep -q "^pep8, py3, docs: exit 0 " "$logs/checks.log" || rc=1
    until [ -e "$logs/two-nodes.done" ] || ! kill -0 $a_pid 2>/dev/null; do sleep 5; done
    lane lane-b
    wait $a_pid
    for log in "$logs"/pinned.log "$logs"/lane-*.log "$logs"/two-nodes.log; do
        name=$(basename "$log" .log)
        show "$name"
        ! failed "$name" || rc=1
    done
    "$py3/python" -m tests.functional.aio compare "$logs/cloud-before.json" \
        || rc=1
    echo "=== timeline (seconds since the start; checks and cloud up first)"
    grep -h '^aio: up in' "$up_log" || true
    grep -h '^pep8, py3, docs:' "$logs/checks.log" || true
    cat "$logs/timeline"
    echo "functional: $(( $(date +%s) - t1 )) s; .ci/run total: $(( $(date +%s) - t0 )) s"
    [ $rc = 0 ] || bash tools/aio/cloud.sh status || true
    bash tools/aio/cloud.sh down
    rm -rf "$logs"
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
