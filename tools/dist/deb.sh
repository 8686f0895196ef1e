#!/bin/sh
# tools/dist/deb.sh B OUT: build OUT/amber_VERSION_ARCH.deb from the
# binaries in B (built by `make deb` with dpkg-buildflags' hardening
# flags), the man pages, the systemd units, the cron example, the
# Prometheus alert rules and the bash
# completion, with the control files of tools/dist/debian/.  Needs only
# dpkg-dev: dpkg-shlibdeps finds the library packages and versions,
# dpkg-gencontrol writes the control file, dpkg-deb --root-owner-group
# builds (no fakeroot).  Run from the top of the tree.  Why each lintian
# tag that remains is there: tools/dist/debian/README.
set -eu
umask 022
B=$1
OUT=$2
d=tools/dist/debian
work=$B/deb
root=$work/root
doc=$root/usr/share/doc/amber

die() { echo "make deb: $*" >&2; exit 1; }
for t in dpkg-shlibdeps dpkg-gencontrol dpkg-parsechangelog dpkg-deb strip; do
	command -v $t >/dev/null ||
	    die "$t not found (apt-get install dpkg-dev binutils)"
done
version=$(dpkg-parsechangelog -l $d/changelog -S Version)
have=$("$B/amber" --version)
[ "$have" = "amber $version" ] ||
    die "$d/changelog is at $version, but $B/amber --version says '$have'"
arch=$(dpkg --print-architecture)
# The changelog's date is the time of every file: the same tree gives
# the same package.
SOURCE_DATE_EPOCH=$(dpkg-parsechangelog -l $d/changelog -S Timestamp)
export SOURCE_DATE_EPOCH

rm -rf "$work"
install -d -m 0755 "$root/DEBIAN" "$root/usr/bin" \
    "$root/usr/share/man/man1" "$root/usr/share/man/man5" \
    "$root/lib/systemd/system" "$root/usr/share/bash-completion/completions" \
    "$doc/examples" "$work/debian"

# Binaries, stripped as dh_strip strips them (no -dbgsym package).
for b in amber amberfs; do
	install -m 0755 "$B/$b" "$root/usr/bin/$b"
	strip --remove-section=.comment --remove-section=.note \
	    "$root/usr/bin/$b"
done
for m in man/*.[1-8]; do
	s=${m##*.}
	gzip -9n <"$m" >"$root/usr/share/man/man$s/${m##*/}.gz"
done
sed 's|/usr/local/bin/|/usr/bin/|g' tools/systemd/amber-ingest@.service \
    >"$root/lib/systemd/system/amber-ingest@.service"
install -m 0644 tools/systemd/amber-ingest@.timer "$root/lib/systemd/system/"
sed 's|/usr/local/bin/|/usr/bin/|g' tools/systemd/amber.cron \
    >"$doc/examples/amber.cron"
install -m 0644 tools/dist/amber.rules.yml "$doc/examples/"
install -m 0644 tools/completion/amber.bash \
    "$root/usr/share/bash-completion/completions/amber"
gzip -9n <README.md >"$doc/README.md.gz"
gzip -9n <$d/changelog >"$doc/changelog.gz"
{
	printf '%s\n' \
	    'Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/' \
	    'Upstream-Name: amber' '' 'Files: *' \
	    "Copyright: $(sed -n 's/^Copyright (c) //p' LICENSE)" \
	    'License: BSD-2-Clause' '' 'License: BSD-2-Clause'
	sed -n '/^Redistribution/,$p' LICENSE | sed 's/^$/./; s/^/ /'
} >"$doc/copyright"
chmod 0644 "$doc/copyright" "$doc/examples/amber.cron" \
    "$root/lib/systemd/system/amber-ingest@.service"
install -m 0755 $d/postinst $d/postrm "$root/DEBIAN/"

# Depends from the libraries the binaries link, then the control file.
cp $d/control $d/changelog "$work/debian/"
(cd "$work" && dpkg-shlibdeps -Tdebian/substvars \
    -eroot/usr/bin/amber -eroot/usr/bin/amberfs)
(cd "$work" && dpkg-gencontrol -pamber -Proot -Tdebian/substvars \
    -fdebian/files ${DEB_MAINTAINER:+"-DMaintainer=$DEB_MAINTAINER"})
(cd "$root" && find . -type f ! -path './DEBIAN/*' -printf '%P\0' |
    LC_ALL=C sort -z | xargs -0 md5sum) >"$root/DEBIAN/md5sums"
chmod 0644 "$root/DEBIAN/md5sums" "$root/DEBIAN/control"
find "$root" -newermt "@$SOURCE_DATE_EPOCH" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +

mkdir -p "$OUT"
rm -f "$OUT"/amber_*.deb
deb=$OUT/amber_${version}_$arch.deb
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
echo "$deb"
