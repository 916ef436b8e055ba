#!/usr/bin/env bash
# Runs the test binary and proves that the suite left nothing behind: every
# process it started ran in a cgroup made for this run (nested cgroups that
# tests make live under it), the host's mount table is unchanged, and no
# /tmp/ctk-test-* file or directory (the prefix every test uses) remains,
# and no container cgroup (/ctk/ID in any hierarchy) that the run made: the
# containers the tests run live there, outside the suite's own cgroup.
#
# Usage: tests/run.sh TEST_BINARY [criterion options...]   (as root)
set -euo pipefail

[[ $(id -u) -eq 0 ]] || { echo "tests/run.sh: the suite runs as root" >&2; exit 1; }

# The hierarchy to track processes with: cgroup2 if mounted, else v1 pids.
cgroot=
for d in /sys/fs/cgroup /sys/fs/cgroup/unified /sys/fs/cgroup/pids; do
	if [[ -f $d/cgroup.procs ]]; then cgroot=$d; break; fi
done
[[ -n $cgroot ]] || { echo "tests/run.sh: no cgroup hierarchy to track processes with" >&2; exit 1; }
# Our own cgroup in that hierarchy (the 0:: line for cgroup2, the pids line for v1).
if [[ $cgroot == */pids ]]; then
	mine=$(awk -F: '$2 ~ /(^|,)pids(,|$)/ {print $3}' /proc/self/cgroup)
else
	mine=$(awk -F: '$1 == 0 {print $3}' /proc/self/cgroup)
fi
cg=$cgroot${mine%/}/ctk-tests-$$
mkdir "$cg"

mounts() { awk '{print $5}' /proc/self/mountinfo | sort; }
scratch() { find /tmp -maxdepth 1 -name 'ctk-test-*' | sort; }
containers() { find /sys/fs/cgroup -mindepth 2 -maxdepth 4 -type d -path '*/ctk/*' 2>/dev/null | sort; }
before=$(mounts)
scratch_before=$(scratch)
containers_before=$(containers)

procs_left() { find "$cg" -name cgroup.procs -exec cat {} + | sort -u; }

cleanup() {
	# Leftovers were reported; now they go, so the host stays clean.
	for _ in $(seq 50); do
		local p
		p=$(procs_left)
		[[ -z $p ]] && break
		kill -KILL $p 2>/dev/null || true
		sleep 0.05
	done
	# Deepest first: a cgroup is removable once it and its children are empty.
	find "$cg" -depth -type d -exec rmdir {} \; 2>/dev/null || true
}
trap cleanup EXIT

status=0
(echo 0 > "$cg/cgroup.procs" && exec "$@") || status=$?

# Whatever the suite killed must be gone within a few seconds.
left=
for _ in $(seq 100); do
	left=$(procs_left)
	[[ -z $left ]] && break
	sleep 0.05
done
if [[ -n $left ]]; then
	echo "tests/run.sh: processes left behind by the suite:" >&2
	for p in $left; do ps -o pid=,ppid=,args= -p "$p" >&2 || true; done
	status=1
fi
if [[ $(mounts) != "$before" ]]; then
	echo "tests/run.sh: the host's mount table changed:" >&2
	diff <(echo "$before") <(mounts) >&2 || true
	status=1
fi
if [[ $(scratch) != "$scratch_before" ]]; then
	echo "tests/run.sh: files left in /tmp:" >&2
	comm -13 <(echo "$scratch_before") <(scratch) >&2
	status=1
fi
if [[ $(containers) != "$containers_before" ]]; then
	echo "tests/run.sh: container cgroups left behind:" >&2
	comm -13 <(echo "$containers_before") <(containers) >&2
	status=1
fi
exit "$status"
