#!/bin/sh
# Build the supervisor-rs Debian package from already-built release
# binaries, with dpkg-deb alone (no debhelper, no cargo-deb): fast enough
# for the test suite (tests/packaging.rs) to build it on every run.
#
#   packaging/deb/build.sh [BINDIR [OUTDIR]]
#
# BINDIR holds supervisord, supervisorctl, echo_supervisord_conf, pidproxy
# and supervisor-hub (default: target/release; build them with
# `cargo build --release --bins` first). The .deb is written to OUTDIR
# (default: target/deb) and its path printed. DEB_COMPRESSION picks
# dpkg-deb's compressor (default xz; the tests use gzip, which is faster).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
bindir=${1:-$repo/target/release}
outdir=${2:-$repo/target/deb}

command -v dpkg-deb >/dev/null || { echo "build.sh: dpkg-deb is missing (apt-get install dpkg)" >&2; exit 1; }

version=$(sed -n '/^\[workspace.package\]/,/^\[/s/^version *= *"\(.*\)"/\1/p' "$repo/Cargo.toml" | head -n1)
[ -n "$version" ] || { echo "build.sh: no [workspace.package] version in Cargo.toml" >&2; exit 1; }
arch=$(dpkg --print-architecture)
name=supervisor-rs

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
root=$stage/root
mkdir -p "$root/DEBIAN"

# install MODE SOURCE DEST
put() {
    mkdir -p "$(dirname "$root$3")"
    cp "$2" "$root$3"
    chmod "$1" "$root$3"
}

for bin in supervisord supervisorctl echo_supervisord_conf pidproxy supervisor-hub; do
    [ -x "$bindir/$bin" ] || { echo "build.sh: $bindir/$bin is missing: cargo build --release --bins" >&2; exit 1; }
    put 0755 "$bindir/$bin" "/usr/bin/$bin"
    strip --strip-unneeded "$root/usr/bin/$bin" 2>/dev/null || true
done

# Debian's supervisor layout.
put 0644 "$here/etc/supervisord.conf" /etc/supervisor/supervisord.conf
mkdir -p "$root/etc/supervisor/conf.d" "$root/var/log/supervisor"
chmod 0755 "$root/etc/supervisor/conf.d" "$root/var/log/supervisor"
put 0640 "$here/etc/cesi.conf.toml" /etc/supervisor-hub/cesi.conf.toml

put 0644 "$repo/contrib/systemd/supervisord.service" /lib/systemd/system/supervisord.service
put 0644 "$repo/contrib/systemd/supervisor-hub.service" /lib/systemd/system/supervisor-hub.service
put 0644 "$repo/contrib/sysusers/supervisor-hub.conf" /usr/lib/sysusers.d/supervisor-hub.conf
put 0644 "$repo/contrib/logrotate/supervisor" /etc/logrotate.d/supervisor
# Completions from supervisorctl itself (`supervisorctl completion SHELL`).
mkdir -p "$root/usr/share/bash-completion/completions" "$root/usr/share/zsh/vendor-completions" \
    "$root/usr/share/fish/vendor_completions.d"
"$bindir/supervisorctl" completion bash > "$root/usr/share/bash-completion/completions/supervisorctl"
"$bindir/supervisorctl" completion zsh > "$root/usr/share/zsh/vendor-completions/_supervisorctl"
"$bindir/supervisorctl" completion fish > "$root/usr/share/fish/vendor_completions.d/supervisorctl.fish"
chmod 0644 "$root"/usr/share/bash-completion/completions/* "$root"/usr/share/zsh/vendor-completions/* \
    "$root"/usr/share/fish/vendor_completions.d/*

for page in "$repo"/man/*.[0-9]; do
    base=$(basename "$page")
    section=${base##*.}
    put 0644 "$page" "/usr/share/man/man$section/$base"
    gzip -9n "$root/usr/share/man/man$section/$base"
done

put 0644 "$here/copyright" "/usr/share/doc/$name/copyright"
put 0644 "$repo/README.md" "/usr/share/doc/$name/README.md"
gzip -9n "$root/usr/share/doc/$name/README.md"

# Maintainer scripts and conffiles.
put 0755 "$here/postinst" /DEBIAN/postinst
put 0755 "$here/prerm" /DEBIAN/prerm
put 0755 "$here/postrm" /DEBIAN/postrm
(cd "$root" && find etc -type f | sed 's|^|/|' | sort) > "$root/DEBIAN/conffiles"

size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
cat > "$root/DEBIAN/control" <<CONTROL
Package: $name
Version: $version
Architecture: $arch
Maintainer: supervisor-rs developers <supervisor-rs@localhost>
Installed-Size: $size
Depends: libc6
Recommends: logrotate
Conflicts: supervisor
Replaces: supervisor
Provides: supervisor
Section: admin
Priority: optional
Description: process control system (Supervisor 4.3 rebuilt in Rust)
 supervisord starts, watches and restarts programs named in
 /etc/supervisor/supervisord.conf and /etc/supervisor/conf.d/*.conf;
 supervisorctl, its web page and XML-RPC clients control them. The
 configuration format, command line, protocol and logs are Supervisor
 4.3.0's, with opt-in additions (dependencies, readiness, systemd
 notification). supervisor-hub is a Cesi-compatible dashboard for many
 hosts.
CONTROL

mkdir -p "$outdir"
deb=$outdir/${name}_${version}_${arch}.deb
dpkg-deb --root-owner-group -Z"${DEB_COMPRESSION:-xz}" --build "$root" "$deb" >/dev/null
echo "$deb"
