#!/bin/sh
# Runs inside the v2 guest (scripts/guest-run): the suites that exercise cgroups, against the
# layout the guest was booted with. Called by ctest (label cgroup2) as
#   scripts/guest-run --layout L -- tests/cgroup2/suite.sh L BUILD_DIR
# The subset is what touches cgroups — TCG runs code ~30x slower than the host, so the rest
# (parsers, servers, docker, NATS) stays on the host tier, where it does not depend on v1 or v2.
set -u
layout="$1"
build="$2"
it="$build/tests/ignite_integration_tests"
sec="$build/tests/ignite_security_tests"
ignite="$build/src/cli/ignite"
status=0
step() { echo "=== [$layout] $*"; }
run() { "$@" || status=1; }

step "cgroups as the guest sees them: $(cat /proc/self/cgroup) (controllers: $(cat /sys/fs/cgroup/cgroup.controllers))"
case "$layout" in
  root)
    step "integration: the native backend and warm slots on v2"
    run "$it" --gtest_brief=1 --gtest_filter='CgroupV2Test.*:NativeTest.*:WarmPoolTest.*'
    # Not the security suite's thousand runs: under emulation its warm case alone took 200 s of
    # the layout's 470 (measured), and v2 leaks are what the integration tests above prove
    # (CgroupV2Test's thousand runs, the 32 warm slots made and destroyed ten times); the host
    # tier runs it for every backend.
    step "security: every promise, cold and warm (the docker and microvm cases: host tier)"
    run "$sec" --gtest_brief=1 --gtest_filter='-*/docker:*/docker_warm:*/microvm:*/microvm_warm:*Docker*:Lifecycle.a_thousand_runs*'
    step "ignite doctor says v2 and what it uses"
    out="$("$ignite" doctor 2>&1)"; echo "$out"
    for want in "cgroup v2; usable controllers: memory, pids" "from its memory.peak" "cgroup.kill" \
                "born in its cgroup" "isolation level for \`ignite run\`: full"; do
      echo "$out" | grep -qF "$want" || { echo "FAILED: doctor does not say: $want"; status=1; }
    done
    # What Docker or Kubernetes gives Ignite's image on a v2 host: a cgroup of its own, seen
    # through a private cgroup namespace and mounted read-only, and only the image's
    # capabilities (deploy/docker/least-privilege.flags). IGNITE_IN_CONTAINER=1 must turn that
    # into full isolation (docs/deploy.md); no Docker is involved here.
    step "in a container's place: read-only cgroup2 of its own, the image's capabilities"
    caps="-all"
    for c in $(sed -n 's/^--cap-add=//p' "$(dirname "$0")/../../deploy/docker/least-privilege.flags"); do
      caps="$caps,+$(echo "$c" | tr 'A-Z' 'a-z')"
    done
    out="$("$(dirname "$0")/as_container.sh" "$ignite" "$caps" 2>&1)"
    echo "$out"
    for want in "isolation level for \`ignite run\`: full" '"status":"memory_limit"'; do
      echo "$out" | grep -qF "$want" || { echo "FAILED: in a container's place: $want"; status=1; }
    done
    ;;
  service)
    # What differs from the root layout is where the per-run parent goes and who else is in
    # our cgroup: the backend's own suites, and the promises about cgroups left behind.
    step "integration: the native backend on v2, from a service cgroup with another process"
    run "$it" --gtest_brief=1 --gtest_filter='CgroupV2Test.*:NativeTest.*'
    step "security: resources and lifecycle (not the thousand runs: see the root layout)"
    run "$sec" --gtest_brief=1 --gtest_filter='Resources.*/native*:Lifecycle.*/native*:CliLifecycle.*/native*:HostGlue.*/native*:-Lifecycle.a_thousand_runs*'
    ;;
  delegated)
    step "security, rootless with only a delegated subtree (uid $(id -u))"
    # Not the Go compile (a cold Go build cache under emulation outlasts the run's 10 s limit), nor
    # the thousand runs (the root and service layouts make them; 2 min here).
    run "$sec" --gtest_brief=1 --gtest_filter='-*/docker:*/docker_warm:*/microvm:*/microvm_warm:*Docker*:SocketFamilies.go_*:Lifecycle.a_thousand_runs*'
    step "ignite doctor, rootless"
    run "$ignite" doctor
    ;;
  no-memory)
    step "memory not delegated: ignite must refuse, and say why"
    out="$("$ignite" exec --runtime python --code 'print(1)' 2>&1)"; rc=$?
    echo "$out"
    if [ "$rc" -eq 0 ] || ! echo "$out" | grep -q "memory controller"; then
      echo "FAILED: expected a refusal naming the memory controller (exit $rc)"; status=1
    fi
    step "...and with --allow-degraded run, saying the run is degraded"
    out="$("$ignite" exec --allow-degraded --json --runtime python --code 'print(1)' 2>&1)"; rc=$?
    echo "$out"
    if [ "$rc" -ne 0 ] || ! echo "$out" | grep -q '"isolationLevel":"degraded"'; then
      echo "FAILED: expected a degraded run that says so (exit $rc)"; status=1
    fi
    step "security: degraded mode"
    run "$sec" --gtest_brief=1 --gtest_filter='DegradedMode.*:Doctor.*'
    ;;
  *) echo "unknown layout $layout"; exit 2 ;;
esac
step "done: $( [ $status -eq 0 ] && echo passed || echo FAILED )"
exit $status
