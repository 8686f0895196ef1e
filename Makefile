# amber: one plain, non-recursive GNU Makefile: pkg-config for every
# library, the user's CFLAGS kept apart from ours, -Werror only with WERROR=1.
PKGS     = fuse3 lmdb libzstd libcrypto libcurl expat jansson
PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/bin
MANDIR  ?= $(PREFIX)/share/man
SYSTEMDDIR ?= $(PREFIX)/lib/systemd/system
DOCDIR  ?= $(PREFIX)/share/doc/amber
COMPLETIONDIR ?= $(PREFIX)/share/bash-completion/completions
CC      ?= cc
CFLAGS  ?= -O2 -g

WARN     = -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes \
           -Wmissing-prototypes -Wwrite-strings -Wformat=2 -Wvla -Wconversion \
           -Wno-sign-conversion
ifeq ($(WERROR),1)
WARN    += -Werror
endif
DEFS     = -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 -DFUSE_USE_VERSION=35
SAN      =
ifeq ($(SANITIZE),1)
SAN      = -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
endif
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS))
PKG_LIBS   := $(shell pkg-config --libs $(PKGS))
ALL_CFLAGS  = -std=c17 $(WARN) $(DEFS) $(INC) $(PKG_CFLAGS) $(SAN) -pthread -MMD -MP $(CFLAGS)
ALL_LDFLAGS = $(SAN) -pthread $(LDFLAGS)

# The store boundary, enforced by the compiler: store/include/ holds
# libstore's public headers (store.h, and the small ones it exports: the
# HTTP client, the rd.h codec, hex, I/O and passphrase helpers).  Of
# store/, fs/ and tools/ see only that folder; store/ itself and the
# tests, which may reach into a module, also see store/'s internal headers.
# tools/ is a tree of folders (cmd/, cli/, ingest/, src/{dir,git,forge}/
# ...): every folder under tools/ that holds a header is on the include
# path of tools/ and of the tests, so a file includes "cli.h", not a path.
TOOLS_INC := $(patsubst %/,-I%,$(sort $(dir $(shell find tools -name '*.h'))))
INC      = -Istore -Istore/include $(TOOLS_INC)
PUB_INC  = -Istore/include

# Sanitizer objects live apart so the two builds never mix.
B        = build$(if $(filter 1,$(SANITIZE)),-san)

STORE_SRC = $(wildcard store/*.c)
# Every .c under tools/, at any depth, flat in tools/ too.
TOOLS_SRC := $(sort $(shell find tools -name '*.c'))
# Everything of amber but main(): libtools.a, which tests link too.
TOOLS_LIB_SRC = $(filter-out tools/cmd/main.c,$(TOOLS_SRC))
FS_SRC    = $(wildcard fs/*.c)
UNIT_SRC  = $(wildcard tests/unit/test_*.c)
FUZZ_SRC  = $(wildcard tests/fuzz/fuzz_*.c)
ATTACK_SRC = $(wildcard tests/attack/*.c)

STORE_OBJ = $(STORE_SRC:%.c=$(B)/%.o)
TOOLS_OBJ = $(TOOLS_LIB_SRC:%.c=$(B)/%.o)
LIBTOOLS  = $(B)/libtools.a
FS_OBJ    = $(FS_SRC:%.c=$(B)/%.o)
LIBSTORE  = $(B)/libstore.a
# fs/ without its main(), for the unit tests of the mount's logic.
LIBFS     = $(B)/libfs.a
UNIT_BIN  = $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)
FUZZ_BIN  = $(FUZZ_SRC:tests/fuzz/%.c=$(B)/tests/%)
# The attack suite's forgers: they build hostile objects from the format.
ATTACK_BIN = $(ATTACK_SRC:tests/attack/%.c=$(B)/tests/attack_%)

AMBER     = $(B)/amber
AMBERFS   = $(B)/amberfs
MANPAGES  = $(wildcard man/*.[1-8])

.PHONY: all check install uninstall clean fuzz check-valgrind demo bench deps demo-deps all-tests deb

all: $(AMBER) $(AMBERFS)
	@ln -sf $(B)/amber amber; ln -sf $(B)/amberfs amberfs

$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(FS_OBJ): INC = $(PUB_INC)
$(TOOLS_OBJ) $(B)/tools/cmd/main.o: INC = $(PUB_INC) $(TOOLS_INC)

$(LIBSTORE): $(STORE_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@; ar rcs $@ $^

$(LIBTOOLS): $(TOOLS_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@; ar rcs $@ $^

$(LIBFS): $(filter-out $(B)/fs/main.o,$(FS_OBJ))
	@mkdir -p $(dir $@)
	rm -f $@; ar rcs $@ $^

$(AMBER): $(B)/tools/cmd/main.o $(LIBTOOLS) $(LIBSTORE)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(AMBERFS): $(FS_OBJ) $(LIBSTORE)
	$(CC) $(ALL_LDFLAGS) -o $@ $(FS_OBJ) $(LIBSTORE) $(PKG_LIBS)

# Every unit test links tests/unit/fixture.c, the helpers they share, as
# an archive: a test that fakes part of the store (test_fs_tcache) and
# uses no helper then pulls in nothing of it, nor the store it calls.
FIXTURE   = $(B)/tests/libfixture.a

$(FIXTURE): $(B)/tests/unit/fixture.o
	rm -f $@; ar rcs $@ $^

$(B)/tests/test_%: $(B)/tests/unit/test_%.o $(FIXTURE) $(LIBTOOLS) $(LIBSTORE)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)

# tests/unit/test_fs_*.c: the mount's logic without FUSE or /dev/fuse.
$(B)/tests/test_fs_%: $(B)/tests/unit/test_fs_%.o $(FIXTURE) $(LIBFS) $(LIBSTORE)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(FIXTURE) $(LIBFS) $(LIBSTORE) $(PKG_LIBS)

$(B)/tests/attack_%: $(B)/tests/attack/%.o $(LIBSTORE)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(LIBSTORE) $(PKG_LIBS)

# Keep the test programs' objects: made by a chain of pattern rules they
# would be deleted as intermediate, and built again by the next make.
.SECONDARY: $(UNIT_SRC:%.c=$(B)/%.o) $(FUZZ_SRC:%.c=$(B)/%.o) \
    $(ATTACK_SRC:%.c=$(B)/%.o) $(B)/tests/unit/fixture.o

# Fuzz targets, linked with a standalone driver that replays a corpus.
$(B)/tests/fuzz_%: $(B)/tests/fuzz/fuzz_%.o $(B)/tests/fuzz/replay.o $(LIBTOOLS) $(LIBSTORE)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(B)/tests/fuzz/replay.o: tests/fuzz/replay.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

# demo and check install what they need first, then build in a make of
# their own: pkg-config is asked for flags when a makefile is read, so the
# make that ran deps.sh still holds the empty answer it got before the
# -dev packages were there.
deps:
	@sh tools/deps.sh check

demo-deps:
	@sh tools/deps.sh demo

# check builds with one job per CPU unless make was given -j, and
# tests/run.sh runs the tests JOBS at a time (default: CPUs + 1).
CHECK_J = $(if $(filter -j%,$(MAKEFLAGS)),,-j$(shell nproc 2>/dev/null || echo 1))

check: deps
	@$(MAKE) --no-print-directory $(CHECK_J) all-tests
	@B=$(B) sh tests/run.sh

all-tests: $(AMBER) $(AMBERFS) $(UNIT_BIN) $(FUZZ_BIN) $(ATTACK_BIN)

check-valgrind: $(UNIT_BIN)
	@for t in $(UNIT_BIN); do valgrind -q --leak-check=full --error-exitcode=1 $$t || exit 1; done

# libFuzzer builds: make fuzz, then run build-fuzz/fuzz_NAME corpus/...
FUZZ_CFLAGS = -std=c17 $(DEFS) $(INC) $(PKG_CFLAGS) -g -O1 -fsanitize=fuzzer,address,undefined -pthread
fuzz:
	@mkdir -p build-fuzz
	@for f in $(FUZZ_SRC); do n=$$(basename $$f .c); \
	  echo "clang $$n"; \
	  clang $(FUZZ_CFLAGS) -o build-fuzz/$$n $$f $(TOOLS_LIB_SRC) $(STORE_SRC) $(PKG_LIBS) || exit 1; done

demo: demo-deps
	@$(MAKE) --no-print-directory all
	@B=$(B) sh tools/demo.sh

bench: all
	@sh tests/bench/run.sh

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 \
	    $(DESTDIR)$(SYSTEMDDIR) $(DESTDIR)$(DOCDIR) $(DESTDIR)$(COMPLETIONDIR)
	install -m 0755 $(AMBER) $(AMBERFS) $(DESTDIR)$(BINDIR)/
	install -m 0644 tools/completion/amber.bash $(DESTDIR)$(COMPLETIONDIR)/amber
	for m in $(MANPAGES); do s=$${m##*.}; install -m 0644 $$m $(DESTDIR)$(MANDIR)/man$$s/; done
	sed 's|/usr/local/bin/|$(BINDIR)/|g' tools/systemd/amber-ingest@.service \
	    > $(DESTDIR)$(SYSTEMDDIR)/amber-ingest@.service
	install -m 0644 tools/systemd/amber-ingest@.timer $(DESTDIR)$(SYSTEMDDIR)/
	sed 's|/usr/local/bin/|$(BINDIR)/|g' tools/systemd/amber.cron > $(DESTDIR)$(DOCDIR)/amber.cron
	install -m 0644 tools/dist/amber.rules.yml $(DESTDIR)$(DOCDIR)/

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/amber $(DESTDIR)$(BINDIR)/amberfs
	rm -f $(DESTDIR)$(SYSTEMDDIR)/amber-ingest@.service $(DESTDIR)$(SYSTEMDDIR)/amber-ingest@.timer
	rm -f $(DESTDIR)$(DOCDIR)/amber.cron $(DESTDIR)$(DOCDIR)/amber.rules.yml \
	    $(DESTDIR)$(COMPLETIONDIR)/amber
	for m in $(MANPAGES); do s=$${m##*.}; rm -f $(DESTDIR)$(MANDIR)/man$$s/$${m##*/}; done

# The Debian package, build/amber_VERSION_ARCH.deb: the binaries built
# apart in build-deb/ with Debian's hardening flags (dpkg-buildflags,
# hardening=+all: PIE, stack protector, fortify, relro, bindnow), then
# packed by tools/dist/deb.sh (dpkg-dev; the control files, and why
# lintian has nothing to say, in tools/dist/debian/).  Check it with
# `lintian -I --pedantic build/amber_*.deb`, install it with
# `apt-get install ./build/amber_*.deb` (.ci/run does both).
# DEB_MAINTAINER="Name <address>" sets the Maintainer field.
DEB_B     = build-deb
DEB_FLAGS = DEB_BUILD_MAINT_OPTIONS=hardening=+all dpkg-buildflags --get
deb:
	@command -v dpkg-buildflags >/dev/null || \
	    { echo "make deb: needs dpkg-dev (apt-get install dpkg-dev)" >&2; exit 1; }
	@$(MAKE) --no-print-directory B=$(DEB_B) SANITIZE= WERROR= \
	    CFLAGS="$$($(DEB_FLAGS) CFLAGS) $$($(DEB_FLAGS) CPPFLAGS)" \
	    LDFLAGS="$$($(DEB_FLAGS) LDFLAGS)" $(DEB_B)/amber $(DEB_B)/amberfs
	@sh tools/dist/deb.sh $(DEB_B) build

clean:
	rm -rf build build-san build-fuzz build-deb amber amberfs

-include $(shell find build build-san build-deb -name '*.d' 2>/dev/null)
