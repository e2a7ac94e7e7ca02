#!/usr/bin/env bash
# Builds target/debian/rebound_<version>_<arch>.deb from a finished
# `cargo leptos build` (scripts/deb.sh release|debug). Debian's own dpkg-deb
# packs it: nothing to install, and the layout below is all there is.
#   /usr/bin/rebound                      the binary
#   /usr/share/rebound/site/              the browser app (LEPTOS_SITE_ROOT)
#   /usr/share/rebound/hash.txt           its hashed file names (LEPTOS_HASH_FILE_NAME)
#   /lib/systemd/system/rebound@.service  deploy/rebound@.service
#   /etc/rebound/rebound.toml, all.env    conffiles (kept on upgrade)
#   /usr/share/doc/rebound/               the docs and nginx.conf
set -euo pipefail
cd "$(dirname "$0")/.."
profile=${1:-release}
bin="target/$profile/rebound"
[ -x "$bin" ] || { echo "deb: $bin is missing: run 'make release' (or 'make build' for debug)" >&2; exit 1; }
hashes="target/$profile/hash.txt"
[ -f "$hashes" ] && [ -d target/site/pkg ] || { echo "deb: target/site or $hashes is missing: run 'make release'" >&2; exit 1; }
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
arch=$(dpkg --print-architecture)
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
pkg="$root/rebound"

install -D -m 0755 "$bin" "$pkg/usr/bin/rebound"
mkdir -p "$pkg/usr/share/rebound"
cp -r target/site "$pkg/usr/share/rebound/site"
install -m 0644 "$hashes" "$pkg/usr/share/rebound/hash.txt"
install -D -m 0644 deploy/rebound@.service "$pkg/lib/systemd/system/rebound@.service"
install -D -m 0644 deploy/debian/rebound.toml "$pkg/etc/rebound/rebound.toml"
install -D -m 0644 deploy/debian/all.env "$pkg/etc/rebound/all.env"
install -d "$pkg/usr/share/doc/rebound"
install -m 0644 README.md docs/*.md deploy/nginx.conf "$pkg/usr/share/doc/rebound/"
install -D -m 0755 deploy/debian/postinst "$pkg/DEBIAN/postinst"
install -D -m 0755 deploy/debian/postrm "$pkg/DEBIAN/postrm"
printf '/etc/rebound/rebound.toml\n/etc/rebound/all.env\n' > "$pkg/DEBIAN/conffiles"
size=$(du -sk "$pkg" | cut -f1)
cat > "$pkg/DEBIAN/control" <<CONTROL
Package: rebound
Version: $version
Architecture: $arch
Maintainer: Rebound <rebound@localhost>
Installed-Size: $size
Depends: libc6, adduser, systemd
Section: mail
Priority: optional
Description: every customer gets their receipt, one way or another
 Sends shop receipts, reads and classifies every bounce, retries through
 other senders and falls back to account notices, secure links and support.
CONTROL
mkdir -p target/debian
out="target/debian/rebound_${version}_${arch}.deb"
# A debug build is only packed to check the layout: no time on compression.
level=$([ "$profile" = release ] && echo 6 || echo 0)
dpkg-deb --root-owner-group -Zgzip -z"$level" --build "$pkg" "$out" >/dev/null
echo "deb: $out ($(du -h "$out" | cut -f1))"
