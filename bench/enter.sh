#!/usr/bin/env bash
# Benchmark: `ctk enter -t PID -a true` against `nsenter -t PID -a true`.
#
# Usage: bench/enter.sh [CTK_BINARY] [RUNS]      (run as root)
#
# The target is a `sleep infinity` that this script starts in fresh PID,
# mount (with its own /proc), UTS, IPC and network namespaces.  Both tools
# are run alternately, RUNS times each, and the medians are compared.
# Goal: ctk is no slower than nsenter (ratio of medians <= 1.0).
set -euo pipefail

source "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

GOAL=1.0

bench_parse_args 200 "$@"
bench_require_root
bench_require_cmds unshare nsenter hostname pgrep awk sort

bench_start_holder sleep --pid --mount-proc --uts --ipc --net sleep infinity
TARGET=$HOLDER_CHILD

# Correctness first: both tools must land in the same place.
name="ctk-bench-$$"
nsenter -t "$TARGET" -u hostname "$name"
ctk_host=$("$CTK" enter -t "$TARGET" -u hostname) || bench_die "ctk enter -u hostname failed"
peer_host=$(nsenter -t "$TARGET" -u hostname) || bench_die "nsenter -u hostname failed"
if [[ $ctk_host != "$name" || $peer_host != "$name" ]]; then
	bench_die "hostname disagrees: set '$name', ctk says '$ctk_host', nsenter says '$peer_host'"
fi
probe='hostname; for n in mnt uts ipc net pid cgroup; do readlink /proc/self/ns/$n; done'
ctk_all=$("$CTK" enter -t "$TARGET" -a sh -c "$probe") || bench_die "ctk enter -a failed"
peer_all=$(nsenter -t "$TARGET" -a sh -c "$probe") || bench_die "nsenter -a failed"
if [[ $ctk_all != "$peer_all" ]]; then
	bench_die "$(printf 'ctk enter -a and nsenter -a disagree:\n--- ctk\n%s\n--- nsenter\n%s' "$ctk_all" "$peer_all")"
fi

BENCH_CTK_CMD=("$CTK" enter -t "$TARGET" -a true)
BENCH_PEER_CMD=(nsenter -t "$TARGET" -a true)

bench_note "checks passed; timing $RUNS runs of each..."
bench_measure

bench_header "enter: '$CTK enter -t PID -a true' vs 'nsenter -t PID -a true'"
printf 'target: sleep in new pid+mnt+uts+ipc+net namespaces (hostname check: %s)\n' "$ctk_host"
bench_report enter nsenter "$GOAL"
