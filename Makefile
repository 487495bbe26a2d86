# roost: a privilege-separated IMAP and POP3 server with a Sieve delivery agent.
#
#   make            release build in build/release
#   make demo       install missing packages (as root), build, run a demo server
#   make check      install what the tests need, build, run every test
#                   (unit, integration, sanitizers, fuzz smoke, style)
#   make install    PREFIX, DESTDIR, SYSCONFDIR, LIBEXECDIR, MANDIR
#   make check-package  build the Debian package, lintian it, install it
#                   here, start it, log in, purge it (root; part of check)
#
# The compile rules live in mk/build.mk and are run once per variant:
#   release  hardened, what gets installed
#   test     release flags plus -DROOST_TEST_HOOKS (test-only failure hooks)
#   asan     AddressSanitizer + UBSan, test hooks, debug seccomp filter (traps)
#   fuzz     clang libFuzzer harnesses under fuzz/

PREFIX     ?= /usr/local
SYSCONFDIR ?= $(if $(filter /usr,$(PREFIX)),/etc,$(PREFIX)/etc)
LIBEXECDIR ?= $(PREFIX)/libexec
MANDIR     ?= $(PREFIX)/share/man
DOCDIR     ?= $(PREFIX)/share/doc/roost
DESTDIR    ?=

SUBMAKE = $(MAKE) --no-print-directory -f mk/build.mk PREFIX=$(PREFIX) SYSCONFDIR=$(SYSCONFDIR) LIBEXECDIR=$(LIBEXECDIR)

PYTHON    := /usr/bin/python3
PYTEST    := $(PYTHON) -m pytest -q -p no:cacheprovider
PYTEST_ARGS ?=


.PHONY: all release test-build asan-build fuzz-build deps deps-build demo check check-unit \
	check-integration check-sieve check-asan check-style fuzz-smoke format install clean \
	check-package

all: release

release:
	+@$(SUBMAKE) V=release all

test-build:
	+@$(SUBMAKE) V=test all unit

asan-build:
	+@$(SUBMAKE) V=asan all unit

fuzz-build:
	+@$(SUBMAKE) V=fuzz fuzz

deps:
	@mk/deps.sh all

deps-build:
	@mk/deps.sh build

demo: deps-build release
	@mk/demo.sh build/release

# Everything CI needs, in one command: packages, builds, every suite.
check: deps check-style test-build release
	@$(MAKE) --no-print-directory check-unit check-integration check-sieve
	@$(MAKE) --no-print-directory check-asan
	@$(MAKE) --no-print-directory fuzz-smoke
	@$(MAKE) --no-print-directory check-package
	@echo "make check: all suites passed"

check-unit: test-build
	@mk/run-unit.sh build/test

check-integration: test-build release
	@ROOST_BUILD=$(CURDIR)/build/test ROOST_RELEASE_BUILD=$(CURDIR)/build/release \
		$(PYTEST) tests/integration $(PYTEST_ARGS)

check-asan: deps asan-build
	@mk/run-unit.sh build/asan
	@ROOST_BUILD=$(CURDIR)/build/asan ROOST_ASAN=1 \
		ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:log_path=stderr \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		$(PYTEST) tests/integration $(PYTEST_ARGS)
	@$(PYTHON) tests/sieve/diff.py --roost build/asan/bin/roostadm

# roostadm sieve test against Pigeonhole's sieve-test on tests/sieve/cases.
check-sieve: test-build
	@$(PYTHON) tests/sieve/diff.py --roost build/test/bin/roostadm

check-style:
	@mk/check-style.sh

check-package: deps
	@$(PYTEST) tests/package $(PYTEST_ARGS)

fuzz-smoke: fuzz-build
	@mk/fuzz-smoke.sh build/fuzz $(or $(FUZZ_SECS),5)

format:
	@clang-format -i $$(git ls-files --cached --others --exclude-standard '*.c' '*.h')

install: release
	+@$(SUBMAKE) V=release install DESTDIR=$(DESTDIR) MANDIR=$(MANDIR) DOCDIR=$(DOCDIR)

clean:
	rm -rf build
