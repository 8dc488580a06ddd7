# Helpers of the image scripts (build-server-image, build-nats-image): a root file system
# assembled from this host's files — each ELF file with exactly the shared libraries and
# interpreter `ldd` resolves for it — and a FROM scratch image of it, built by the classic
# builder with no registry involved. Source it; set $root first.

# The skeleton: merged /usr (as on the host), /tmp, /etc/passwd and group, TLS roots.
rootfs_init() {
  mkdir -p "$root/usr/bin" "$root/usr/lib" "$root/usr/lib64" "$root/usr/sbin" "$root/etc/ssl/certs" \
    "$root/tmp" "$root/root" "$root/proc" "$root/sys" "$root/dev"
  chmod 1777 "$root/tmp"
  chmod 0700 "$root/root"
  for d in bin lib lib64 sbin; do ln -s "usr/$d" "$root/$d"; done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$root/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
  if [ -f /etc/ssl/certs/ca-certificates.crt ]; then cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/"; fi
}

# A file at its own path (symlinks resolved: the name the loader asks for is a plain file).
rootfs_add() {
  local path=$1 dir
  dir=$(realpath "$(dirname "$path")")
  mkdir -p "$root$dir"
  cp -L --preserve=mode "$path" "$root$dir/$(basename "$path")"
}

# An ELF file's libraries and interpreter, as ldd resolves them here (none for a static file).
rootfs_add_libs() {
  { ldd "$1" 2>/dev/null || true; } | awk '/=> \// {print $3} /^[ \t]*\/[^ ]+ \(/ {print $1}' | while read -r lib; do
    [ -e "$root$(realpath "$(dirname "$lib")")/$(basename "$lib")" ] || rootfs_add "$lib"
  done
}

# docker build of $1 (a dir with rootfs/ and Dockerfile) as tag $2; the log only on failure.
image_build() {
  command -v docker >/dev/null || { echo "the docker CLI is missing (apt-get install docker.io)" >&2; return 1; }
  if ! DOCKER_BUILDKIT=0 docker build -q -t "$2" "$1" >"$1/build.log" 2>&1; then
    cat "$1/build.log" >&2
    return 1
  fi
}
