#!/usr/bin/env bash
# Benchmark: `ctk run --rm busybox true` against `crun run` of the same
# busybox root (and `podman run --rm`, when podman is available).
#
# Usage: bench/run.sh [CTK_BINARY] [RUNS]      (run as root)
#
# Setup, all of it undone at exit: crun, runc and podman are installed with
# apt-get if missing; tests/fixtures/mkimage.sh makes a busybox image, which
# is imported into a temporary CTK_ROOT (ctk), unpacked into an OCI bundle
# whose config.json comes from `crun spec` (crun), and imported into a
# podman whose storage and state are in a temporary directory.  On a hybrid
# cgroup host crun may need hugetlb moved to a v1 hierarchy (see lib.sh);
# should crun still fail, runc runs the same bundle instead.
#
# Each timed command starts a container, runs `true` in it, waits for it
# and removes it: ctk with --rm, podman with --rm, crun because `crun run`
# deletes the container when it exits (checked below; a separate `crun
# delete` would be timed too otherwise).  Each crun container gets a fresh
# id.  The commands run alternately (ctk and crun taking turns to go
# first, podman after them), RUNS times each.
# Goal: ctk is no slower than crun (ratio of medians ctk/crun <= 1.0).
# BENCH_WITH_PODMAN=0 leaves podman out.
set -euo pipefail

source "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

GOAL=1.0

bench_container_start 100 "$@"

# --- ctk: the probe, and nothing left behind by --rm
bench_check_inside ctk 'sh -c *' "$CTK" run --rm busybox sh -c "$BENCH_PROBE"
ctk_hostname=$CHECK_HOSTNAME
left=$("$CTK" ps -a -n -o ID) || bench_die "ctk ps -a failed"
[[ -z $left ]] || bench_die "ctk run --rm left containers behind: $left"
BENCH_CMD_ctk=("$CTK" run --rm busybox true)

# --- crun (or runc)
bench_oci_bundle "$BENCH_TMP/probe" sh -c "$BENCH_PROBE"
bench_oci_bundle "$BENCH_TMP/bundle" true
OCI_SEQ=0
OCI_DELETE=0

# One container of the bundle DIR, with a fresh id; deleted afterwards if
# the runtime's `run` does not do it itself.
oci_run() {
	local dir=$1 id=$BENCH_CT_PREFIX-$((OCI_SEQ += 1))
	"${BENCH_OCI[@]}" run --bundle "$dir" "$id" </dev/null || return
	if ((OCI_DELETE)); then
		"${BENCH_OCI[@]}" delete "$id"
	fi
}

oci_try() {
	oci_run "$BENCH_TMP/probe" >/dev/null
}

bench_oci_pick oci_try
OCI=$BENCH_OCI_NAME
# Does `run` delete the container when it exits?
probe_id=$BENCH_CT_PREFIX-$((OCI_SEQ + 1))
bench_check_inside "$OCI" 'sh -c *' oci_run "$BENCH_TMP/probe"
oci_hostname=$CHECK_HOSTNAME
if "${BENCH_OCI[@]}" state "$probe_id" >/dev/null 2>&1; then
	OCI_DELETE=1
	"${BENCH_OCI[@]}" delete "$probe_id" >/dev/null
	oci_cleanup="'$OCI delete ID' after '$OCI run', timed with it"
else
	oci_cleanup="'$OCI run' deletes the container when it exits"
fi
bench_array_set "BENCH_CMD_$OCI" oci_run "$BENCH_TMP/bundle"

# --- podman, optional
peers=("$OCI")
podman_hostname=""
if bench_podman_setup; then
	if bench_probe_inside podman 'sh -c *' "${BENCH_PODMAN[@]}" run --rm --network none bb sh -c "$BENCH_PROBE"; then
		podman_hostname=$CHECK_HOSTNAME
		BENCH_CMD_podman=("${BENCH_PODMAN[@]}" run --rm --network none bb true)
		peers+=(podman)
	else
		bench_note "podman cannot run a container here, measuring without it: $CHECK_WHY"
	fi
fi

bench_note "checks passed; timing $RUNS runs of each of: ctk ${peers[*]}..."
bench_measure_multi ctk "${peers[@]}"

# Every command removed its container.
left=$("$CTK" ps -a -n -o ID)
[[ -z $left ]] || bench_note "WARNING: ctk containers left after the runs: $left"
left=$("${BENCH_OCI[@]}" list -q 2>/dev/null || true)
[[ -z $left ]] || bench_note "WARNING: $OCI containers left after the runs: $left"
if [[ " ${peers[*]} " == *" podman "* ]]; then
	left=$("${BENCH_PODMAN[@]}" ps -a -q)
	[[ -z $left ]] || bench_note "WARNING: podman containers left after the runs: $left"
fi

bench_header "run: '$CTK run --rm busybox true' vs '$OCI run --bundle B ID' (true)${podman_hostname:+ vs 'podman run --rm --network none bb true'}"
printf '%s: %s (%s); cleanup: %s\n' "$OCI" "$("$OCI" --version | head -n 1)" "$BENCH_OCI_WHY" "$oci_cleanup"
if [[ -n $podman_hostname ]]; then
	printf 'podman: %s (runtime runc, cgroupfs, storage in a temporary --root)\n' "$(podman --version)"
fi
printf 'each: a new container (own mount, pid, uts, ipc, net namespaces) running true, waited for and removed\n'
printf 'check: ran inside (hostnames: ctk %s, %s %s%s)\n' "$ctk_hostname" "$OCI" "$oci_hostname" \
	"${podman_hostname:+, podman $podman_hostname}"
bench_report_multi run "$GOAL" ctk "${peers[@]}"
