# Compile rules for one build variant (V = release | test | asan | fuzz).
# Called by the top-level Makefile; every folder describes its own programs
# in a module.mk fragment, included below.

V ?= release
O := build/$(V)

PREFIX     ?= /usr/local
SYSCONFDIR ?= $(PREFIX)/etc
LIBEXECDIR ?= $(PREFIX)/libexec
MANDIR     ?= $(PREFIX)/share/man
DOCDIR     ?= $(PREFIX)/share/doc/roost

PKGS := libseccomp libssl libcrypto libxcrypt zlib
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS))
PKG_LIBS   := $(shell pkg-config --libs $(PKGS))
CMOCKA_LIBS := $(shell pkg-config --libs cmocka 2>/dev/null)

WARN := -Wall -Wextra -Werror -Wformat=2 -Wshadow -Wstrict-prototypes \
	-Wmissing-prototypes -Wpointer-arith -Wvla -Wno-missing-field-initializers
HARDEN_CFLAGS := -D_FORTIFY_SOURCE=3 -fstack-protector-strong -fstack-clash-protection \
	-fcf-protection -fPIE
HARDEN_LDFLAGS := -pie -Wl,-z,relro,-z,now -Wl,-z,noexecstack
DEFS := -D_GNU_SOURCE -DSYSCONFDIR='"$(SYSCONFDIR)"' -DLIBEXECDIR='"$(LIBEXECDIR)/roost"' \
	-I. -Ilib -Ifuzz

ifeq ($(V),release)
VCFLAGS := -O2 -g $(HARDEN_CFLAGS)
VLDFLAGS := $(HARDEN_LDFLAGS)
else ifeq ($(V),test)
VCFLAGS := -O2 -g $(HARDEN_CFLAGS) -DROOST_TEST_HOOKS
VLDFLAGS := $(HARDEN_LDFLAGS)
else ifeq ($(V),asan)
VCFLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
	-fno-sanitize-recover=undefined -fPIE -DROOST_TEST_HOOKS -DROOST_SANDBOX_DEBUG
VLDFLAGS := -fsanitize=address,undefined -pie
else ifeq ($(V),fuzz)
CC := clang
VCFLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined \
	-DROOST_FUZZ
VLDFLAGS := -fsanitize=fuzzer,address,undefined
else
$(error unknown variant V=$(V))
endif
ifeq ($(origin CC),default)
CC := gcc
endif

ALL_CFLAGS := -std=c17 $(WARN) $(VCFLAGS) $(DEFS) $(PKG_CFLAGS) $(CPPFLAGS) $(CFLAGS)
ALL_LDFLAGS := $(VLDFLAGS) -Wl,--as-needed $(LDFLAGS)

# Filled in by the module.mk fragments.
LIBS :=
SBIN_PROGS :=
BIN_PROGS :=
LIBEXEC_PROGS :=
LIBEXEC_LINKS :=
FUZZERS :=

include $(sort $(wildcard */module.mk */*/module.mk))

# Libraries: libNAME_SRCS -> $(O)/libNAME.a, linked into every program.
# The archive is rebuilt when its list of objects changes too (a source that
# moved to another folder must not linger in the old archive).
define LIB_template
lib$(1)_OBJS := $$(patsubst %.c,$(O)/obj/%.o,$$(lib$(1)_SRCS))
$(O)/lib$(1).list: FORCE
	@mkdir -p $$(@D)
	@echo '$$(lib$(1)_OBJS)' | cmp -s - $$@ || echo '$$(lib$(1)_OBJS)' > $$@
$(O)/lib$(1).a: $$(lib$(1)_OBJS) $(O)/lib$(1).list
	@mkdir -p $$(@D)
	@rm -f $$@
	@ar rcs $$@ $$(lib$(1)_OBJS)
ALL_OBJS += $$(lib$(1)_OBJS)
endef
$(foreach l,$(LIBS),$(eval $(call LIB_template,$(l))))

LIB_ARCHIVES := $(foreach l,$(LIBS),$(O)/lib$(l).a)
# Archives depend on each other in both directions (storage on lib's log).
LINK_LIBS = -Wl,--start-group $(LIB_ARCHIVES) -Wl,--end-group $(PKG_LIBS)

# The mail processes (one fork+exec per session) are linked static-PIE in
# the release and test variants: no dynamic loader at every start (about
# 0.2 ms of CPU per session here) and no relocated copies of shared
# libraries' pages (about 50 KiB per session). Still PIE, full RELRO and
# BIND_NOW; only their own libraries are linked, OpenSSL deliberately not
# (a reference to it is a link error). The sanitizer variants stay dynamic.
STATIC_PIE_PROGS := roost-imap roost-pop3
STATIC_PIE_LIBS := $(shell pkg-config --static --libs libseccomp zlib)
ifneq ($(filter $(V),release test),)
static_pie = $(filter $(1),$(STATIC_PIE_PROGS))
endif
STATIC_PIE_LDFLAGS = -static-pie $(filter-out -pie,$(ALL_LDFLAGS))
STATIC_PIE_LINK_LIBS = -Wl,--start-group $(LIB_ARCHIVES) -Wl,--end-group $(STATIC_PIE_LIBS)
PROG_LDFLAGS = $(if $(call static_pie,$(1)),$(STATIC_PIE_LDFLAGS),$(ALL_LDFLAGS))
PROG_LIBS = $(if $(call static_pie,$(1)),$(STATIC_PIE_LINK_LIBS),$(LINK_LIBS))

define PROG_template
$(1)_OBJS := $$(patsubst %.c,$(O)/obj/%.o,$$($(1)_SRCS))
# Relinked when this file changes too: how a program is linked lives here.
$(2)/$(1): $$($(1)_OBJS) $$(LIB_ARCHIVES) mk/build.mk
	@mkdir -p $$(@D)
	@echo "  LD      $$@"
	@$$(CC) $$(call PROG_LDFLAGS,$(1)) -o $$@ $$($(1)_OBJS) $$(call PROG_LIBS,$(1))
ALL_OBJS += $$($(1)_OBJS)
endef
$(foreach p,$(SBIN_PROGS),$(eval $(call PROG_template,$(p),$(O)/sbin)))
$(foreach p,$(BIN_PROGS),$(eval $(call PROG_template,$(p),$(O)/bin)))
$(foreach p,$(LIBEXEC_PROGS),$(eval $(call PROG_template,$(p),$(O)/libexec/roost)))

PROGRAMS := $(addprefix $(O)/sbin/,$(SBIN_PROGS)) $(addprefix $(O)/bin/,$(BIN_PROGS)) \
	$(addprefix $(O)/libexec/roost/,$(LIBEXEC_PROGS))

# Unit tests: tests/unit/test-NAME.c, each a cmocka program with every
# library; test-NAME_EXTRA (in tests/unit/module.mk) adds sources of a
# program under test, e.g. policy/registry.c.
UNIT_SRCS := $(wildcard tests/unit/test-*.c)
UNIT_NAMES := $(patsubst tests/unit/%.c,%,$(UNIT_SRCS))
UNIT_PROGS := $(addprefix $(O)/tests/,$(UNIT_NAMES))
define UNIT_template
$(O)/tests/$(1): $(O)/obj/tests/unit/$(1).o $$(patsubst %.c,$(O)/obj/%.o,$$($(1)_EXTRA)) $$(LIB_ARCHIVES)
	@mkdir -p $$(@D)
	@$$(CC) $$(ALL_LDFLAGS) -o $$@ $$(filter %.o,$$^) $$(LINK_LIBS) $$(CMOCKA_LIBS)
ALL_OBJS += $(O)/obj/tests/unit/$(1).o $$(patsubst %.c,$(O)/obj/%.o,$$($(1)_EXTRA))
endef
$(foreach t,$(UNIT_NAMES),$(eval $(call UNIT_template,$(t))))

# Fuzz harnesses: fuzz/fuzz-NAME.c, linked with libFuzzer.
FUZZ_SRCS := $(wildcard fuzz/fuzz-*.c)
FUZZ_PROGS := $(patsubst fuzz/%.c,$(O)/fuzz/%,$(FUZZ_SRCS))
$(O)/fuzz/%: $(O)/obj/fuzz/%.o $(LIB_ARCHIVES)
	@mkdir -p $(@D)
	@$(CC) $(ALL_LDFLAGS) -o $@ $< $(LINK_LIBS)
ALL_OBJS += $(patsubst %.c,$(O)/obj/%.o,$(FUZZ_SRCS))

$(O)/obj/%.o: %.c
	@mkdir -p $(@D)
	@echo "  CC      $<"
	@$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

.PHONY: all unit fuzz install FORCE
FORCE:
.DEFAULT_GOAL := all
all: $(PROGRAMS) $(O)/.links
unit: $(UNIT_PROGS)
fuzz: $(FUZZ_PROGS)

# Extra names for helpers (e.g. deliver -> roost-lda), as NAME:TARGET pairs.
$(O)/.links: $(PROGRAMS)
	@for l in $(LIBEXEC_LINKS); do ln -sf $${l#*:} $(O)/libexec/roost/$${l%%:*}; done
	@mkdir -p $(@D) && touch $@

install: all
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(LIBEXECDIR)/roost
	$(foreach p,$(SBIN_PROGS),install -m 0755 $(O)/sbin/$(p) $(DESTDIR)$(PREFIX)/sbin/$(p);)
	$(foreach p,$(BIN_PROGS),install -m 0755 $(O)/bin/$(p) $(DESTDIR)$(PREFIX)/bin/$(p);)
	$(foreach p,$(LIBEXEC_PROGS),install -m 0755 $(O)/libexec/roost/$(p) $(DESTDIR)$(LIBEXECDIR)/roost/$(p);)
	$(foreach l,$(LIBEXEC_LINKS),ln -sf $(lastword $(subst :, ,$(l))) $(DESTDIR)$(LIBEXECDIR)/roost/$(firstword $(subst :, ,$(l)));)
	install -d $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8
	for m in docs/*.[158]; do install -m 0644 $$m $(DESTDIR)$(MANDIR)/man$${m##*.}/; done

-include $(ALL_OBJS:.o=.d)
.SECONDARY:
