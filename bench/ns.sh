#!/usr/bin/env bash
# Benchmark: `ctk ns --json` against `lsns --json` on a busy host.
#
# Usage: bench/ns.sh [CTK_BINARY] [RUNS]      (run as root)
#
# The script first populates the host: NS_GROUPS (default 50) groups, each
# an `unshare` with new PID, mount (own /proc), UTS, IPC, network and cgroup
# namespaces holding a shell with NS_SLEEPS (default 19) sleeps, i.e. about
# 300 extra namespaces and 1000 extra processes.  Then both tools list every
# namespace, alternately, RUNS times each.
# Goal: ctk takes at most a quarter of lsns' time (ratio of medians <= 0.25).
set -euo pipefail

source "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

GOAL=0.25
NS_GROUPS=${NS_GROUPS:-50}
NS_SLEEPS=${NS_SLEEPS:-19}
NS_PER_GROUP=6 # pid mnt uts ipc net cgroup

bench_parse_args 30 "$@"
bench_require_root
bench_require_cmds unshare lsns pgrep awk sort comm
bench_require_json_tool
[[ $NS_GROUPS =~ ^[1-9][0-9]*$ && $NS_SLEEPS =~ ^[0-9]+$ ]] ||
	bench_die "NS_GROUPS and NS_SLEEPS must be numbers"

# --- populate
# Each group's shell is the init of its PID namespace; it starts the sleeps
# and waits for them.  Killing it at cleanup takes all of them along.
group_script='i=0; while [ "$i" -lt "$1" ]; do sleep infinity & i=$((i + 1)); done; wait'
bench_note "starting $NS_GROUPS groups of $((NS_SLEEPS + 1)) processes..."
group_inits=()
for ((g = 0; g < NS_GROUPS; g++)); do
	bench_start_holder sh --pid --mount-proc --uts --ipc --net --cgroup \
		sh -c "$group_script" sh "$NS_SLEEPS"
	group_inits+=("$HOLDER_CHILD")
done

# Wait until every sleep is there (and has exec'ed).
deadline=$((SECONDS + 60))
while :; do
	ready=0
	for init in "${group_inits[@]}"; do
		for kid in $(bench__child_of "$init"); do
			[[ $(cat "/proc/$kid/comm" 2>/dev/null || true) == sleep ]] && ready=$((ready + 1))
		done
	done
	((ready == NS_GROUPS * NS_SLEEPS)) && break
	((SECONDS < deadline)) || bench_die "only $ready of $((NS_GROUPS * NS_SLEEPS)) sleeps started"
	sleep 0.05
done
created_procs=$((NS_GROUPS * (NS_SLEEPS + 1)))
created_ns=$((NS_GROUPS * NS_PER_GROUP))

# --- correctness: the same namespaces, bar persistent ones lsns can't see.
# Other activity on the host can change the set between the two listings,
# so allow a few attempts before calling it a disagreement.
for attempt in 1 2 3 4 5; do
	"$CTK" ns --json >"$BENCH_TMP/ctk.json" || bench_die "ctk ns --json failed"
	lsns --json >"$BENCH_TMP/lsns.json" || bench_die "lsns --json failed"
	bench_json_ns_set "$BENCH_TMP/ctk.json" nonzero >"$BENCH_TMP/ctk.set"
	bench_json_ns_set "$BENCH_TMP/lsns.json" >"$BENCH_TMP/lsns.set"
	cmp -s "$BENCH_TMP/ctk.set" "$BENCH_TMP/lsns.set" && break
	if ((attempt == 5)); then
		printf 'only in ctk ns:\n%s\nonly in lsns:\n%s\n' \
			"$(comm -23 "$BENCH_TMP/ctk.set" "$BENCH_TMP/lsns.set")" \
			"$(comm -13 "$BENCH_TMP/ctk.set" "$BENCH_TMP/lsns.set")" >&2
		bench_die "ctk ns --json and lsns --json list different namespaces"
	fi
	sleep 0.2
done
read -r lsns_ns lsns_procs < <(bench_json_counts "$BENCH_TMP/lsns.json")
read -r ctk_ns ctk_procs < <(bench_json_counts "$BENCH_TMP/ctk.json")
((lsns_ns >= created_ns)) || bench_die "lsns lists only $lsns_ns namespaces, fewer than the $created_ns made"

BENCH_CTK_CMD=("$CTK" ns --json)
BENCH_PEER_CMD=(lsns --json)

bench_note "checks passed; timing $RUNS runs of each..."
bench_measure

bench_header "ns: '$CTK ns --json' vs 'lsns --json'"
printf 'load: %d processes in %d namespaces made here (%d groups)\n' \
	"$created_procs" "$created_ns" "$NS_GROUPS"
printf 'present: %d processes, %d namespaces per lsns (ctk ns: %d, %d incl. persistent)\n' \
	"$lsns_procs" "$lsns_ns" "$ctk_procs" "$ctk_ns"
bench_report ns lsns "$GOAL"
