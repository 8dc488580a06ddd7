#!/bin/sh
# Puts ignite where Docker or Kubernetes puts Ignite's image on a cgroup v2 host, without
# Docker: in a cgroup of its own ("container"), seen through a private cgroup namespace and
# mounted read-only, with only the image's capabilities and no_new_privs. Then runs
# `ignite doctor` and a memory bomb there with IGNITE_IN_CONTAINER=1 (tests/cgroup2/suite.sh
# checks that both say full isolation and memory_limit).
#   as_container.sh IGNITE BOUNDING_SET [inner]
set -eu
ignite=$1
caps=$2
case "${3:-outer}" in
  outer)
    # As the container runtime does: the controllers reach the container's cgroup.
    echo "+memory +pids +cpu" >/sys/fs/cgroup/cgroup.subtree_control
    mkdir -p /sys/fs/cgroup/container
    echo $$ >/sys/fs/cgroup/container/cgroup.procs
    exec unshare --cgroup --mount --propagation private "$0" "$ignite" "$caps" inner
    ;;
  inner)
    umount -l /sys/fs/cgroup
    mount -t cgroup2 -o ro,nosuid,nodev,noexec cgroup2 /sys/fs/cgroup
    export IGNITE_IN_CONTAINER=1
    setpriv --bounding-set="$caps" --no-new-privs "$ignite" doctor || true
    setpriv --bounding-set="$caps" --no-new-privs "$ignite" exec --json --runtime python --memory 64 \
      --code 'x = bytearray(200 << 20)' || true
    ;;
esac
