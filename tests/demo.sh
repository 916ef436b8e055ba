#!/usr/bin/env bash
# make demo: ctk at work on a process it starts in new namespaces.
#
# Usage: tests/demo.sh [CTK_BINARY]   (as root)
set -euo pipefail

CTK=${1:-build/ctk}
[[ $(id -u) -eq 0 ]] || { echo "demo: run as root (it makes namespaces and enters them)" >&2; exit 1; }

# A small "container": a shell that sets its hostname and sleeps, as PID 1
# of new PID, mount, UTS, IPC and network namespaces.
unshare --fork --kill-child --pid --mount-proc --uts --ipc --net \
	sh -c 'hostname ctk-demo; exec sleep infinity' &
holder=$!
trap 'kill -KILL "$holder" 2>/dev/null; wait "$holder" 2>/dev/null || true' EXIT

target=
for _ in $(seq 100); do
	target=$(cat "/proc/$holder/task/$holder/children" 2>/dev/null | awk '{print $1}')
	[[ -n $target && $(cat "/proc/$target/comm" 2>/dev/null) == sleep ]] && break
	sleep 0.05
done
[[ -n $target ]] || { echo "demo: the target never started" >&2; exit 1; }

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }

echo "A process in new namespaces: PID $target (sleep, PID 1 of its own PID namespace)."
step "$CTK" ns
step "$CTK" ns "$target"
step "$CTK" ns -t uts -t net -o NS,TYPE,NPROCS,PID,PATH
step "$CTK" ns --tree -t pid,user
step "$CTK" enter -t "$target" -u hostname
step "$CTK" enter -t "$target" -a sh -c 'echo "inside: hostname $(hostname), my PID $$"; ps -e -o pid,comm'
step "$CTK" enter -t "$target" -n -- ip -brief link
step "$CTK" ns --json "$target"
