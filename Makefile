# ctk: container inspection and debugging toolkit.
#
#   make            build build/ctk and its ctk-TOOL links
#   make demo       install missing packages, build, show ctk at work
#   make check      install missing packages, build, run the whole test suite
#   make check SANITIZE=1   the same under ASan+UBSan (in build/san)
#   make install PREFIX=/usr/local DESTDIR=...

VERSION := 0.1.0

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
MANDIR ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig

SANITIZE ?= 0
ifeq ($(SANITIZE),1)
O ?= build/san
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
else
O ?= build
SAN_FLAGS :=
endif

# Debian packages the build, the tests and the demo need (make deps). skopeo, umoci,
# podman and runc are the peers that load what ctk image export writes (tests/tools/interop.c);
# docker.io is not here (it is large): without it the docker test is skipped.
DEB_PACKAGES := build-essential pkg-config libsmartcols-dev libmount-dev \
	libcriterion-dev libjansson-dev libarchive-dev libssl-dev xz-utils \
	busybox-static mandoc util-linux procps iproute2 skopeo umoci podman runc

TOOLS := commit diff enter exec image kill layers logs ns ps rm run stop volume wait

# Headers only: these libraries are loaded on first use (libinspect/include/inspect/lazylib.h).
LAZY_PKGS := smartcols mount libarchive libcrypto
# Linked: small, and its inline functions need its symbols at link time.
LINK_PKGS := jansson
PKG_CFLAGS = $(shell pkg-config --cflags $(LAZY_PKGS) $(LINK_PKGS))
PKG_LIBS = $(shell pkg-config --libs $(LINK_PKGS))
TEST_PKGS := criterion libarchive

CFLAGS ?= -O2 -g
override CFLAGS += -std=gnu11 -Wall -Wextra -Werror $(SAN_FLAGS) -MMD -MP
override CPPFLAGS += -D_GNU_SOURCE -Ilibinspect/include -DCTK_VERSION='"$(VERSION)"'
override LDFLAGS += $(SAN_FLAGS)

LIB_SRCS := $(wildcard libinspect/*.c)
TOOL_SRCS := $(wildcard tools/*.c)
TEST_SRCS := $(wildcard tests/*.c tests/lib/*.c tests/tools/*.c)
LIB_OBJS := $(LIB_SRCS:%.c=$(O)/obj/%.o)
TOOL_OBJS := $(TOOL_SRCS:%.c=$(O)/obj/%.o)
TEST_OBJS := $(TEST_SRCS:%.c=$(O)/obj/%.o)
LINKS := $(TOOLS:%=$(O)/ctk-%)
MANPAGES := $(wildcard man/*.1)

.PHONY: all deps demo check test man-lint install uninstall clean
.DELETE_ON_ERROR:

all: $(O)/ctk $(LINKS)

$(O)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(PKG_CFLAGS) -c -o $@ $<

$(O)/obj/tests/%.o: override CFLAGS += $(shell pkg-config --cflags $(TEST_PKGS))

$(O)/libinspect.a: $(LIB_OBJS)
	$(AR) rcs $@ $^

$(O)/ctk: $(TOOL_OBJS) $(O)/libinspect.a
	$(CC) $(LDFLAGS) -o $@ $(TOOL_OBJS) $(O)/libinspect.a $(PKG_LIBS)

$(O)/ctk-%: | $(O)/ctk
	ln -sf ctk $@

$(O)/ctk-tests: $(TEST_OBJS) $(O)/libinspect.a
	$(CC) $(LDFLAGS) -o $@ $(TEST_OBJS) $(O)/libinspect.a $(PKG_LIBS) \
		$(shell pkg-config --libs $(TEST_PKGS))

# Installs only what is missing, so it is cheap to run before every demo and check.
deps:
	@missing=$$(for p in $(DEB_PACKAGES); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; \
	done); \
	if [ -n "$$missing" ]; then \
		echo "make deps: installing" $$missing; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
			apt-get install -y -qq --no-install-recommends $$missing; \
	fi

demo: deps
	$(MAKE) all
	tests/demo.sh $(O)/ctk

check: deps
	$(MAKE) test

test: all $(O)/ctk-tests man-lint
	CTK=$(abspath $(O)/ctk) CTK_SRC=$(CURDIR) CTK_MAKE_VARS="SANITIZE=$(SANITIZE) O=$(O)" \
		LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp \
		tests/run.sh $(O)/ctk-tests --verbose=0

man-lint:
	mandoc -T lint -W warning $(MANPAGES)

$(O)/libinspect.pc: libinspect/libinspect.pc.in
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' \
		-e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' -e 's|@VERSION@|$(VERSION)|' $< > $@

install: all $(O)/libinspect.pc
	install -Dm755 $(O)/ctk $(DESTDIR)$(BINDIR)/ctk
	for t in $(TOOLS); do ln -sf ctk $(DESTDIR)$(BINDIR)/ctk-$$t; done
	install -Dm644 -t $(DESTDIR)$(MANDIR)/man1 $(MANPAGES)
	install -Dm644 tools/ctk.bash-completion $(DESTDIR)$(BASHCOMPDIR)/ctk
	for t in $(TOOLS); do ln -sf ctk $(DESTDIR)$(BASHCOMPDIR)/ctk-$$t; done
	install -Dm644 $(O)/libinspect.a $(DESTDIR)$(LIBDIR)/libinspect.a
	install -Dm644 -t $(DESTDIR)$(INCLUDEDIR)/inspect libinspect/include/inspect/*.h
	install -Dm644 $(O)/libinspect.pc $(DESTDIR)$(PKGCONFIGDIR)/libinspect.pc

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/ctk $(TOOLS:%=$(DESTDIR)$(BINDIR)/ctk-%)
	rm -f $(MANPAGES:man/%=$(DESTDIR)$(MANDIR)/man1/%)
	rm -f $(DESTDIR)$(BASHCOMPDIR)/ctk $(TOOLS:%=$(DESTDIR)$(BASHCOMPDIR)/ctk-%)
	rm -f $(DESTDIR)$(LIBDIR)/libinspect.a $(DESTDIR)$(PKGCONFIGDIR)/libinspect.pc
	rm -rf $(DESTDIR)$(INCLUDEDIR)/inspect

clean:
	rm -rf build

-include $(LIB_OBJS:.o=.d) $(TOOL_OBJS:.o=.d) $(TEST_OBJS:.o=.d)
