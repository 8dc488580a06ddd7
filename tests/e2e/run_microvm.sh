#!/bin/sh
# The e2e suite on the microvm backend: IGNITE_E2E_ISOLATION=microvm makes the suite's helpers
# (tests/e2e/cli_helpers.hpp) add `--isolation microvm` to every run, exec, serve and worker they
# start, so the same tests check the same promises with a guest kernel in between. One process:
# a server's VMs are clones of a template per shape, as in production.
#   tests/e2e/run_microvm.sh E2E_TESTS_BINARY IGNITE_BINARY
# Skipped (77), with the reason, where this host cannot run microVMs (no root, QEMU, guest kernel
# or agent). A test that cannot apply to microvm skips itself with the reason (NATIVE_SUITE_ONLY).
set -u
suite="$1"
ignite="$2"
if [ "$(id -u)" != 0 ]; then
  echo "skipped: the sandbox needs root"
  exit 77
fi
errors="$(mktemp)"
trap 'rm -f "$errors"' EXIT
out="$("$ignite" exec --isolation microvm --runtime python --code 'print(1)' 2>"$errors")"
probe="$(cat "$errors")"
if [ "$out" != "1" ]; then
  case "$probe" in
    *"microvm: qemu-system-x86_64 is not installed"* | *"microvm: no guest kernel"* | \
    *"microvm: ignite-guest-agent is not installed"*)
      echo "skipped: the microvm backend is unavailable here: $probe"
      exit 77 ;;
  esac
  echo "a microvm probe run (python print(1)) failed: $probe"
  exit 1
fi
# Suites that start no sandbox of the suite's backend: they check manifests, packaging, the
# runtime store, image builds or the NATS harness; or they name their backend themselves
# (OutDir runs native and docker; MicroVmIsolation is microvm's own and runs in the plain suite).
not_here='KubernetesManifests.*:SystemdUnit.*:Dist.*:ImagesCli.*:NatsServerHarness.*:NatsClusterHarness.*'
not_here="$not_here:NatsIgnisClient.*:RuntimesList.*:RuntimesInstall.*:QuickjsBootstrap.*:ServerImage.*"
not_here="$not_here:DockerIsolation.*:MicroVmIsolation.*:OutDir.*"
echo "not run on microvm (no sandbox of the suite's backend in them): $not_here"
IGNITE_E2E_ISOLATION=microvm "$suite" --gtest_filter="-$not_here"
