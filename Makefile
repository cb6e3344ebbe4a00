# minidocker: see README.md for the two commands, INSTALL for administrators.
#
# Paths the setuid helper trusts (config, registry, network script, cgroup
# name) are compiled into it: nothing at run time can point it elsewhere.
# The test suite builds its own helper with every path under $(TESTROOT).

PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
LIBEXECDIR ?= $(PREFIX)/libexec/minidocker
MANDIR     ?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc
CONFDIR    ?= $(SYSCONFDIR)/minidocker
RUNDIR     ?= /run/minidocker
STATEDIR   ?= /var/lib/minidocker
CGROUP_NAME ?= minidocker
GROUP      ?= minidocker
SYSTEMDDIR ?= /etc/systemd/system
BUILDDIR   ?= build
DESTDIR    ?=

BINOWN  = root
BINGRP  = root
BINMODE = 4755

VERSION = 0.1.0

CC      ?= cc
CFLAGS  ?= -O2 -g
HARDEN  = -std=c11 -Wall -Wextra -Werror -Wformat=2 -Wshadow \
	  -D_FORTIFY_SOURCE=2 -fPIE -fstack-protector-strong
LDHARDEN = -pie -Wl,-z,relro,-z,now
CAPNG_LIBS := $(shell pkg-config --libs libcap-ng 2>/dev/null || echo -lcap-ng)
PATHDEFS = -DMD_CONFIG='"$(CONFDIR)/minidocker.conf"' \
	   -DMD_RUNDIR='"$(RUNDIR)"' \
	   -DMD_NETSCRIPT='"$(BINDIR)/mdnet.sh"' \
	   -DMD_MONITOR='"$(LIBEXECDIR)/mdmonitor"' \
	   -DMD_CGROUP_NAME='"$(CGROUP_NAME)"' \
	   -DMD_VERSION='"$(VERSION)"'
SANITIZE ?=
ifeq ($(SANITIZE),1)
SANFLAGS = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
endif

HELPER_SRC = $(filter-out helper/mdmonitor.c,$(wildcard helper/*.c))
HELPER_OBJ = $(HELPER_SRC:helper/%.c=$(BUILDDIR)/%.o)
# A detached container's monitor: static (one per running container, its
# resident memory counts), and only what waiting and cleaning up need.
MONITOR_OBJ = $(addprefix $(BUILDDIR)/,mdmonitor.o supervise.o pty.o net.o affinity.o registry.o \
	      cgroup.o parse.o util.o)
MONITOR_LINK = $(if $(SANFLAGS),-pie,-static-pie) -Wl,-z,relro,-z,now
SCRIPTS    = scripts/mdrun.sh scripts/mdctl.sh scripts/mdnet.sh scripts/mdrootfs.sh \
	     scripts/mdvm.sh scripts/mdbench.sh
DEMO_BIN   = $(BUILDDIR)/loop $(BUILDDIR)/mem $(BUILDDIR)/ping

# Test paths: root-owned, outside world-writable directories (SECURITY.md 2).
TESTROOT ?= /var/lib/minidocker-test
TESTFLAGS = PREFIX=$(TESTROOT) SYSCONFDIR=$(TESTROOT)/etc RUNDIR=$(TESTROOT)/run \
	    STATEDIR=$(TESTROOT)/state CGROUP_NAME=minidocker-test GROUP=mdtestgrp \
	    SYSTEMDDIR=$(TESTROOT)/systemd
BATS_FILES ?= tests/*.bats
FUZZ_SECONDS ?= 60

# Debian packages: build, test, and the tools the scripts drive.
DEPS = build-essential pkg-config libcap-ng-dev bats shellcheck cppcheck clang \
       busybox-static hyperfine iproute2 nftables procps psmisc util-linux \
       uidmap passwd tmux xz-utils zstd tar cpio e2fsprogs iputils-ping \
       mmdebstrap debootstrap fakeroot fakechroot \
       qemu-system-x86 qemu-utils sysbench sysstat gnuplot-nox docker.io iptables \
       python3 file

all: $(BUILDDIR)/mdhelper $(BUILDDIR)/mdmonitor $(DEMO_BIN)

# The compiled-in paths are part of each object: rebuild when they change.
BUILDKEY = $(CONFDIR) $(RUNDIR) $(BINDIR) $(LIBEXECDIR) $(CGROUP_NAME) $(VERSION) $(SANITIZE)
$(BUILDDIR)/.buildkey: FORCE
	@mkdir -p $(BUILDDIR)
	@echo "$(BUILDKEY)" | cmp -s - $@ || echo "$(BUILDKEY)" > $@

$(BUILDDIR)/%.o: helper/%.c $(wildcard helper/*.h) Makefile $(BUILDDIR)/.buildkey
	$(CC) $(HARDEN) $(CFLAGS) $(SANFLAGS) $(PATHDEFS) -c -o $@ $<

$(BUILDDIR)/mdhelper: $(HELPER_OBJ)
	$(CC) $(CFLAGS) $(SANFLAGS) $(LDHARDEN) -o $@ $(HELPER_OBJ) $(CAPNG_LIBS)

$(BUILDDIR)/mdmonitor: $(MONITOR_OBJ)
	$(CC) $(CFLAGS) $(SANFLAGS) $(MONITOR_LINK) -o $@ $(MONITOR_OBJ)

# The demo programs run inside any rootfs, so they are static.
$(BUILDDIR)/loop: rootfs/loop.c
	@mkdir -p $(BUILDDIR)
	$(CC) -static -O2 -Wall -Wextra -Werror -o $@ $<
$(BUILDDIR)/mem: rootfs/mem.c
	@mkdir -p $(BUILDDIR)
	$(CC) -static -O2 -Wall -Wextra -Werror -o $@ $<
$(BUILDDIR)/ping: rootfs/ping.c
	@mkdir -p $(BUILDDIR)
	$(CC) -static -O2 -Wall -Wextra -Werror -o $@ $<

install: all
	mkdir -p $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBEXECDIR) $(DESTDIR)$(CONFDIR) \
		$(DESTDIR)$(STATEDIR)/rootfs
	cp -f $(BUILDDIR)/mdhelper $(DESTDIR)$(LIBEXECDIR)/mdhelper
	chown $(BINOWN):$(BINGRP) $(DESTDIR)$(LIBEXECDIR)/mdhelper
	chmod $(BINMODE) $(DESTDIR)$(LIBEXECDIR)/mdhelper
	install -m 755 $(BUILDDIR)/mdmonitor $(DESTDIR)$(LIBEXECDIR)/mdmonitor
	chown $(BINOWN):$(BINGRP) $(DESTDIR)$(LIBEXECDIR)/mdmonitor
	cp -f $(DEMO_BIN) $(DESTDIR)$(LIBEXECDIR)/
	install -m 644 scripts/mdlib.sh $(DESTDIR)$(LIBEXECDIR)/mdlib.sh
	for s in $(SCRIPTS); do [ ! -f $$s ] || install -m 755 $$s $(DESTDIR)$(BINDIR)/; done
	# Never overwrite an administrator's config: the new one goes beside it.
	if [ -f $(DESTDIR)$(CONFDIR)/minidocker.conf ]; then \
		install -m 644 etc/minidocker.conf $(DESTDIR)$(CONFDIR)/minidocker.conf.new; \
	else \
		install -m 644 etc/minidocker.conf $(DESTDIR)$(CONFDIR)/minidocker.conf; \
	fi
	[ -n "$(DESTDIR)" ] || getent group $(GROUP) >/dev/null || groupadd --system $(GROUP)
	# The system rootfs `default`: busybox and the demo programs.
	if [ -z "$(DESTDIR)" ] && [ ! -d $(STATEDIR)/rootfs/default ]; then \
		MD_LIBEXEC=$(BUILDDIR) MD_SYSTEM_ROOTFS=$(STATEDIR)/rootfs \
			sh scripts/mdrootfs.sh --system busybox default; \
	fi
	if [ -f etc/mdnet.service ] && [ -d /run/systemd/system ] && [ -z "$(DESTDIR)" ]; then \
		sed 's|@BINDIR@|$(BINDIR)|g' etc/mdnet.service > $(SYSTEMDDIR)/mdnet.service; \
		systemctl daemon-reload || true; \
	fi

uninstall:
	rm -f $(DESTDIR)$(LIBEXECDIR)/mdhelper $(DESTDIR)$(LIBEXECDIR)/mdmonitor $(DESTDIR)$(LIBEXECDIR)/loop \
		$(DESTDIR)$(LIBEXECDIR)/mem $(DESTDIR)$(LIBEXECDIR)/ping $(DESTDIR)$(LIBEXECDIR)/mdlib.sh
	rmdir $(DESTDIR)$(LIBEXECDIR) 2>/dev/null || true
	for s in $(SCRIPTS); do rm -f $(DESTDIR)$(BINDIR)/$${s#scripts/}; done
	rm -f $(DESTDIR)$(CONFDIR)/minidocker.conf.new $(SYSTEMDDIR)/mdnet.service
	@echo "kept $(CONFDIR)/minidocker.conf and $(STATEDIR): remove them by hand if you want them gone"

deps:
	@[ "$$(id -u)" = 0 ] || { echo "make deps: run as root (sudo make deps)" >&2; exit 1; }
	DEBIAN_FRONTEND=noninteractive apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(DEPS)

# The tour: install, build the default rootfs, run the seed's Figure 1 as a
# non-root member of the minidocker group.
demo:
	@[ "$$(id -u)" = 0 ] || { echo "make demo: run as root (sudo make demo)" >&2; exit 1; }
	command -v cc >/dev/null && pkg-config --exists libcap-ng && command -v busybox >/dev/null || $(MAKE) deps
	$(MAKE) install
	$(BINDIR)/mdnet.sh up --config $(CONFDIR)/minidocker.conf
	sh tests/demo.sh $(BINDIR) $(GROUP)

lint:
	shellcheck -s sh $(wildcard scripts/*.sh tests/vm/*.sh tests/bench-*.sh) tests/demo.sh tests/summary.sh
	cppcheck --quiet --error-exitcode=1 --enable=warning,portability \
		--std=c11 --inline-suppr helper/

unit: $(BUILDDIR)/unit
	$(BUILDDIR)/unit > $(BUILDDIR)/unit.log; status=$$?; cat $(BUILDDIR)/unit.log; exit $$status

$(BUILDDIR)/unit: tests/unit.c $(filter-out helper/main.c,$(HELPER_SRC)) $(wildcard helper/*.h)
	@mkdir -p $(BUILDDIR)
	$(CC) $(HARDEN) -O1 -g -fsanitize=address,undefined -Ihelper $(PATHDEFS) \
		-o $@ tests/unit.c $(filter-out helper/main.c,$(HELPER_SRC)) $(CAPNG_LIBS)

fuzz: $(BUILDDIR)/fuzz-config
	mkdir -p $(BUILDDIR)/fuzz-corpus
	cp etc/minidocker.conf $(BUILDDIR)/fuzz-corpus/
	$(BUILDDIR)/fuzz-config -max_total_time=$(FUZZ_SECONDS) -max_len=4096 $(BUILDDIR)/fuzz-corpus

$(BUILDDIR)/fuzz-config: tests/fuzz_config.c $(filter-out helper/main.c,$(HELPER_SRC)) $(wildcard helper/*.h)
	@mkdir -p $(BUILDDIR)
	clang -std=c11 -g -O1 -fsanitize=fuzzer,address,undefined -Ihelper $(PATHDEFS) \
		-o $@ tests/fuzz_config.c $(filter-out helper/main.c,$(HELPER_SRC)) $(CAPNG_LIBS)

# Install a helper built with the test paths into $(TESTROOT).
test-install:
	@[ "$$(id -u)" = 0 ] || { echo "the tests need root: sudo make check" >&2; exit 1; }
	mkdir -p $(TESTROOT) && chown root:root $(TESTROOT) && chmod 755 $(TESTROOT)
	$(MAKE) install $(TESTFLAGS) BUILDDIR=$(BUILDDIR)/test$(if $(SANITIZE),-san) SANITIZE=$(SANITIZE)

# Everything, as CI runs it. Whatever fails, the test root and the test
# cgroups are removed before the status is returned.
check: deps-check lint unit
	@status=0; rm -rf $(BUILDDIR)/report; mkdir -p $(BUILDDIR)/report/all $(BUILDDIR)/report/san; \
	$(MAKE) test-install && MDT_ROOT=$(TESTROOT) bats --report-formatter tap \
		--output $(BUILDDIR)/report/all $(BATS_FILES) || status=1; \
	$(MAKE) test-install SANITIZE=1 && MDT_ROOT=$(TESTROOT) MDT_SANITIZED=1 \
		bats --report-formatter tap --output $(BUILDDIR)/report/san \
		tests/run.bats tests/net.bats || status=1; \
	$(MAKE) fuzz FUZZ_SECONDS=20 || status=1; \
	$(MAKE) test-clean; \
	$(MAKE) check-v2 || status=1; \
	sh tests/summary.sh $(BUILDDIR)/unit.log $(BUILDDIR)/report/*/report.tap; \
	exit $$status

# The container suites in a systemd, cgroup-v2 Debian 12 guest under QEMU,
# against `make install` there, as users logged in through PAM (students'
# machines; this host is v1). Skipped, saying why, without root, QEMU or a
# buildable image. V2_BUDGET: guest seconds for the suites.
V2_BUDGET ?= 1000
check-v2:
	sh tests/vm/v2-guest.sh --budget $(V2_BUDGET) --out $(BUILDDIR)/report/v2

test-clean:
	rm -rf $(TESTROOT)
	-for d in /sys/fs/cgroup/*/minidocker-test /sys/fs/cgroup/minidocker-test; do \
		[ ! -d $$d ] || rmdir $$d/* $$d 2>/dev/null || true; done

# `make check` must work on a fresh machine: install what is missing.
deps-check:
	@missing=; for p in $(DEPS); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then echo "installing missing packages:$$missing"; $(MAKE) deps; fi

bench-start: all
	sh tests/bench-start.sh
bench-exec: all
	sh tests/bench-exec.sh
bench-rootfs: $(DEMO_BIN)
	sh tests/bench-rootfs.sh
bench:
	sh scripts/mdbench.sh --calibrate --out $(BUILDDIR)/bench
bench-quick:
	sh scripts/mdbench.sh --quick --out $(BUILDDIR)/bench-quick
# VM_IMAGE=IMG.qcow2 (made by mdvm.sh build) times that Debian guest too.
bench-boot:
	sh scripts/mdvm.sh boottime tiny --matrix --out $(BUILDDIR)/bench-boot
	if [ -n "$(VM_IMAGE)" ]; then sh scripts/mdvm.sh boottime "$(VM_IMAGE)" -n 5 --timeout 180 --out $(BUILDDIR)/bench-boot-debian; fi

clean:
	rm -rf $(BUILDDIR)

FORCE:

.PHONY: all install uninstall deps deps-check demo lint unit fuzz test-install test-clean check check-v2 \
	bench bench-quick bench-start bench-exec bench-rootfs bench-boot clean
