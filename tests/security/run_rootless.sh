#!/bin/sh
# Runs the whole security suite again as an unprivileged user (rootless mode: user namespace,
# no cgroup delegation), so `make test` checks both modes. Only meaningful when started as root;
# otherwise the suite itself is already running rootless, and this test is skipped (77).
set -eu
suite="$1"
if [ "$(id -u)" -ne 0 ]; then
  echo "skipped: not root, so the security suite itself already runs rootless"
  exit 77
fi
if ! command -v setpriv >/dev/null 2>&1 || ! id nobody >/dev/null 2>&1; then
  echo "skipped: needs setpriv (util-linux) and the user 'nobody'"
  exit 77
fi
if ! setpriv --reuid="$(id -u nobody)" --regid="$(id -g nobody)" --clear-groups test -x "$suite"; then
  echo "skipped: $suite is not reachable by 'nobody' (build directory permissions)"
  exit 77
fi
cd /tmp
exec setpriv --reuid="$(id -u nobody)" --regid="$(id -g nobody)" --clear-groups \
  env HOME=/tmp TMPDIR=/tmp "$suite" --gtest_brief=1
