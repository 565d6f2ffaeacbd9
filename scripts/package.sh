#!/usr/bin/env bash
# Builds the Debian package of vrrpd with cargo-deb and checks it.
#
#   ./scripts/package.sh [PROFILE]     # PROFILE: release (default), ci, ...
#
# A package to ship is built with `release`; the test command passes `ci`,
# whose binaries `cargo test` has just built, to check the packaging
# without a second, LTO, build. The metadata (files, dependencies, the
# systemd unit) is [package.metadata.deb] in bins/cli/Cargo.toml.
#
# Steps: install cargo-deb if it is missing; render the man pages and shell
# completions from the clap definitions into packaging/generated/; build
# target/debian/PROFILE/vrrpd_VERSION-1_ARCH.deb (and vrrpd-dbgsym); then
# unpack it into a temporary directory, never onto this system, and check
# its control files, that every expected file is there and no other, and
# that the unpacked vrrpd runs, accepts the shipped configuration, and that
# the man pages and bash completions load.
set -euo pipefail
cd "$(dirname "$0")/.."

profile="${1:-release}"
# The newest cargo-deb when this was written; it builds with Rust 1.85 and later.
cargo_deb_version="3.8.0"
start=$SECONDS

fail() {
  echo "package.sh: $*" >&2
  exit 1
}

if ! cargo deb --version >/dev/null 2>&1; then
  echo "installing cargo-deb $cargo_deb_version"
  cargo install --quiet --locked cargo-deb --version "$cargo_deb_version"
fi
echo "$(cargo deb --version)"

echo "rendering man pages and completions"
rm -rf packaging/generated
cargo run --quiet --locked -p vrrpd-cli --profile "$profile" --example gen-assets -- packaging/generated >/dev/null

echo "building the package (profile $profile)"
out="${CARGO_TARGET_DIR:-target}/debian/$profile"
rm -rf "$out"
mkdir -p "$out"
cargo deb --locked -p vrrpd-cli --profile "$profile" --output "$out/" >/dev/null

shopt -s nullglob
debs=("$out"/vrrpd_*.deb)
dbgsyms=("$out"/vrrpd-dbgsym_*.*deb)
shopt -u nullglob
[ ${#debs[@]} -eq 1 ] || fail "expected one vrrpd_*.deb in $out, found: ${debs[*]:-none}"
[ ${#dbgsyms[@]} -eq 1 ] || fail "expected one vrrpd-dbgsym package in $out, found: ${dbgsyms[*]:-none}"
deb="${debs[0]}"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
root="$work/root"
control="$work/control"

echo
echo "--- dpkg-deb --info $deb"
dpkg-deb --info "$deb"
echo "--- dpkg-deb --contents $deb"
dpkg-deb --contents "$deb"
echo "--- dpkg-deb --contents ${dbgsyms[0]}"
dpkg-deb --contents "${dbgsyms[0]}"
echo

# Control fields.
field() { dpkg-deb --field "$deb" "$1"; }
[ "$(field Package)" = vrrpd ] || fail "Package is $(field Package)"
[ "$(field Section)" = net ] || fail "Section is $(field Section)"
[ "$(field Priority)" = optional ] || fail "Priority is $(field Priority)"
field Depends | grep -q 'libc6' || fail "Depends has no libc6: $(field Depends)"
field Recommends | grep -q 'nftables' || fail "Recommends has no nftables: $(field Recommends)"

# Control files: the configuration is a conffile; the maintainer scripts
# are dh_installsystemd's and parse.
dpkg-deb --control "$deb" "$control"
grep -qx /etc/vrrpd/vrrpd.toml "$control/conffiles" ||
  fail "/etc/vrrpd/vrrpd.toml is not a conffile: $(cat "$control/conffiles" 2>/dev/null)"
for script in postinst prerm postrm; do
  [ -f "$control/$script" ] || fail "no $script"
  sh -n "$control/$script" || fail "$script does not parse"
  grep -q vrrpd.service "$control/$script" || fail "$script does not handle vrrpd.service"
done
grep -q 'deb-systemd-helper enable' "$control/postinst" || fail "postinst does not enable vrrpd.service"

# Unpacked, never installed: no maintainer script runs, nothing outside
# $root is touched, and it works unprivileged.
dpkg-deb --extract "$deb" "$root"

man_pages=(vrrpd vrrpd-check vrrpd-convert
  vrrpctl vrrpctl-decode vrrpctl-status vrrpctl-stats vrrpctl-reload vrrpctl-genhash vrrpctl-lvs vrrpctl-watch
  vip vip-add vip-replace vip-del vip-list vip-watch
  garp)
expected=(
  usr/sbin/vrrpd usr/sbin/vrrpctl usr/sbin/garp usr/bin/vip
  usr/lib/systemd/system/vrrpd.service
  etc/vrrpd/vrrpd.toml
  usr/share/doc/vrrpd/README.md usr/share/doc/vrrpd/configuration.md usr/share/doc/vrrpd/copyright
  usr/share/doc/vrrpd/operations.md usr/share/doc/vrrpd/prometheus-rules.yml
)
for page in "${man_pages[@]}"; do
  expected+=("usr/share/man/man8/$page.8.gz")
done
for bin in vrrpd vrrpctl vip garp; do
  expected+=("usr/share/bash-completion/completions/$bin"
    "usr/share/zsh/vendor-completions/_$bin"
    "usr/share/fish/vendor_completions.d/$bin.fish")
done
missing=0
for f in "${expected[@]}"; do
  if [ ! -f "$root/$f" ]; then
    echo "MISSING: /$f" >&2
    missing=1
  fi
done
[ "$missing" -eq 0 ] || fail "files missing from the package"
unexpected="$(cd "$root" && find . -type f -printf '%P\n' | sort |
  comm -23 - <(printf '%s\n' "${expected[@]}" | sort))"
[ -z "$unexpected" ] || fail "files not in the expected list (add them to package.sh?): $unexpected"
for f in usr/sbin/vrrpd usr/sbin/vrrpctl usr/sbin/garp usr/bin/vip; do
  [ -x "$root/$f" ] || fail "/$f is not executable"
done
cmp -s "$root/usr/lib/systemd/system/vrrpd.service" bins/cli/vrrpd.service ||
  fail "the unit differs from bins/cli/vrrpd.service"
cmp -s "$root/etc/vrrpd/vrrpd.toml" packaging/vrrpd.toml ||
  fail "the configuration differs from packaging/vrrpd.toml"
# Every path the unit runs is in the package.
for path in $(grep -o '^Exec[A-Za-z]*=[^ ]*' bins/cli/vrrpd.service | cut -d= -f2 | sort -u); do
  [ "$path" = /bin/kill ] || [ -x "$root$path" ] || fail "the unit runs $path, which the package lacks"
done

# The unpacked binaries run, and say what they are.
version="$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)"
for f in usr/sbin/vrrpd usr/sbin/vrrpctl usr/sbin/garp usr/bin/vip; do
  line="$("$root/$f" --version)" || fail "/$f --version failed"
  echo "$line"
  [[ "$line" =~ ^${f##*/}\ ${version}\ \(rev\ ([0-9a-f]{7,}(-dirty)?|unknown),\ profile\ ${profile}\)$ ]] ||
    fail "unexpected --version of /$f: $line"
done

# The shipped configuration passes `vrrpd check` and runs nothing...
conf="$root/etc/vrrpd/vrrpd.toml"
report="$("$root/usr/sbin/vrrpd" check --config "$conf" 2>&1)" ||
  fail "vrrpd check rejects the shipped configuration: $report"
echo "$report"
grep -q 'configuration OK (0 instance(s)' <<<"$report" ||
  fail "the shipped configuration should define no instance"
# ...and its commented example, uncommented, passes too, with no warning.
example="$work/example.toml"
sed -n '/^# \[global\]$/,$ s/^# \{0,1\}//p' "$conf" >"$example"
report="$("$root/usr/sbin/vrrpd" check --config "$example" 2>&1)" ||
  fail "the example in the shipped configuration is rejected: $report"
echo "example: $report"
[ "$(wc -l <<<"$report")" -eq 1 ] && grep -q 'configuration OK (1 instance(s)' <<<"$report" ||
  fail "the example in the shipped configuration should give one instance and no warning: $report"

# The man pages render without a warning.
for page in "${man_pages[@]}"; do
  file="$root/usr/share/man/man8/$page.8.gz"
  zcat "$file" | grep -q '^\.TH' || fail "$page.8 has no .TH line"
  if command -v groff >/dev/null; then
    warnings="$(zcat "$file" | groff -man -Tutf8 -ww -z 2>&1)"
    [ -z "$warnings" ] || fail "groff warns about $page.8: $warnings"
  fi
done
if command -v man >/dev/null; then
  MANWIDTH=80 man -l "$root/usr/share/man/man8/vrrpd.8.gz" 2>/dev/null | grep -q '^NAME' ||
    fail "man -l cannot render vrrpd.8"
  echo "man -l: $(MANWIDTH=80 man -l "$root/usr/share/man/man8/vrrpd.8.gz" 2>/dev/null | sed -n '4p' | sed 's/^ *//')"
else
  echo "man is not installed: checked the man pages with groff or grep only"
fi

# The completions parse, and bash's completes a subcommand.
for bin in vrrpd vrrpctl vip garp; do
  bash -n "$root/usr/share/bash-completion/completions/$bin" || fail "bash rejects the completion of $bin"
  if command -v zsh >/dev/null; then
    zsh -n "$root/usr/share/zsh/vendor-completions/_$bin" || fail "zsh rejects the completion of $bin"
  fi
  if command -v fish >/dev/null; then
    fish -n "$root/usr/share/fish/vendor_completions.d/$bin.fish" || fail "fish rejects the completion of $bin"
  fi
done
completed="$(bash -c 'source "$1"; COMP_WORDS=(vrrpctl st); COMP_CWORD=1; COMP_LINE="vrrpctl st"
  COMP_POINT=${#COMP_LINE}; _vrrpctl vrrpctl st vrrpctl; echo "${COMPREPLY[*]}"' _ \
  "$root/usr/share/bash-completion/completions/vrrpctl")"
[ "$completed" = "status stats" ] || fail "bash completes 'vrrpctl st' to '$completed', not 'status stats'"

echo
echo "OK: $deb ($(du -h "$deb" | cut -f1)), ${dbgsyms[0]} ($(du -h "${dbgsyms[0]}" | cut -f1)),"
echo "    ${#expected[@]} files checked, in $((SECONDS - start)) s"
