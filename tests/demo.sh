#!/usr/bin/env bash
# make demo: ctk runs a container from a busybox image and dissects it.
#
# Usage: tests/demo.sh [CTK_BINARY]   (as root)
#
# Everything lives in a throwaway CTK_ROOT that is removed at the end.
set -euo pipefail

CTK=$(realpath "${1:-build/ctk}")
HERE=$(cd "$(dirname "$0")" && pwd)
[[ $(id -u) -eq 0 ]] || { echo "demo: run as root (it makes namespaces and enters them)" >&2; exit 1; }

export CTK_ROOT
CTK_ROOT=$(mktemp -d /tmp/ctk-demo-XXXXXX)
cleanup() {
	"$CTK" rm -f -v demo >/dev/null 2>&1 || true
	rm -rf "$CTK_ROOT"
}
trap cleanup EXIT

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }

echo "A busybox image from Debian's busybox-static, in the docker save format (tests/fixtures/mkimage.sh),"
echo "and a store of our own: CTK_ROOT=$CTK_ROOT"
"$HERE/fixtures/mkimage.sh" docker "$CTK_ROOT/busybox.tar" --layers 3
step "$CTK" image import "$CTK_ROOT/busybox.tar"
step "$CTK" image history busybox

echo
echo "A container: detached, with an anonymous volume at /data and cgroup limits."
step "$CTK" run -d --name demo --hostname demo -v /data --memory 64m --cpus 0.5 --pids-limit 64 \
	busybox sh -c 'echo "hello from $(hostname)"; while :; do sleep 1; done'
step "$CTK" ps
step "$CTK" exec demo sh -c 'echo "inside: PID $$, hostname $(hostname)"; ps -o pid,args; echo data > /data/file; mount | grep -E " / | /data "'
step "$CTK" logs demo

echo
echo "Dissecting it from the host: its namespaces, and where its volume lives."
step "$CTK" ns demo
step "$CTK" ns -t uts,pid,net -o NS,TYPE,NPROCS,PID,COMMAND
step "$CTK" volume ls
volume=$("$CTK" volume ls -n -r -o MOUNTPOINT)
step cat "$volume/file"
echo
echo "The host's own tools, in its namespaces, started in its root (for images without tools):"
step "$CTK" enter --tools demo ls
step "$CTK" enter --tools demo hostname

echo
step "$CTK" stop -t 1 demo
step "$CTK" ps -a
step "$CTK" rm -v demo
