#!/bin/sh
# Runs the security suite's microvm cases (cold, and warm: each program handed to a VM whose
# bootstrap was started before it) in one process, so that its VMs are clones of one template
# per shape (a boot per shape for the whole case, then ~0.15 s per VM under TCG); as
# one ctest per test, every test would boot and save a template of its own (about twice as long).
# Skipped (77), with the reason, when this host cannot run microVMs (no QEMU, guest kernel, or root).
set -u
suite="$1"
out="$(mktemp)"
trap 'rm -f "$out"' EXIT
"$suite" --gtest_brief=1 --gtest_filter='*/microvm:*/microvm_warm' >"$out" 2>&1
rc=$?
cat "$out"
if [ "$rc" -eq 0 ] && grep -q "backend unavailable here" "$out" && ! grep -q '^\[  PASSED  \] [1-9]' "$out"; then
  echo "skipped: the microvm backend is unavailable here (reason above)"
  exit 77
fi
exit "$rc"
