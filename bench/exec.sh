#!/usr/bin/env bash
# Benchmark: `ctk exec ID true` against `crun exec ID true` (and `podman exec
# ID true`, when podman is available), each in a running busybox container.
#
# Usage: bench/exec.sh [CTK_BINARY] [RUNS]      (run as root)
#
# Setup, all of it undone at exit: as in run.sh (packages, the busybox image
# in a temporary CTK_ROOT, an OCI bundle for crun, podman with temporary
# storage; crun with hugetlb on a v1 hierarchy, or runc, on hybrid cgroup
# hosts), then one long-running container per engine: `ctk run -d busybox
# sleep 1000`, `crun run -d` of a bundle running sleep 1000, and `podman run
# -d bb sleep 1000`.  The exec commands run alternately (ctk and crun
# taking turns to go first, podman after them), RUNS times each.
# Goal: ctk exec is no slower than crun exec (ratio of medians <= 1.0).
# BENCH_WITH_PODMAN=0 leaves podman out.
set -euo pipefail

source "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

GOAL=1.0

bench_container_start 100 "$@"

# --- ctk
CTK_ID=$("$CTK" run -d busybox sleep 1000 </dev/null) || bench_die "ctk run -d failed"
bench_check_inside ctk 'sleep 1000' "$CTK" exec "$CTK_ID" sh -c "$BENCH_PROBE"
ctk_hostname=$CHECK_HOSTNAME
BENCH_CMD_ctk=("$CTK" exec "$CTK_ID" true)

# --- crun (or runc)
bench_oci_bundle "$BENCH_TMP/bundle" sleep 1000
OCI_SEQ=0
OCI_ID=""

# A detached container of the bundle, and one exec into it.
oci_try() {
	local id=$BENCH_CT_PREFIX-$((OCI_SEQ += 1)) log
	log=$BENCH_TMP/$id.log
	if ! "${BENCH_OCI[@]}" run -d --bundle "$BENCH_TMP/bundle" "$id" </dev/null >"$log" 2>&1; then
		cat "$log" >&2
		"${BENCH_OCI[@]}" delete -f "$id" >/dev/null 2>&1
		return 1
	fi
	if ! "${BENCH_OCI[@]}" exec "$id" true </dev/null >/dev/null; then
		"${BENCH_OCI[@]}" delete -f "$id" >/dev/null 2>&1
		return 1
	fi
	OCI_ID=$id
}

bench_oci_pick oci_try
OCI=$BENCH_OCI_NAME
bench_check_inside "$OCI" 'sleep 1000' "${BENCH_OCI[@]}" exec "$OCI_ID" sh -c "$BENCH_PROBE"
oci_hostname=$CHECK_HOSTNAME
bench_array_set "BENCH_CMD_$OCI" "${BENCH_OCI[@]}" exec "$OCI_ID" true

# --- podman, optional
peers=("$OCI")
podman_hostname=""
PODMAN_ID=$BENCH_CT_PREFIX-podman
if bench_podman_setup; then
	if ! "${BENCH_PODMAN[@]}" run -d --name "$PODMAN_ID" --network none bb sleep 1000 \
		</dev/null >/dev/null 2>"$BENCH_TMP/podman-run.err"; then
		bench_note "podman cannot run a container here, measuring without it: $(tail -n 3 "$BENCH_TMP/podman-run.err" | tr '\n' ' ')"
	elif ! bench_probe_inside podman 'sleep 1000' "${BENCH_PODMAN[@]}" exec "$PODMAN_ID" sh -c "$BENCH_PROBE"; then
		bench_note "podman exec does not work here, measuring without it: $CHECK_WHY"
	else
		podman_hostname=$CHECK_HOSTNAME
		BENCH_CMD_podman=("${BENCH_PODMAN[@]}" exec "$PODMAN_ID" true)
		peers+=(podman)
	fi
fi

bench_note "checks passed; timing $RUNS runs of each of: ctk ${peers[*]}..."
bench_measure_multi ctk "${peers[@]}"

# The targets outlived the measurement (an exec into a dead container
# would have failed, but say so plainly).
state=$("$CTK" ps -n -o STATUS 2>/dev/null | tr -d ' ' || true)
[[ $state == running ]] || bench_note "WARNING: the ctk container is '$state' after the runs"

bench_header "exec: '$CTK exec ID true' vs '$OCI exec ID true'${podman_hostname:+ vs 'podman exec ID true'}"
printf '%s: %s (%s)\n' "$OCI" "$("$OCI" --version | head -n 1)" "$BENCH_OCI_WHY"
if [[ -n $podman_hostname ]]; then
	printf 'podman: %s (runtime runc, cgroupfs, storage in a temporary --root)\n' "$(podman --version)"
fi
printf 'targets: sleep 1000 as PID 1 of a busybox container per engine (hostnames: ctk %s, %s %s%s)\n' \
	"$ctk_hostname" "$OCI" "$oci_hostname" "${podman_hostname:+, podman $podman_hostname}"
bench_report_multi exec "$GOAL" ctk "${peers[@]}"
