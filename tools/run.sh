#!/bin/bash
# The README's two commands.
#   bash tools/run.sh        install everything, then run the main job: the
#                            host baseline of this machine through Rally
#                            (KVMPerf.host_baseline), HTML report + JSON
#   bash tools/run.sh test   install everything, then run the tests
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/install.sh

case "${1:-main}" in
test)
    # pep8 (ruff), the unit + integration tests (real bonnie++, netperf,
    # Rally, libvirt, Chromium), the docs (sphinx -W) and the functional
    # tests (the guest image built and booted under qemu); tox builds its
    # own virtualenvs from requirements.txt
    exec .venv/bin/tox -e pep8,py3,docs,functional
    ;;
main)
    ;;
*)
    echo "usage: $0 [test]" >&2; exit 2
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
if ! rally env show local >/dev/null 2>&1; then
    echo '{}' > "$RALLY_HOME/empty-env.json"
    rally env create --name local --spec "$RALLY_HOME/empty-env.json" >/dev/null
fi
stamp=$(date +%Y%m%dT%H%M%S)
rc=0
rally task start samples/tasks/kvm-perf-host-baseline.yaml --env local \
    --task-args "{\"bonnie_directory\": \"/var/tmp/rally-kvm-perf\",
                  \"output_file\": \"$RESULTS/host-baseline-$stamp.json\"}" \
    || rc=$?
rally task report --html-static --out "$RESULTS/host-baseline-$stamp.html" >/dev/null
echo "report:   $RESULTS/host-baseline-$stamp.html"
echo "baseline: $RESULTS/host-baseline-$stamp.json"
exit $rc
