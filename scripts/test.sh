#!/usr/bin/env bash
# Runs every check and test of the suite. Run it as root on Debian (network
# namespace tests need CAP_NET_ADMIN); it installs missing system packages first.
#
#   ./scripts/test.sh
#
# With CI=true, tests that need root or network namespaces fail instead of skipping.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n=== %s ===\n' "$*"; }

step "system packages"
need=()
command -v ip >/dev/null || need+=(iproute2)
command -v tcpdump >/dev/null || need+=(tcpdump)
command -v keepalived >/dev/null || [ -x /usr/sbin/keepalived ] || need+=(keepalived)
command -v ping >/dev/null || need+=(iputils-ping)
command -v nft >/dev/null || [ -x /usr/sbin/nft ] || need+=(nftables)
command -v pkill >/dev/null || need+=(procps)
command -v python3 >/dev/null || need+=(python3)
# A certificate for the SSL_GET real server of the LVS tests.
command -v openssl >/dev/null || need+=(openssl)
# The IPVS guest (LVS tests): Debian's kernel has IPVS as modules, booted
# under qemu by virtme-ng (which needs busybox for its initramfs).
command -v ipvsadm >/dev/null || [ -x /usr/sbin/ipvsadm ] || need+=(ipvsadm)
command -v qemu-system-x86_64 >/dev/null || need+=(qemu-system-x86)
command -v busybox >/dev/null || need+=(busybox-static)
ls /boot/vmlinuz-*-amd64 >/dev/null 2>&1 || need+=(linux-image-amd64)
python3 -m pip --version >/dev/null 2>&1 || command -v vng >/dev/null || need+=(python3-pip)
# The systemd unit is checked with systemd-analyze.
command -v systemd-analyze >/dev/null || need+=(systemd)
# The metrics test scrapes with a real Prometheus; promtool checks the
# example alerting rules. (Debian's package does not start it here: the
# test starts its own, in a namespace.)
command -v promtool >/dev/null || need+=(prometheus)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "missing packages: ${need[*]}; run as root or install them" >&2
    exit 1
  fi
  echo "installing: ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
else
  echo "all present"
fi
if ! command -v vng >/dev/null; then
  echo "installing: virtme-ng (PyPI)"
  python3 -m pip install --quiet --break-system-packages virtme-ng 2>/dev/null ||
    python3 -m pip install --quiet virtme-ng
fi
for c in rustfmt clippy; do
  rustup component list --installed 2>/dev/null | grep -q "^$c" || rustup component add "$c" >/dev/null 2>&1 || true
done

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "cargo doc"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --locked --quiet

step "cargo package (every publishable crate, built from its packaged files)"
# Checks that each crate builds from what crates.io would get (its files,
# README, licences) against the packaged versions of its sibling crates.
# The MSRV (rust-version, 1.85) is checked for API use by clippy's
# incompatible_msrv lint above.
# cargo takes a registry crate of a given version as immutable: on a
# second run it would reuse the copy it unpacked and the library it built
# from our packaged crates before, and verify against stale sources. Drop
# both first: the dev-profile builds of our crates, and their unpacked
# copies (in local registries only, whose directory names start with '-').
cargo clean --quiet --profile dev -p vrrp-core -p vrrp-netaddr -p vrrp-arp -p vrrp-ipvs -p vrrpd
for crate in vrrp-core vrrp-netaddr vrrp-arp vrrp-ipvs vrrpd vrrpd-cli; do
  rm -rf "${CARGO_HOME:-$HOME/.cargo}"/registry/src/-*/"$crate"-[0-9]*
done
cargo package --locked -p vrrp-core -p vrrp-netaddr -p vrrp-arp -p vrrp-ipvs -p vrrpd -p vrrpd-cli 2>&1 |
  { grep -v '^ *\(Packaging\|Packaged\|Compiling\|Unpacking\|Updating\)' || true; }

step "cargo test (profile ci: optimised, with overflow checks and debug assertions)"
# The test profile also replays every checked-in fuzz corpus (fuzz/corpus/*).
mkdir -p target
cargo test --workspace --profile ci --locked 2>&1 | tee target/test-output.log

step "Prometheus alerting rules: promtool check and unit tests"
promtool check rules docs/prometheus-rules.yml
(cd docs && promtool test rules prometheus-rules.test.yml)

step "systemd unit: systemd-analyze verify and security"
# The unit as shipped, with its binary pointed at the one just built.
unit_dir="$(mktemp -d)"
trap 'rm -rf "$unit_dir"' EXIT
sed "s|/usr/sbin/vrrpd|$PWD/target/ci/vrrpd|g" bins/cli/vrrpd.service >"$unit_dir/vrrpd.service"
systemd-analyze verify "$unit_dir/vrrpd.service"
systemd-analyze security --offline=true "$unit_dir/vrrpd.service" | tail -n 1

step "Debian package: build with cargo-deb and check it"
# With the ci profile the tests were built with, to check the packaging
# without a second, LTO, build (a package to ship: scripts/package.sh
# release). It is unpacked into a temporary directory, never installed here.
scripts/package.sh ci
