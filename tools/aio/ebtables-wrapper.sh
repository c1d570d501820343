#!/bin/sh
# ebtables for neutron's linuxbridge agent on the local cloud.
#
# Debian 12's ebtables is the nft variant (this kernel has no legacy
# ebtables). It cannot delete an --among-src rule by the spec that its own
# listing prints (exit 4); neutron's agent then retries that delete forever
# and stops wiring new ports, and new servers hang in BUILD. Such a delete
# always comes right before the agent re-inserts the port's MAC rule, so
# flush that per-port chain instead and put back its final DROP. Every
# other command, and every other failure, is ebtables' own.
real=${KVM_PERF_EBTABLES:-/usr/sbin/ebtables}
"$real" "$@" && exit 0
rc=$?
table=filter chain= del= among= prev=
for a in "$@"; do
    case "$prev" in
    -t) table=$a ;;
    -D) chain=$a; del=1 ;;
    esac
    [ "$a" = --among-src ] && among=1
    prev=$a
done
[ -n "$del" ] && [ -n "$among" ] && [ -n "$chain" ] || exit $rc
echo "ebtables wrapper: delete by spec failed ($rc), flushing $chain" >&2
"$real" -t "$table" --concurrent -F "$chain" &&
    exec "$real" -t "$table" --concurrent -A "$chain" -j DROP
