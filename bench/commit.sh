#!/usr/bin/env bash
# Benchmark: `ctk commit C` of a container whose read-write layer holds
# COMMIT_FILES (default 20000) files, COMMIT_MB (default 500) MB in all,
# against GNU `tar -C UPPER -cf FILE .` of that same directory, and
# `podman commit` of a podman container holding the same files, when podman
# is available.
#
# Usage: bench/commit.sh [CTK_BINARY] [RUNS]      (run as root)
#
# Setup, all of it undone at exit: the packages and the busybox image as in
# run.sh; a data set of COMMIT_FILES random files in 100 directories made
# once in BENCH_TMP; then
#   ctk       a container that ran `true` and exited, the data copied into
#             its read-write layer (CTK_ROOT/containers/ID/upper/data);
#   ctk-live  a running container (`sleep`), the data copied in by
#             `ctk exec` from a bind volume (so it is in its read-write layer);
#   tar       `tar -C UPPER -cf BENCH_TMP/out.tar .` of the exited ctk
#             container's read-write layer: a real file on the same file
#             system as the store (GNU tar skips reading the data when it
#             writes to /dev/null);
#   podman    a podman container that ran `true`, the data copied into its
#             UpperDir, and `podman commit` of it.
# Each timed command is followed, untimed, by its cleanup (`ctk image rm`
# of the new image, rm of the tar, `podman rmi`) and a `sync`, so every run
# starts from the same store with nothing dirty in the page cache.  The
# commands run alternately, ctk and tar taking turns to go first, RUNS times
# each after BENCH_WARMUP (default here 1) discarded rounds.
# Goal: ctk takes at most 1.1 times tar's time (ratio of medians).  ctk
# fsyncs the layer it writes (tar does not) and makes the unpacked layer
# that `ctk run` stacks as well.
# BENCH_WITH_PODMAN=0 leaves podman out.
set -euo pipefail

BENCH_WARMUP=${BENCH_WARMUP:-1}
source "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

GOAL=1.1
COMMIT_FILES=${COMMIT_FILES:-20000}
COMMIT_MB=${COMMIT_MB:-500}
COMMIT_DIRS=100

bench_container_start 5 "$@"
[[ $COMMIT_FILES =~ ^[1-9][0-9]*$ && $COMMIT_MB =~ ^[1-9][0-9]*$ ]] ||
	bench_die "COMMIT_FILES and COMMIT_MB must be positive integers"
((COMMIT_FILES % COMMIT_DIRS == 0)) || bench_die "COMMIT_FILES must be a multiple of $COMMIT_DIRS"
bench_require_cmds split head cp du sync

# --- the data set: COMMIT_DIRS directories of random files
DATA=$BENCH_TMP/data
per_dir=$((COMMIT_FILES / COMMIT_DIRS))
dir_bytes=$((COMMIT_MB * 1000000 / COMMIT_DIRS))
file_bytes=$(((dir_bytes + per_dir - 1) / per_dir))
bench_note "making $COMMIT_FILES files of $file_bytes bytes in $COMMIT_DIRS directories..."
for ((d = 0; d < COMMIT_DIRS; d++)); do
	mkdir -p "$DATA/d$d"
	head -c "$dir_bytes" /dev/urandom | split -a 4 -b "$file_bytes" - "$DATA/d$d/f" ||
		bench_die "cannot make the data set in $DATA"
done
n=$(find "$DATA" -type f | wc -l)
((n == COMMIT_FILES)) || bench_die "the data set has $n files, not $COMMIT_FILES"
data_mb=$(du -sm "$DATA" | cut -f1)
sample=$(md5sum <"$DATA/d7/faaab")

# --- ctk: an exited container with the data in its read-write layer
"$CTK" run --name bench-exited busybox true || bench_die "ctk run failed"
CTK_ID=$("$CTK" ps -a -n -r -o ID,NAME | awk '$2 == "bench-exited" { print $1 }')
CTK_UPPER=$(echo "$CTK_ROOT"/containers/"$CTK_ID"*/upper)
[[ -d $CTK_UPPER ]] || bench_die "no read-write layer for container $CTK_ID"
cp -a "$DATA" "$CTK_UPPER/data"

# --- ctk-live: a running container, the data written into it through the container
"$CTK" run -d --name bench-live -v "$DATA:/src:ro" busybox sleep 100000 >/dev/null </dev/null ||
	bench_die "ctk run -d failed"
"$CTK" exec bench-live cp -a /src /data || bench_die "ctk exec cp failed"

# The committed image holds the data, as `ctk run` sees it.
CTK_IMAGE=""
ctk_check() {
	local id out
	id=$("$CTK" commit "$1") || bench_die "ctk commit $1 failed"
	out=$("$CTK" run --rm "$id" sh -c 'find /data -type f | wc -l; md5sum < /data/d7/faaab') ||
		bench_die "ctk run of the committed image failed"
	[[ $(printf '%s' "$out" | tr '\n' ' ') == "$COMMIT_FILES $sample" ]] ||
		bench_die "the image committed from $1 holds '$out', not $COMMIT_FILES files and $sample"
	"$CTK" image rm "$id" >/dev/null
}
ctk_check bench-exited
ctk_check bench-live

# Each timed command, and its untimed cleanup.
ctk_commit() {
	CTK_IMAGE=$("$CTK" commit "$1")
}
ctk_cleanup() {
	"$CTK" image rm "$CTK_IMAGE" >/dev/null
}
tar_cleanup() {
	rm -f "$BENCH_TMP/out.tar"
}
BENCH_CMD_ctk=(ctk_commit bench-exited)
BENCH_CMD_tar=(tar -C "$CTK_UPPER" -cf "$BENCH_TMP/out.tar" .)
BENCH_CMD_ctklive=(ctk_commit bench-live)
BENCH_CLEAN_ctk=ctk_cleanup
BENCH_CLEAN_ctklive=ctk_cleanup
BENCH_CLEAN_tar=tar_cleanup

# --- podman, optional
peers=(tar)
if bench_podman_setup; then
	if ! "${BENCH_PODMAN[@]}" run --name bench-exited --network none bb true \
		</dev/null >/dev/null 2>"$BENCH_TMP/podman-run.err"; then
		bench_note "podman cannot run a container here, measuring without it: $(tail -n 3 "$BENCH_TMP/podman-run.err" | tr '\n' ' ')"
	else
		PODMAN_UPPER=$("${BENCH_PODMAN[@]}" inspect --format '{{.GraphDriver.Data.UpperDir}}' bench-exited)
		[[ -d $PODMAN_UPPER ]] || bench_die "podman's container has no UpperDir ($PODMAN_UPPER)"
		cp -a "$DATA" "$PODMAN_UPPER/data"
		podman_commit() {
			"${BENCH_PODMAN[@]}" commit -q bench-exited bench-img >/dev/null
		}
		podman_cleanup() {
			"${BENCH_PODMAN[@]}" rmi bench-img >/dev/null
		}
		podman_commit || bench_die "podman commit failed"
		n=$("${BENCH_PODMAN[@]}" run --rm --network none bench-img sh -c 'find /data -type f | wc -l') ||
			bench_die "podman run of the committed image failed"
		[[ $n == "$COMMIT_FILES" ]] || bench_die "podman's committed image holds $n files"
		podman_cleanup
		BENCH_CMD_podman=(podman_commit)
		BENCH_CLEAN_podman=podman_cleanup
		peers+=(podman)
	fi
fi

# bench_measure_multi, with each command's cleanup and a sync after it, untimed.
measure() {
	local names=("$@") order i name t total=$((BENCH_WARMUP + RUNS)) clean
	local -a cmd
	for name in "${names[@]}"; do
		bench_array_set "BENCH_US_$name"
	done
	sync
	for ((i = 0; i < total; i++)); do
		order=("${names[@]}")
		if ((i % 2 == 1)); then
			order[0]=${names[1]}
			order[1]=${names[0]}
		fi
		for name in "${order[@]}"; do
			bench__array_get cmd "BENCH_CMD_$name"
			bench__time t "${cmd[@]}"
			clean=BENCH_CLEAN_$name
			"${!clean}"
			sync
			if ((i >= BENCH_WARMUP)); then
				bench__array_add "BENCH_US_$name" "$t"
			fi
		done
	done
}

bench_note "checks passed; timing $RUNS runs of each of: ctk ${peers[*]} ctklive..."
measure ctk "${peers[@]}" ctklive

bench_header "commit: '$CTK commit C' (an exited container) vs 'tar -C UPPER -cf FILE .'${BENCH_CMD_podman:+ vs 'podman commit C IMG'}"
printf 'the read-write layer: %d files in %d directories, %d MB, random bytes\n' "$COMMIT_FILES" "$COMMIT_DIRS" "$data_mb"
printf 'file system: %s\n' "$(df -T "$BENCH_TMP" | awk 'NR == 2 { print $2 " on " $1 }')"
printf 'tar: %s, writing %s\n' "$(tar --version | head -n 1)" "$BENCH_TMP/out.tar"
if [[ -n ${BENCH_CMD_podman:-} ]]; then
	printf 'podman: %s (runtime runc, cgroupfs, overlay storage in a temporary --root)\n' "$(podman --version)"
fi
read -r live_med live_p90 < <(bench__stats "${BENCH_US_ctklive[@]}")
read -r tar_med _ < <(bench__stats "${BENCH_US_tar[@]}")
awk -v m="$live_med" -v p="$live_p90" -v t="$tar_med" 'BEGIN {
	printf "ctk-live (a running container: its layer unpacked from the tar) %9.3f ms median, %9.3f ms p90, ratio to tar %.2f\n", m / 1000, p / 1000, m / t }'
bench_report_multi commit "$GOAL" ctk "${peers[@]}"
