#!/usr/bin/env bash
# Installs a release artefact of `make dist` (docs/deploy.md):
#   scripts/install.sh [--prefix DIR] [--no-doctor] ignite-<version>-linux-<arch>.tar.gz
#   scripts/install.sh --uninstall [--prefix DIR]
# The tarball's checksum (<tarball>.sha256 beside it) is verified first. Files go to
# DIR/bin, DIR/share/ignite, DIR/share/doc/ignite and DIR/share/licenses/ignite (DIR defaults
# to /usr/local); the list of what was installed is kept in DIR/share/ignite/installed-files,
# so installing again (the same or another version) replaces exactly those files and
# --uninstall removes them. Then `ignite doctor` says what this host can enforce.
set -euo pipefail

prefix=/usr/local
doctor=1
uninstall=0
tarball=
usage() { sed -n '2,4p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) [ $# -ge 2 ] || usage; prefix=$2; shift 2 ;;
    --prefix=*) prefix=${1#--prefix=}; shift ;;
    --no-doctor) doctor=0; shift ;;
    --uninstall) uninstall=1; shift ;;
    -h|--help) usage ;;
    -*) echo "install.sh: unknown option $1" >&2; usage ;;
    *) [ -z "$tarball" ] || usage; tarball=$1; shift ;;
  esac
done
case "$prefix" in /*) ;; *) prefix=$PWD/$prefix ;; esac
manifest=$prefix/share/ignite/installed-files

# Removes the files a manifest lists (but those in $2, if given), then the dirs left empty.
remove_listed() {
  local list=$1 keep=${2:-/dev/null} f
  while IFS= read -r f; do
    [ -n "$f" ] || continue
    grep -qxF -- "$f" "$keep" 2>/dev/null && continue
    rm -f -- "$prefix/$f"
  done <"$list"
  for d in share/ignite share/doc/ignite share/licenses/ignite; do
    [ -d "$prefix/$d" ] && find "$prefix/$d" -depth -type d -empty -delete
  done
  return 0
}

if [ "$uninstall" = 1 ]; then
  [ -f "$manifest" ] || { echo "install.sh: nothing installed under $prefix (no $manifest)" >&2; exit 1; }
  cp "$manifest" "$manifest.removing"
  remove_listed "$manifest.removing"
  rm -f "$manifest" "$manifest.removing"
  [ -d "$prefix/share/ignite" ] && find "$prefix/share/ignite" -depth -type d -empty -delete
  echo "ignite: uninstalled from $prefix"
  exit 0
fi

[ -n "$tarball" ] || usage
[ -f "$tarball" ] || { echo "install.sh: $tarball: no such file" >&2; exit 1; }
sum_file=$tarball.sha256
[ -f "$sum_file" ] || { echo "install.sh: $sum_file is missing: the tarball cannot be verified" >&2; exit 1; }
expected=$(awk 'NR==1 {print $1}' "$sum_file")
actual=$(sha256sum "$tarball" | awk '{print $1}')
if [ "$expected" != "$actual" ]; then
  echo "install.sh: checksum mismatch for $tarball (expected $expected, got $actual): not installed" >&2
  exit 1
fi

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
tar -xzf "$tarball" -C "$stage" --no-same-owner
top=$(find "$stage" -mindepth 1 -maxdepth 1 -type d -name 'ignite-*' | head -n 1)
[ -n "$top" ] && [ -x "$top/bin/ignite" ] || { echo "install.sh: $tarball is not an ignite release (no ignite-*/bin/ignite)" >&2; exit 1; }

# What this version installs, relative to the prefix (share/licenses/* goes under .../ignite/).
new_list=$stage/installed-files
(cd "$top" && find bin share -type f | LC_ALL=C sort) |
  sed 's|^share/licenses/|share/licenses/ignite/|' >"$new_list"
mkdir -p "$prefix/bin" "$prefix/share/ignite"
while IFS= read -r rel; do
  src=$top/$(echo "$rel" | sed 's|^share/licenses/ignite/|share/licenses/|')
  mode=0644
  [ -x "$src" ] && mode=0755
  # Into a temporary name, then renamed: a running ignite keeps its old binary intact.
  install -D -m "$mode" "$src" "$prefix/$rel.new-$$"
  mv -f "$prefix/$rel.new-$$" "$prefix/$rel"
done <"$new_list"
# Files of the version installed before that this one no longer has.
[ -f "$manifest" ] && remove_listed "$manifest" "$new_list"
echo "share/ignite/installed-files" >>"$new_list"
install -m 0644 "$new_list" "$manifest"

version=$("$prefix/bin/ignite" --version 2>/dev/null || true)
if [ -z "$version" ]; then
  echo "install.sh: $prefix/bin/ignite does not start; missing libraries:" >&2
  ldd "$prefix/bin/ignite" | grep 'not found' >&2 || true
  echo "  it needs glibc 2.36 or newer (Debian 12's libc6); everything else is linked in" >&2
  exit 1
fi
echo "$version installed in $prefix (uninstall: $0 --uninstall --prefix $prefix)"
if [ "$doctor" = 1 ]; then
  "$prefix/bin/ignite" doctor || true
fi
