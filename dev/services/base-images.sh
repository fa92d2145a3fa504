#!/usr/bin/env bash
# Builds, on the Docker engine the caller's docker CLI talks to (DOCKER_HOST),
# the base images the examples start from, under the names a Dockerfile on a
# normal machine uses: nothing can be pulled from Docker Hub here, so
# `FROM busybox` must find a local image (a build without `pull` uses a local
# image by that name and never asks a registry; dumcel's builds never set
# `pull`).
#
#   busybox:latest, busybox:<major.minor>, busybox:<version>
#       Debian's static busybox at /bin/busybox, every applet a link in /bin,
#       /etc/passwd and /etc/group with root, www-data and nobody, /tmp, and
#       the official image's PATH and CMD ["sh"]. <version> is the packaged
#       busybox's (1.35.0 on Debian 12).
#
# Idempotent: only missing tags are built, so it is quick when they exist. An
# image already there under one of the names (a real busybox pulled on
# another machine, say) is left alone. Needs busybox-static (docker.sh
# installs it). dev/services/docker.sh runs it once dockerd answers.
set -euo pipefail

# The static busybox binary: a dynamically linked one (Debian's `busybox`
# package) cannot run in an image FROM scratch.
busybox=
for candidate in /bin/busybox /usr/bin/busybox; do
  # ldd fails on a static binary, saying so; pipefail would hide the match.
  if [ -x "$candidate" ] && [[ "$(ldd "$candidate" 2>&1)" == *"not a dynamic executable"* ]]; then
    busybox=$candidate
    break
  fi
done
if [ -z "$busybox" ]; then
  echo "error: no static busybox at /bin/busybox: install busybox-static (dev/services/docker.sh does)" >&2
  exit 1
fi

# "BusyBox v1.35.0 (Debian 1:1.35.0-4+deb12u1+b1) multi-call binary." -> 1.35.0
version=$("$busybox" 2>&1 | sed -n '1s/^BusyBox v\([0-9][0-9.]*\).*/\1/p')
tags=(latest)
if [ -n "$version" ]; then tags+=("${version%.*}" "$version"); fi

missing=()
for tag in "${tags[@]}"; do
  docker image inspect "busybox:$tag" >/dev/null 2>&1 || missing+=("busybox:$tag")
done
if [ "${#missing[@]}" = 0 ]; then
  echo "base images: already present (busybox:${tags[*]})"
  exit 0
fi

context=$(mktemp -d)
trap 'rm -rf "$context"' EXIT
cp "$busybox" "$context/busybox"
mkdir "$context/etc"
printf '%s\n' \
  'root:x:0:0:root:/root:/bin/sh' \
  'www-data:x:33:33:www-data:/var/www:/bin/false' \
  'nobody:x:65534:65534:nobody:/home:/bin/false' >"$context/etc/passwd"
printf '%s\n' 'root:x:0:' 'www-data:x:33:' 'nobody:x:65534:' >"$context/etc/group"
cat >"$context/Dockerfile" <<'EOF'
FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]
COPY etc /etc
ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
RUN mkdir -p /root /home /var/www /usr/bin /usr/sbin && mkdir -m 1777 /tmp
LABEL org.opencontainers.image.description="Debian's static busybox, built locally by dumcel's dev/services/base-images.sh"
CMD ["sh"]
EOF

tag_args=()
for name in "${missing[@]}"; do tag_args+=(-t "$name"); done
log=$(mktemp)
# The classic builder, as dumcel's builds use it: this docker CLI would ask
# for buildx otherwise, which Debian's docker.io does not ship.
if ! DOCKER_BUILDKIT=0 docker build -q "${tag_args[@]}" "$context" >"$log" 2>&1; then
  echo "error: building the busybox base image failed:" >&2
  cat "$log" >&2
  rm -f "$log"
  exit 1
fi
rm -f "$log"
echo "base images: built ${missing[*]} from $busybox"
