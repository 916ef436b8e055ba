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
# For the container benchmarks (run.sh, exec.sh): Debian packages; teardown
# steps that run at exit before bench_cleanup; a busybox image in a private
# CTK_ROOT; OCI bundles for crun or runc, with their state under --root in
# BENCH_TMP; a podman whose storage, state and configuration live in
# BENCH_TMP.  Every peer container's name starts with BENCH_CT_PREFIX, so
# that leftovers are recognisably ours.

BENCH_DEFERRED=()
BENCH_CT_PREFIX="ctkbench-$$"
BENCH_CGROUP_FS=/sys/fs/cgroup
# Run inside a container, prints: hostname, PID 1's command line, the mount
# and PID namespaces, and whether / is the host's (Debian) or the image's.
BENCH_PROBE='hostname; tr "\000" " " </proc/1/cmdline; echo; readlink /proc/self/ns/mnt; readlink /proc/self/ns/pid; if [ -e /etc/debian_version ]; then echo root=host; else echo root=image; fi'

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
		bench_note "still mounted, so $BENCH_TMP is left in place: $(tr '\n' ' ' <<<"$left")"
		BENCH_TMP=
	fi
}

# Paths outside BENCH_TMP that the runtimes create as a side effect (state
# directories, podman's parent cgroups): those missing at the start are
# removed at exit, directories only when empty.
BENCH_NEW_PATHS=()

# bench_track_new_paths PATH...: remember which of PATH... do not exist yet
# (list parents before their children).
bench_track_new_paths() {
	local p
	for p in "$@"; do
		[[ -e $p || -L $p ]] || BENCH_NEW_PATHS+=("$p")
	done
}

bench__remove_new_paths() {
	local i p deadline=$((SECONDS + 10)) left
	while :; do
		left=0
		for ((i = ${#BENCH_NEW_PATHS[@]} - 1; i >= 0; i--)); do
			p=${BENCH_NEW_PATHS[i]}
			if [[ -d $p && ! -L $p ]]; then
				rmdir "$p" 2>/dev/null || left=1
			elif [[ -e $p || -L $p ]]; then
				rm -f "$p" 2>/dev/null || left=1
			fi
		done
		# A cgroup stays busy for a moment after its last process exits.
		((left == 0 || SECONDS >= deadline)) && break
		sleep 0.2
	done
	for p in "${BENCH_NEW_PATHS[@]}"; do
		[[ -e $p ]] && bench_note "left in place (not empty or busy): $p"
	done
	BENCH_NEW_PATHS=()
}

# ---- the hugetlb workaround for crun on hybrid hosts
#
# On a hybrid host crun refuses to run while cgroup2 has controllers ("cgroups
# in hybrid mode not supported, drop all controllers from cgroupv2"); there,
# hugetlb is the only one.  Mounting a v1 hugetlb hierarchy moves it off
# cgroup2.  Undoing it: remove the empty cgroups made in it meanwhile (ours,
# and any other engine's that ran while it was mounted: they hold the
# hierarchy alive), unmount, and check that hugetlb is back on cgroup2; the
# kernel may keep a hierarchy whose cgroups are still going away, so this is
# retried.

BENCH_HUGETLB_DIR=$BENCH_CGROUP_FS/hugetlb
BENCH_HUGETLB_MOUNTED=0 # 1: we mounted it; 2: and made its directory

# bench__hugetlb_hierarchy: the hierarchy id of hugetlb (0: cgroup2 or none).
bench__hugetlb_hierarchy() {
	awk '$1 == "hugetlb" { print $2; found = 1 } END { if (!found) print 0 }' /proc/cgroups
}

# bench_hugetlb_mount: mount a v1 hugetlb hierarchy at /sys/fs/cgroup/hugetlb
# unless there is one; returns 1, having said why, if that fails.
bench_hugetlb_mount() {
	local made=0
	if mountpoint -q "$BENCH_HUGETLB_DIR" 2>/dev/null; then
		bench_note "$BENCH_HUGETLB_DIR is mounted already"
		return 0
	fi
	if [[ ! -d $BENCH_HUGETLB_DIR ]]; then
		mkdir "$BENCH_HUGETLB_DIR" || return 1
		made=1
	fi
	if ! mount -t cgroup -o hugetlb cgroup "$BENCH_HUGETLB_DIR"; then
		((made)) && rmdir "$BENCH_HUGETLB_DIR"
		bench_note "cannot mount the hugetlb cgroup hierarchy at $BENCH_HUGETLB_DIR"
		return 1
	fi
	BENCH_HUGETLB_MOUNTED=$((1 + made))
	bench_note "mounted a cgroup v1 hugetlb hierarchy at $BENCH_HUGETLB_DIR (undone at exit)"
}

# bench_hugetlb_undo: undo bench_hugetlb_mount (nothing if it mounted nothing).
bench_hugetlb_undo() {
	local attempt d busy=""
	((BENCH_HUGETLB_MOUNTED)) || return 0
	for attempt in 1 2 3 4 5 6 7 8 9 10; do
		if ! mountpoint -q "$BENCH_HUGETLB_DIR" 2>/dev/null; then
			mount -t cgroup -o hugetlb cgroup "$BENCH_HUGETLB_DIR" 2>/dev/null || break
		fi
		busy=""
		while IFS= read -r d; do
			[[ -n $d ]] || continue
			rmdir "$d" 2>/dev/null || busy+="${d#"$BENCH_HUGETLB_DIR"} "
		done < <(find "$BENCH_HUGETLB_DIR" -mindepth 1 -type d 2>/dev/null | sort -r)
		umount "$BENCH_HUGETLB_DIR" 2>/dev/null || umount -l "$BENCH_HUGETLB_DIR"
		sleep 0.5
		[[ $(bench__hugetlb_hierarchy) == 0 ]] && break
	done
	((BENCH_HUGETLB_MOUNTED == 2)) && rmdir "$BENCH_HUGETLB_DIR" 2>/dev/null
	if [[ $(bench__hugetlb_hierarchy) != 0 ]]; then
		bench_note "unmounted $BENCH_HUGETLB_DIR, but the kernel keeps its hugetlb hierarchy${busy:+ (busy cgroups: $busy)}: hugetlb is not back on cgroup2"
	fi
	BENCH_HUGETLB_MOUNTED=0
}

# bench_container_setup: the common start of the container benchmarks: the
# teardown steps, the packages (crun, busybox-static and jq required; runc
# and podman when Debian's archive has them), and the busybox image written
# by tests/fixtures/mkimage.sh as BENCH_TMP/busybox.tar (a `docker save`
# archive) and BENCH_TMP/rootfs.tar (its root alone).
bench_container_setup() {
	local mk=$BENCH_REPO/tests/fixtures/mkimage.sh h paths=()
	bench_defer bench__release_tmp
	bench_apt_install busybox-static jq crun ||
		bench_die "crun, busybox-static and jq are needed"
	bench_apt_install runc || bench_note "runc is not available"
	if [[ ${BENCH_WITH_PODMAN:-1} != 0 ]]; then
		bench_apt_install podman || bench_note "podman is not available"
	fi
	bench_require_cmds tar jq timeout mountpoint find awk sort
	# Side effects of the runtimes outside BENCH_TMP (--root/--runroot do
	# not cover these): runc's and crun's default state directories, which
	# podman's runc and `crun --version` use; podman's network run
	# directory, its parent cgroups with the cgroupfs manager, and its shm
	# lock should the file locks configured below not take.
	paths=(/run/runc /run/crun /run/containers /run/containers/networks /run/libpod
		/dev/shm/libpod_lock)
	for h in "$BENCH_CGROUP_FS"/*/; do
		h=${h%/}
		[[ -d $h && $h != "$BENCH_HUGETLB_DIR" ]] || continue
		paths+=("$h/libpod_parent" "$h/libpod_parent/conmon")
	done
	bench_track_new_paths "${paths[@]}"
	bench_defer bench__remove_new_paths
	bench_defer bench_hugetlb_undo
	"$mk" docker "$BENCH_TMP/busybox.tar" || bench_die "$mk docker failed"
	"$mk" rootfs "$BENCH_TMP/rootfs.tar" || bench_die "$mk rootfs failed"
}

# bench_container_start DEFAULT_RUNS [CTK_BINARY] [RUNS]: the start of a
# container benchmark (run.sh, exec.sh): bench_parse_args, the root check,
# bench_container_setup and ctk's store with the image (bench_ctk_store).
bench_container_start() {
	bench_parse_args "$@"
	bench_require_root
	bench_container_setup
	bench_ctk_store
}

# bench_probe_inside LABEL PID1_GLOB CMD...: run CMD..., which must run
# BENCH_PROBE in a container, and check that it ran there: another
# hostname, another PID 1 (whose command line matches PID1_GLOB), other
# mount and PID namespaces, and the image's root.  Sets CHECK_HOSTNAME;
# returns 1 with the reason in CHECK_WHY if not.
bench_probe_inside() {
	local label=$1 glob=$2 out lines host_pid1 pid1 why="" rc=0
	shift 2
	out=$("$@" </dev/null 2>"$BENCH_TMP/check.err") || rc=$?
	if ((rc != 0)); then
		CHECK_WHY="$label: the check failed (exit $rc): $* -- $(tr '\n' ' ' <"$BENCH_TMP/check.err")"
		return 1
	fi
	mapfile -t lines <<<"$out"
	host_pid1=$(tr '\0' ' ' </proc/1/cmdline 2>/dev/null || true)
	((${#lines[@]} == 5)) || why="unexpected output"
	[[ -z $why && ${lines[0]} == "$(hostname)" ]] && why="the host's hostname"
	[[ -z $why && ${lines[1]} == "$host_pid1" ]] && why="the host's PID 1"
	# shellcheck disable=SC2053  # PID1_GLOB is a pattern
	[[ -z $why && ${lines[1]% } != $glob ]] && why="PID 1 is not '$glob'"
	[[ -z $why && ${lines[2]} == "$(readlink /proc/self/ns/mnt)" ]] && why="the host's mount namespace"
	[[ -z $why && ${lines[3]} == "$(readlink /proc/self/ns/pid)" ]] && why="the host's PID namespace"
	[[ -z $why && ${lines[4]} != root=image ]] && why="the host's root"
	if [[ -n $why ]]; then
		CHECK_WHY="$label: the command did not run inside the container ($why): $*
$out"
		return 1
	fi
	CHECK_HOSTNAME=${lines[0]}
	pid1=${lines[1]% }
	((${#pid1} <= 32)) || pid1="${pid1:0:29}..."
	bench_note "$label: runs inside its container (hostname ${lines[0]}, PID 1 '$pid1', ${lines[2]})"
}

# bench_check_inside LABEL PID1_GLOB CMD...: bench_probe_inside, aborting
# if the check fails.
bench_check_inside() {
	bench_probe_inside "$@" || bench_die "$CHECK_WHY"
}

# ---- ctk

# bench_ctk_store: an empty CTK_ROOT (exported) in BENCH_TMP with the busybox
# image imported; every container in it is removed at exit.
bench_ctk_store() {
	CTK_ROOT=$(mktemp -d "$BENCH_TMP/ctk-root.XXXXXX")
	export CTK_ROOT
	bench_defer bench__ctk_store_remove "$CTK" "$CTK_ROOT"
	"$CTK" image import "$BENCH_TMP/busybox.tar" >/dev/null || bench_die "ctk image import failed"
}

bench__ctk_store_remove() {
	local ctk=$1 root=$2 ids
	ids=$(CTK_ROOT=$root timeout 30 "$ctk" ps -a -n -o ID 2>/dev/null)
	# shellcheck disable=SC2086  # one id per word
	[[ -z $ids ]] || CTK_ROOT=$root timeout 60 "$ctk" rm -f -v $ids >/dev/null
}

# ---- crun and runc

# bench_oci_bundle DIR ARG...: an OCI bundle in DIR: rootfs/ from
# BENCH_TMP/rootfs.tar and the config.json of `crun spec` (runc's if there
# is no crun) running ARG... without a terminal.
bench_oci_bundle() {
	local dir=$1 spec=crun args="" sep="" a
	shift
	command -v crun >/dev/null 2>&1 || spec=runc
	mkdir -p "$dir/rootfs"
	tar -xf "$BENCH_TMP/rootfs.tar" -C "$dir/rootfs" || bench_die "cannot unpack the rootfs into $dir"
	(cd "$dir" && "$spec" spec) || bench_die "$spec spec failed in $dir"
	# (jq 1.6 would take an ARG such as -c given with --args for an option)
	for a in "$@"; do
		args+=$sep$(jq -n --arg a "$a" '$a')
		sep=,
	done
	jq --argjson args "[$args]" '.process.args = $args | .process.terminal = false' \
		<"$dir/config.json" >"$dir/config.json.new" || bench_die "cannot edit $dir/config.json"
	mv -- "$dir/config.json.new" "$dir/config.json"
}

# bench_oci_use RUNTIME: make RUNTIME (crun or runc) the OCI peer: BENCH_OCI is
# the command with --root in BENCH_TMP; its containers are deleted at exit.
bench_oci_use() {
	local state=$BENCH_TMP/$1-state
	mkdir -p "$state"
	BENCH_OCI_NAME=$1
	BENCH_OCI=("$1" --root "$state")
	bench_defer bench__oci_remove "$1" "$state"
}

bench__oci_remove() {
	local rt=$1 state=$2 id d
	[[ -d $state ]] || return 0
	for id in $(timeout 30 "$rt" --root "$state" list -q 2>/dev/null); do
		timeout 30 "$rt" --root "$state" delete -f "$id" >/dev/null 2>&1
	done
	# Cgroups the runtime made for our containers (/ID in each hierarchy)
	# and failed to remove.
	for d in "$BENCH_CGROUP_FS"/*/"$BENCH_CT_PREFIX"-*; do
		[[ -d $d ]] && rmdir "$d" 2>/dev/null
	done
	return 0
}

# bench_oci_pick TRY: choose the OCI peer: crun; crun again with a v1
# hugetlb hierarchy mounted (see above) should it fail; else runc.  TRY is
# a function that does what the benchmark needs with BENCH_OCI (and says
# why on stderr when it fails).  Sets BENCH_OCI_NAME, BENCH_OCI and
# BENCH_OCI_WHY (how the peer was found, for the report).
bench_oci_pick() {
	local try=$1 err=$BENCH_TMP/oci.err
	BENCH_OCI_WHY=""
	if command -v crun >/dev/null 2>&1; then
		bench_oci_use crun
		if "$try" 2>"$err"; then
			BENCH_OCI_WHY="crun"
			return 0
		fi
		bench_note "crun failed: $(tr '\n' ' ' <"$err")"
		if [[ $(bench__hugetlb_hierarchy) == 0 ]] && grep -qw hugetlb "$BENCH_CGROUP_FS/unified/cgroup.controllers" 2>/dev/null &&
			bench_hugetlb_mount; then
			if "$try" 2>"$err"; then
				BENCH_OCI_WHY="crun, with a cgroup v1 hugetlb hierarchy mounted for it"
				return 0
			fi
			bench_note "crun failed with hugetlb on cgroup v1 too: $(tr '\n' ' ' <"$err")"
			bench_hugetlb_undo
		fi
	fi
	if command -v runc >/dev/null 2>&1; then
		bench_oci_use runc
		if "$try" 2>"$err"; then
			BENCH_OCI_WHY="runc, as crun cannot run containers here"
			bench_note "using runc as the peer instead of crun"
			return 0
		fi
		bench_note "runc failed: $(tr '\n' ' ' <"$err")"
	fi
	bench_die "neither crun nor runc can run a container on this host"
}

# ---- podman

# bench_podman_setup: podman with its storage (--root, --runroot), runtime
# state (--tmpdir), configuration (CONTAINERS_CONF, CONTAINERS_STORAGE_CONF)
# and locks in BENCH_TMP/podman: cgroupfs, file events, runc, ulimits within
# this host's limits; the busybox root imported as bb:latest.  Sets
# BENCH_PODMAN to the command and its global flags.  Returns 1, having said
# why, when podman is missing or cannot import the image.
bench_podman_setup() {
	local d=$BENCH_TMP/podman shadow
	BENCH_PODMAN=()
	if [[ ${BENCH_WITH_PODMAN:-1} == 0 ]]; then
		bench_note "podman: skipped (BENCH_WITH_PODMAN=0)"
		return 1
	fi
	if ! command -v podman >/dev/null 2>&1; then
		bench_note "podman: not installed, measuring without it"
		return 1
	fi
	mkdir -p "$d"/{root,runroot,tmp,net,imgtmp}
	cat >"$d/containers.conf" <<-CONF
		[containers]
		default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]

		[network]
		network_config_dir = "$d/net"

		[engine]
		cgroup_manager = "cgroupfs"
		events_logger = "file"
		events_logfile_path = "$d/events.log"
		runtime = "runc"
		tmp_dir = "$d/tmp"
		lock_type = "file"
		image_copy_tmp_dir = "$d/imgtmp"
	CONF
	cat >"$d/storage.conf" <<-CONF
		[storage]
		driver = "overlay"
		graphroot = "$d/root"
		runroot = "$d/runroot"
	CONF
	export CONTAINERS_CONF=$d/containers.conf CONTAINERS_STORAGE_CONF=$d/storage.conf
	BENCH_PODMAN=(podman --root "$d/root" --runroot "$d/runroot" --tmpdir "$d/tmp")
	bench_defer bench__podman_remove "$d"
	# The import goes through containers/image, which records blobs in
	# /var/lib/containers/cache whatever --root says: give it a tmpfs
	# there, in a mount namespace of its own.
	for shadow in /var/lib/containers/cache /var/lib/containers /var/lib; do
		[[ -d $shadow ]] && break
	done
	if ! unshare --mount --propagation private sh -c 'mount -t tmpfs tmpfs "$1" && shift && exec "$@"' \
		sh "$shadow" "${BENCH_PODMAN[@]}" import -q "$BENCH_TMP/rootfs.tar" bb:latest \
		>/dev/null 2>"$d/import.err"; then
		bench_note "podman: cannot import the image, measuring without podman: $(tail -n 3 "$d/import.err" | tr '\n' ' ')"
		BENCH_PODMAN=()
		return 1
	fi
}

bench__podman_remove() {
	local d=$1
	[[ -d $d/root ]] || return 0
	timeout 120 podman --root "$d/root" --runroot "$d/runroot" --tmpdir "$d/tmp" \
		rm -a -f -t 0 >/dev/null 2>&1
	# conmon runs `podman container cleanup` as its container exits; let
	# it finish before the storage goes.
	local deadline=$((SECONDS + 10))
	while pgrep -f -- "--exit-dir $d/tmp/exits" >/dev/null 2>&1 && ((SECONDS < deadline)); do
		sleep 0.1
	done
	return 0
}

# ---- timing and report for several commands

# bench_array_set NAME VALUE...: set the array NAME (global unless a caller
# has a local of that name) to VALUE...
bench_array_set() {
	local -n set_arr_=$1
	shift
	set_arr_=("$@")
}

# bench__array_add NAME VALUE: append VALUE to the array NAME.
bench__array_add() {
	local -n add_arr_=$1
	add_arr_+=("$2")
}

# bench__array_get OUT NAME: copy the array NAME into the array OUT.
bench__array_get() {
	local -n out_arr_=$1 in_arr_=$2
	out_arr_=("${in_arr_[@]}")
}

# bench_measure_multi NAME...: like bench_measure, for any number of
# commands: NAME's is the array BENCH_CMD_NAME.  Every round runs each
# once: the first two alternately first (as bench_measure does ctk and its
# peer), then the others in order, so that whatever a slow peer leaves
# running behind it (podman's cleanup) lands on each of the first two
# equally often.  Fills the arrays BENCH_US_NAME (microseconds).
bench_measure_multi() {
	local names=("$@") order i name t total=$((BENCH_WARMUP + RUNS))
	local -a cmd
	for name in "${names[@]}"; do
		bench_array_set "BENCH_US_$name"
	done
	for ((i = 0; i < total; i++)); do
		order=("${names[@]}")
		if ((i % 2 == 1 && ${#names[@]} >= 2)); then
			order[0]=${names[1]}
			order[1]=${names[0]}
		fi
		for name in "${order[@]}"; do
			bench__array_get cmd "BENCH_CMD_$name"
			bench__time t "${cmd[@]}"
			if ((i >= BENCH_WARMUP)); then
				bench__array_add "BENCH_US_$name" "$t"
			fi
		done
	done
}

# bench_report_multi TEST GOAL REF PEER...: the summary of BENCH_US_REF
# against each BENCH_US_PEER, with the goal "ratio of medians REF/PEER <=
# GOAL" for the first PEER; ends with the RESULT line, which lists every
# peer's median and ratio before the goal and the verdict.
bench_report_multi() {
	local test=$1 goal=$2 ref=$3 name med p90 rmed ratio ratio2 paired verdict="" result i
	local -a us ref_us peer_us
	local -A meds
	shift 3
	printf 'runs: %d per command (interleaved: %s and %s alternately first%s; %d warm-up rounds discarded)\n' \
		"$RUNS" "$ref" "$1" "${2:+, then ${*:2}}" "$BENCH_WARMUP"
	printf '%-10s %12s %12s\n' "" "median" "p90"
	for name in "$ref" "$@"; do
		bench__array_get us "BENCH_US_$name"
		read -r med p90 < <(bench__stats "${us[@]}")
		meds[$name]=$med
		awk -v n="$name" -v m="$med" -v p="$p90" 'BEGIN { printf "%-10s %9.3f ms %9.3f ms\n", n, m / 1000, p / 1000 }'
	done
	rmed=${meds[$ref]}
	bench__array_get ref_us "BENCH_US_$ref"
	result=$(awk -v t="$test" -v n="$ref" -v m="$rmed" 'BEGIN { printf "RESULT %s %s=%.2fms", t, n, m / 1000 }')
	for name in "$@"; do
		bench__array_get peer_us "BENCH_US_$name"
		ratio=$(awk -v a="$rmed" -v b="${meds[$name]}" 'BEGIN { printf "%.4f", a / b }')
		ratio2=$(awk -v a="$rmed" -v b="${meds[$name]}" 'BEGIN { printf "%.2f", a / b }')
		paired=$(for i in "${!ref_us[@]}"; do
			awk -v a="${ref_us[i]}" -v b="${peer_us[i]}" 'BEGIN { printf "%.6f\n", a / b }'
		done | sort -n | awk '{ v[NR] = $1 } END {
			printf "%.2f", (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }')
		printf 'ratio (%s/%s, median): %s   (median of per-round ratios: %s)\n' "$ref" "$name" "$ratio2" "$paired"
		if [[ -z $verdict ]]; then
			verdict=$(awk -v r="$ratio" -v g="$goal" 'BEGIN { print (r <= g) ? "PASS" : "MISS" }')
			result+=$(awk -v n="$name" -v m="${meds[$name]}" -v r="$ratio2" \
				'BEGIN { printf " %s=%.2fms ratio=%s", n, m / 1000, r }')
		else
			result+=$(awk -v n="$name" -v m="${meds[$name]}" -v r="$ratio2" \
				'BEGIN { printf " %s=%.2fms ratio_%s=%s", n, m / 1000, n, r }')
		fi
	done
	printf 'goal: ratio %s/%s <= %s -> %s\n' "$ref" "$1" "$goal" "$verdict"
	printf '%s goal<=%s %s\n' "$result" "$goal" "$verdict"
}
