#!/usr/bin/env bash
# Shared helpers for the bench/*.sh scripts.  Source it; don't run it.
#
# It provides: argument handling ([CTK_BINARY] [RUNS]), checks for root and
# for the peer tools, a cleanup trap that removes every process (and with it
# every namespace and mount) a script started, a paired timing loop that runs
# ctk and its peer alternately, and the summary printout.
set -euo pipefail

BENCH_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
BENCH_REPO=$(cd -- "$BENCH_DIR/.." && pwd)
BENCH_WARMUP=${BENCH_WARMUP:-5}

# Processes to get rid of on exit, as "holder:child" pairs.  The holder is an
# `unshare --fork --kill-child` we started in the background; the child is
# the first process of the namespaces it made (0 while not known yet).
BENCH_HOLDERS=()

bench_die() {
	printf '%s: error: %s\n' "${0##*/}" "$*" >&2
	exit 1
}

bench_note() {
	printf '%s: %s\n' "${0##*/}" "$*" >&2
}

bench_require_root() {
	[[ $(id -u) -eq 0 ]] || bench_die "must be run as root (it creates namespaces and enters them)"
}

bench_require_cmds() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || bench_die "required command '$c' not found in PATH"
	done
}

# bench_parse_args DEFAULT_RUNS [CTK_BINARY] [RUNS]
# Sets CTK (an absolute path) and RUNS.
bench_parse_args() {
	local default_runs=$1
	shift
	if [[ ${1:-} == -h || ${1:-} == --help ]]; then
		printf 'Usage: %s [CTK_BINARY] [RUNS]\n' "${0##*/}"
		printf '  CTK_BINARY  ctk to measure (default: %s)\n' "$BENCH_REPO/build/ctk"
		printf '  RUNS        measured iterations (default: %s); BENCH_WARMUP=%s more are discarded\n' \
			"$default_runs" "$BENCH_WARMUP"
		exit 0
	fi
	(($# <= 2)) || bench_die "too many arguments (usage: ${0##*/} [CTK_BINARY] [RUNS])"
	CTK=${1:-$BENCH_REPO/build/ctk}
	RUNS=${2:-$default_runs}
	[[ $RUNS =~ ^[1-9][0-9]*$ ]] || bench_die "RUNS must be a positive integer, got '$RUNS'"
	[[ $BENCH_WARMUP =~ ^[0-9]+$ ]] || bench_die "BENCH_WARMUP must be a non-negative integer"
	if [[ ! -e $CTK ]]; then
		bench_die "ctk binary '$CTK' not found (run 'make' in $BENCH_REPO first)"
	fi
	[[ -x $CTK && ! -d $CTK ]] || bench_die "'$CTK' is not an executable file"
	CTK=$(cd -- "$(dirname -- "$CTK")" && pwd)/$(basename -- "$CTK")
	[[ -n ${EPOCHREALTIME:-} ]] || bench_die "bash 5 or later is needed (\$EPOCHREALTIME)"
}

# ---------------------------------------------------------------- cleanup

# bench__state PID: print the one-letter state of PID (empty if gone).
bench__state() {
	local st
	st=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
	st=${st##*) }
	printf '%s' "${st%% *}"
}

# bench__kill_child HOLDER CHILD: SIGKILL CHILD if it is still HOLDER's child
# (so a freed and reused PID can never be hit).  As the init of its PID
# namespace, its death takes every process in that namespace with it.
bench__kill_child() {
	local holder=$1 child=$2 st
	((child > 0)) || return 0
	st=$(cat "/proc/$child/stat" 2>/dev/null) || return 0
	st=${st##*) }
	st=${st#* }
	[[ ${st%% *} == "$holder" ]] && kill -KILL "$child" 2>/dev/null
	return 0
}

bench_cleanup() {
	local rc=$? entry holder deadline
	# A second Ctrl-C must not cut the cleanup short.
	trap - EXIT
	trap '' INT TERM HUP
	set +e
	for entry in "${BENCH_HOLDERS[@]}"; do
		bench__kill_child "${entry%%:*}" "${entry##*:}"
	done
	# Each holder (our own child, so its PID stays ours until we reap it)
	# now reaps its child and exits; give it a moment to do so, so that
	# nothing is left behind for PID 1 to collect, then make sure of it.
	# (--kill-child would also SIGKILL the child should the holder go first.)
	deadline=$((${EPOCHREALTIME/[!0-9]/} + 10000000))
	for entry in "${BENCH_HOLDERS[@]}"; do
		holder=${entry%%:*}
		while [[ -n $(bench__state "$holder") && $(bench__state "$holder") != Z ]] &&
			((${EPOCHREALTIME/[!0-9]/} < deadline)); do
			sleep 0.01
		done
		kill -KILL "$holder" 2>/dev/null
		wait "$holder" 2>/dev/null
	done
	BENCH_HOLDERS=()
	[[ -n ${BENCH_TMP:-} && -d $BENCH_TMP ]] && rm -rf -- "$BENCH_TMP"
	exit "$rc"
}

trap bench_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

BENCH_TMP=$(mktemp -d "${TMPDIR:-/tmp}/ctk-bench.XXXXXX")

# ---------------------------------------------------------- namespace holders

# bench__child_of PID: print the PIDs of PID's children (space separated).
bench__child_of() {
	local f out=""
	for f in /proc/"$1"/task/*/children; do
		[[ -r $f ]] && out+=$(<"$f")" "
	done
	if [[ -z ${out// /} && ! -e /proc/$1/task/$1/children ]]; then
		out=$(pgrep -P "$1" | tr '\n' ' ' || true)
	fi
	printf '%s' "$out"
}

# bench_start_holder COMM UNSHARE_ARGS...
# Starts `unshare --fork --kill-child UNSHARE_ARGS...` in the background and
# waits until its child has exec'ed COMM.  Sets HOLDER_PID and HOLDER_CHILD.
bench_start_holder() {
	local comm=$1 slot deadline kids c errf
	shift
	slot=${#BENCH_HOLDERS[@]}
	# unshare complains on stderr when its child is SIGKILLed at cleanup
	# ("sigprocmask unblock failed"); keep that out of the output, but show
	# it should unshare fail while starting.
	errf=$BENCH_TMP/holder-$slot.err
	unshare --fork --kill-child "$@" </dev/null >/dev/null 2>"$errf" &
	HOLDER_PID=$!
	BENCH_HOLDERS[slot]="$HOLDER_PID:0"
	HOLDER_CHILD=
	deadline=$((SECONDS + 20))
	while :; do
		if [[ -z $(bench__state "$HOLDER_PID") || $(bench__state "$HOLDER_PID") == Z ]]; then
			bench_die "unshare $* exited early: $(cat "$errf" 2>/dev/null)"
		fi
		kids=$(bench__child_of "$HOLDER_PID")
		for c in $kids; do
			BENCH_HOLDERS[slot]="$HOLDER_PID:$c"
			if [[ $(cat "/proc/$c/comm" 2>/dev/null || true) == "$comm" ]]; then
				HOLDER_CHILD=$c
			fi
		done
		[[ -n $HOLDER_CHILD ]] && break
		((SECONDS < deadline)) || bench_die "timed out waiting for '$comm' under unshare (PID $HOLDER_PID)"
		sleep 0.01
	done
}

# ------------------------------------------------------------------- timing

# bench__time OUTVAR CMD...: run CMD once (stdout discarded) and store its
# wall-clock time in microseconds in OUTVAR.  Any failure aborts.
bench__time() {
	local -n out_=$1
	local t0 t1
	shift
	t0=$EPOCHREALTIME
	"$@" >/dev/null || bench_die "command failed (exit $?): $*"
	t1=$EPOCHREALTIME
	t0=${t0//[!0-9]/}
	t1=${t1//[!0-9]/}
	out_=$((10#$t1 - 10#$t0))
}

# bench_measure: time BENCH_CTK_CMD and BENCH_PEER_CMD (arrays) RUNS times
# each after BENCH_WARMUP discarded rounds.  Every round runs both, ctk first
# in even rounds and the peer first in odd ones.  Fills CTK_US and PEER_US.
bench_measure() {
	local i total=$((BENCH_WARMUP + RUNS)) a b
	CTK_US=()
	PEER_US=()
	for ((i = 0; i < total; i++)); do
		if ((i % 2 == 0)); then
			bench__time a "${BENCH_CTK_CMD[@]}"
			bench__time b "${BENCH_PEER_CMD[@]}"
		else
			bench__time b "${BENCH_PEER_CMD[@]}"
			bench__time a "${BENCH_CTK_CMD[@]}"
		fi
		if ((i >= BENCH_WARMUP)); then
			CTK_US+=("$a")
			PEER_US+=("$b")
		fi
	done
}

# bench__stats US...: print "median p90" in microseconds (p90 by nearest rank).
bench__stats() {
	printf '%s\n' "$@" | sort -n | awk '
		{ v[NR] = $1 }
		END {
			m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
			r = int(0.9 * NR); if (r < 0.9 * NR) r++; if (r < 1) r = 1
			printf "%.1f %.1f\n", m, v[r]
		}'
}

# bench_report NAME PEER GOAL: print the summary of CTK_US and PEER_US
# against "ratio of medians <= GOAL", ending with the RESULT line.
bench_report() {
	local name=$1 peer=$2 goal=$3 cmed cp90 pmed pp90 ratio paired verdict i
	read -r cmed cp90 < <(bench__stats "${CTK_US[@]}")
	read -r pmed pp90 < <(bench__stats "${PEER_US[@]}")
	ratio=$(awk -v a="$cmed" -v b="$pmed" 'BEGIN { printf "%.4f", a / b }')
	paired=$(for i in "${!CTK_US[@]}"; do
		awk -v a="${CTK_US[i]}" -v b="${PEER_US[i]}" 'BEGIN { printf "%.6f\n", a / b }'
	done | sort -n | awk '{ v[NR] = $1 } END {
		printf "%.2f", (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }')
	verdict=$(awk -v r="$ratio" -v g="$goal" 'BEGIN { print (r <= g) ? "PASS" : "MISS" }')
	printf 'runs: %d per command (interleaved, order alternating; %d warm-up rounds discarded)\n' \
		"$RUNS" "$BENCH_WARMUP"
	printf '%-10s %12s %12s\n' "" "median" "p90"
	awk -v n=ctk -v m="$cmed" -v p="$cp90" 'BEGIN { printf "%-10s %9.3f ms %9.3f ms\n", n, m / 1000, p / 1000 }'
	awk -v n="$peer" -v m="$pmed" -v p="$pp90" 'BEGIN { printf "%-10s %9.3f ms %9.3f ms\n", n, m / 1000, p / 1000 }'
	printf 'ratio (ctk/%s, median): %.2f   (median of per-round ratios: %s)\n' "$peer" "$ratio" "$paired"
	printf 'goal: ratio <= %s -> %s\n' "$goal" "$verdict"
	awk -v name="$name" -v peer="$peer" -v c="$cmed" -v p="$pmed" -v r="$ratio" -v g="$goal" -v v="$verdict" \
		'BEGIN { printf "RESULT %s ctk=%.2fms %s=%.2fms ratio=%.2f goal<=%s %s\n", name, c / 1000, peer, p / 1000, r, g, v }'
}

# bench_header TITLE: describe what is measured and where.
bench_header() {
	printf '%s\n' "$1"
	printf 'ctk: %s\n' "$CTK"
	printf 'host: %s %s, %s CPUs\n' "$(uname -s)" "$(uname -r)" "$(nproc 2>/dev/null || echo '?')"
}

# ---------------------------------------------------------------------- JSON

# lsns --json nests rows under their parent row's "children" when it would
# draw a tree (2.38 does so even without --tree), so every JSON helper here
# walks the rows recursively.
BENCH_JQ_ROWS='[.namespaces | .. | objects | select(has("ns"))]'
BENCH_PY_ROWS='
import json, sys
def rows(items):
    for r in items:
        yield r
        yield from rows(r.get("children") or [])
'

# bench_json_ns_set FILE [nonzero]: print the sorted, unique namespace
# inodes listed in a `--json` namespace listing; with "nonzero", skip rows
# whose nprocs is 0 (persistent namespaces without processes).
bench_json_ns_set() {
	local file=$1 mode=${2:-all}
	if command -v jq >/dev/null 2>&1; then
		jq -r --arg mode "$mode" "$BENCH_JQ_ROWS"'[] | select($mode != "nonzero" or .nprocs != 0) | .ns' "$file"
	else
		python3 -c "$BENCH_PY_ROWS"'
for r in rows(json.load(open(sys.argv[1]))["namespaces"]):
    if sys.argv[2] != "nonzero" or r.get("nprocs") != 0:
        print(r["ns"])' "$file" "$mode"
	fi | sort -u
}

# bench_json_counts FILE: print "NAMESPACES PROCESSES" for a `--json`
# listing; every process is in exactly one PID namespace, so the processes
# are the sum of nprocs over the pid rows.
bench_json_counts() {
	if command -v jq >/dev/null 2>&1; then
		jq -r "$BENCH_JQ_ROWS"' | "\(length) \([.[] | select(.type == "pid") | .nprocs] | add // 0)"' "$1"
	else
		python3 -c "$BENCH_PY_ROWS"'
rs = list(rows(json.load(open(sys.argv[1]))["namespaces"]))
print(len(rs), sum(r.get("nprocs") or 0 for r in rs if r.get("type") == "pid"))' "$1"
	fi
}

bench_require_json_tool() {
	command -v jq >/dev/null 2>&1 || command -v python3 >/dev/null 2>&1 ||
		bench_die "need jq or python3 to read JSON"
}

# ---------------------------------------------------------------- containers
#
# For the container benchmarks (run.sh, exec.sh): Debian packages, teardown
# steps that run at exit before bench_cleanup, a busybox image in a private
# CTK_ROOT, OCI bundles for crun or runc (state under --root in BENCH_TMP),
# and a podman whose storage, state and configuration live in BENCH_TMP.
# Peer container ids start with "ctkbench-PID-" so that leftovers are ours.

BENCH_DEFERRED=()
BENCH_CT_PREFIX="ctkbench-$$"

# bench_defer CMD [ARG...]: run CMD at exit, before bench_cleanup, the last
# registered first (teardown mirrors setup).  Its failures are ignored; it
# must not exit.
bench_defer() {
	local q
	printf -v q '%q ' "$@"
	BENCH_DEFERRED+=("$q")
	trap bench__deferred_cleanup EXIT
}

bench__return() {
	return "$1"
}

bench__deferred_cleanup() {
	local rc=$? i
	trap - EXIT
	trap '' INT TERM HUP
	set +e
	for ((i = ${#BENCH_DEFERRED[@]} - 1; i >= 0; i--)); do
		eval "${BENCH_DEFERRED[i]}"
	done
	BENCH_DEFERRED=()
	bench__return "$rc"
	bench_cleanup
}

# bench_pkg_installed PKG: whether the Debian package PKG is installed.
bench_pkg_installed() {
	[[ $(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null || true) == installed ]]
}

bench__apt_get() {
	DEBIAN_FRONTEND=noninteractive apt-get -q -y -o DPkg::Lock::Timeout=300 \
		--no-install-recommends "$@"
}

# bench_apt_install PKG...: install those of PKG... that are missing with
# apt-get (without recommends), updating the package lists should the first
# attempt fail.  Returns 1, having said why, if they cannot be installed.
bench_apt_install() {
	local missing=() p log=$BENCH_TMP/apt.log
	for p in "$@"; do
		bench_pkg_installed "$p" || missing+=("$p")
	done
	((${#missing[@]} > 0)) || return 0
	if ! command -v apt-get >/dev/null 2>&1; then
		bench_note "cannot install ${missing[*]}: no apt-get"
		return 1
	fi
	bench_note "installing ${missing[*]} with apt-get..."
	if ! bench__apt_get install "${missing[@]}" >"$log" 2>&1; then
		bench__apt_get update >>"$log" 2>&1 || true
		if ! bench__apt_get install "${missing[@]}" >>"$log" 2>&1; then
			bench_note "apt-get install ${missing[*]} failed: $(grep -E '^(E|W):' "$log" | tail -n 3 | tr '\n' ' ')"
			return 1
		fi
	fi
}

# bench__mounts_under DIR: the mount points at or below DIR, deepest first.
bench__mounts_under() {
	awk -v d="$1" '{ m = $5; gsub(/\\040/, " ", m); if (m == d || index(m, d "/") == 1) print m }' \
		/proc/self/mountinfo | sort -r
}

# At exit, after every other teardown step: unmount what is still mounted in
# BENCH_TMP (so that bench_cleanup's rm -rf stays inside it), or keep it.
bench__release_tmp() {
	local m left
	[[ -n ${BENCH_TMP:-} && -d $BENCH_TMP ]] || return 0
	while IFS= read -r m; do
		[[ -n $m ]] || continue
		umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null
	done < <(bench__mounts_under "$BENCH_TMP")
	left=$(bench__mounts_under "$BENCH_TMP")
	if [[ -n $left ]]; then
		bench_note "still mounted, so $BENCH_TMP is left in place: $(printf '%s ' $left)"
		BENCH_TMP=
	fi
}

# bench_container_setup: the common start of the container benchmarks: the
# teardown trap, the packages (crun, busybox-static and jq required; runc
# and podman when Debian's archive has them), and the busybox image written
# by tests/fixtures/mkimage.sh as BENCH_TMP/busybox.tar (a `docker save`
# archive) and BENCH_TMP/rootfs.tar (its root).
bench_container_setup() {
	local mk=$BENCH_REPO/tests/fixtures/mkimage.sh
	bench_defer bench__release_tmp
	bench_apt_install busybox-static jq crun ||
		bench_die "crun, busybox-static and jq are needed"
	bench_apt_install runc || bench_note "runc is not available"
	bench_apt_install podman || bench_note "podman is not available"
	bench_require_cmds tar jq timeout mountpoint
	"$mk" docker "$BENCH_TMP/busybox.tar" || bench_die "$mk docker failed"
	"$mk" rootfs "$BENCH_TMP/rootfs.tar" || bench_die "$mk rootfs failed"
}
