#!/bin/sh
# `make demo` and `make check` work on their first run on a machine that
# lacks the -dev packages.  A copy of the tree is built with shims first
# on PATH: until "apt-get" has run, dpkg-query reports every package
# missing and pkg-config finds no library; the shim apt-get only records
# that it ran (the real packages are on this machine already).  A
# Makefile that asks pkg-config before deps.sh has run links without the
# libraries and fails here.
. "$(dirname "$0")/lib.sh"
top=${AMBER_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
command -v git >/dev/null && command -v make >/dev/null ||
    { echo "skip: git or make missing"; exit 77; }
real_pc=$(command -v pkg-config) || { echo "skip: no pkg-config"; exit 77; }
real_dq=$(command -v dpkg-query) || { echo "skip: not Debian"; exit 77; }

shim="$T/shim"
stamp="$T/installed"
mkdir -p "$shim"
cat >"$shim/id" <<EOS
#!/bin/sh
[ "\$1" = -u ] && { echo 0; exit 0; }
exec /usr/bin/id "\$@"
EOS
cat >"$shim/dpkg-query" <<EOS
#!/bin/sh
[ -e "$stamp" ] && exec "$real_dq" "\$@"
exit 1
EOS
cat >"$shim/apt-get" <<EOS
#!/bin/sh
echo "apt-get \$*" >>"$T/apt.log"
case " \$* " in *" install "*) touch "$stamp" ;; esac
exit 0
EOS
cat >"$shim/pkg-config" <<EOS
#!/bin/sh
[ -e "$stamp" ] && exec "$real_pc" "\$@"
echo "Package \$* was not found in the pkg-config search path." >&2
exit 1
EOS
chmod +x "$shim"/*

# copy: the tree as it is now (tracked files, with their changes).
copy() {
	rm -rf "$1"; mkdir -p "$1"
	(cd "$top" && git ls-files -z | xargs -0 cp --parents -t "$1") ||
	    fail "cannot copy the tree"
	# The demo's build is what is tested, not its mount: a stub stands
	# in for the demo script and checks that both programs run.
	cat >"$1/tools/demo.sh" <<'EOS'
#!/bin/sh
set -e
"$(dirname "$0")/../${B:-build}/amber" --version
"$(dirname "$0")/../${B:-build}/amberfs" --help >/dev/null
echo "demo stub ran"
EOS
}

copy "$T/demo"
rm -f "$stamp" "$T/apt.log"
PATH="$shim:$PATH" make -C "$T/demo" demo >"$T/demo.log" 2>&1 ||
    { tail -n 30 "$T/demo.log" >&2; fail "make demo failed on its first run"; }
grep -q "demo stub ran" "$T/demo.log" || fail "make demo did not run the demo"
grep -q " install " "$T/apt.log" || fail "make demo installed nothing"
# The demo installs the build dependencies, not the test packages.
grep -q "libfuse3-dev" "$T/apt.log" || fail "demo did not install libfuse3-dev"
grep -q "radosgw\|clang" "$T/apt.log" &&
    fail "make demo installed test packages: $(cat "$T/apt.log")"

copy "$T/check"
rm -f "$stamp" "$T/apt.log"
PATH="$shim:$PATH" TESTS=no-such-test make -C "$T/check" check \
    >"$T/check.log" 2>&1 ||
    { tail -n 30 "$T/check.log" >&2; fail "make check failed on its first run"; }
grep -q "^0 passed, 0 failed" "$T/check.log" ||
    fail "make check did not reach its summary: $(tail -n 5 "$T/check.log")"
grep -q "radosgw" "$T/apt.log" || fail "make check did not install radosgw"
exit 0
