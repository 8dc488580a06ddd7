# Ignite's server image: its entrypoint (run by the image's busybox sh), then `ignite "$@"`.
#
# In a container the cgroup hierarchies are mounted read-only. With `--cgroupns private` each
# shows only this container's own cgroup, which is ours to divide among the sandboxes: it is
# made writable here (a bind remount of this container's own mounts; needs CAP_SYS_ADMIN).
# Security: never in the host's cgroup namespace, where the same remount would hand this
# container every cgroup of the host — then nothing is remounted, and `ignite doctor` says why.
if busybox awk -F: '$3 != "/" { exit 1 }' /proc/self/cgroup; then
  for m in $(busybox awk '$3 == "cgroup" || $3 == "cgroup2" { print $2 }' /proc/self/mounts); do
    busybox mount -o remount,bind,rw "$m" 2>/dev/null || true
  done
else
  echo "ignite: not in a private cgroup namespace (docker run --cgroupns private): cgroups stay read-only" >&2
fi
exec /opt/ignite/bin/ignite "$@"
