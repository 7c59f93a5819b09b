# petrel - build with make and pkg-config. See README.md.
#   make            build petreld and petrelctl (optimised) into build/
#   make run        build, initialise ./var on first start, run in the foreground
#                   (ARGS="-o key=value ..." passes options to petreld)
#   make test       unit tests (cmocka) and integration tests (pytest)
#   make test-asan  the same tests on an ASan+UBSan build (build-asan/)
#   make fuzz       each libFuzzer target for FUZZ_SECONDS seconds
#                   (FUZZ="fuzz_imap_session fuzz_pop3_session": only those)
#   make bench      benchmarks against Postfix and Dovecot (bench/)
#   make bench-filter  the spam filter against bogofilter and SpamAssassin:
#                   accuracy (k-fold) and speed (bench/filter/, ~60 minutes)

BUILD    ?= build
CC       ?= cc
PYTHON   ?= /usr/bin/python3
PKGS      = libevent libevent_openssl libevent_pthreads openssl sqlite3 libsodium zlib libunbound jansson libidn2 libpsl expat libqrencode
WARN      = -Wall -Wextra -Werror -Wformat=2 -Wshadow -Wstrict-prototypes \
            -Wmissing-prototypes -Wpointer-arith -Wcast-qual -Wsign-compare \
            -Wimplicit-fallthrough -Wvla
OPT      ?= -O2 -g
SAN      ?=
CFLAGS_ALL = -std=c17 -D_GNU_SOURCE $(OPT) $(SAN) $(WARN) -Isrc -pthread \
             $(shell pkg-config --cflags $(PKGS) 2>/dev/null) $(CFLAGS)
LIBS      = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lm -pthread
TESTLIBS  = $(shell pkg-config --libs cmocka 2>/dev/null)
FUZZ_SECONDS ?= 60

SUBSYS   = core net dns mime msgauth filter smtp store auth pop3 imap queue http admin autoconf
LIB_SRC  = $(foreach d,$(SUBSYS),$(wildcard src/$(d)/*.c))
LIB_OBJ  = $(LIB_SRC:%.c=$(BUILD)/%.o)
DAEMON_SRC = $(wildcard src/daemon/*.c)
CLI_SRC  = $(wildcard src/cli/*.c)
UNIT_SRC = $(wildcard tests/unit/*/test_*.c)
UNIT_BIN = $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
FUZZ_SRC = $(wildcard tests/fuzz/fuzz_*.c)
# Test drivers (tests/tools/*.c), built into build/tests/, never installed.
TOOL_SRC = $(wildcard tests/tools/*.c)
TOOL_BIN = $(TOOL_SRC:tests/tools/%.c=$(BUILD)/tests/tools/%)
FUZZ    ?= $(FUZZ_SRC:tests/fuzz/%.c=%)

DEPS_STAMP = $(BUILD)/.deps-ok

.PHONY: all run test test-asan unit integration fuzz bench clean deps
all: $(BUILD)/petreld $(BUILD)/petrelctl $(TOOL_BIN)

deps: $(DEPS_STAMP)
$(DEPS_STAMP): scripts/install-deps
	@scripts/install-deps
	@mkdir -p $(@D) && touch $@

$(BUILD)/%.o: %.c | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_ALL) -MMD -MP -c $< -o $@

$(BUILD)/libpetrel.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/petreld: $(DAEMON_SRC:%.c=$(BUILD)/%.o) $(BUILD)/libpetrel.a
	$(CC) $(OPT) $(SAN) -o $@ $^ $(LIBS)

$(BUILD)/petrelctl: $(CLI_SRC:%.c=$(BUILD)/%.o) $(BUILD)/libpetrel.a
	$(CC) $(OPT) $(SAN) -o $@ $^ $(LIBS)

$(BUILD)/tests/%: $(BUILD)/tests/unit/%.o $(BUILD)/libpetrel.a
	@mkdir -p $(@D)
	$(CC) $(OPT) $(SAN) -o $@ $^ $(TESTLIBS) $(LIBS)

$(BUILD)/tests/tools/%: $(BUILD)/tests/tools/%.o $(BUILD)/libpetrel.a
	$(CC) $(OPT) $(SAN) -o $@ $^ $(LIBS)

run: all
	./$(BUILD)/petreld $(ARGS)

unit: $(UNIT_BIN)
	@set -e; for t in $(UNIT_BIN); do echo "== $$t"; $$t; done

integration: all
	PETREL_BUILD=$(BUILD) $(PYTHON) -m pytest -q tests/integration

test: all unit integration

test-asan:
	$(MAKE) BUILD=build-asan OPT="-O1 -g -fno-omit-frame-pointer" \
	  SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined" test

# libFuzzer needs clang; each target links the library sources it tests.
FUZZ_CC  ?= clang-14
FUZZ_DIR  = build-fuzz
fuzz:
	@scripts/install-deps fuzz
	@set -e; mkdir -p $(FUZZ_DIR); for n in $(FUZZ); do \
	  f=tests/fuzz/$$n.c; \
	  $(FUZZ_CC) -std=c17 -D_GNU_SOURCE -g -O1 -Isrc -fsanitize=fuzzer,address,undefined \
	    -fno-sanitize-recover=undefined \
	    $$f $(LIB_SRC) -o $(FUZZ_DIR)/$$n $(LIBS); \
	  mkdir -p $(FUZZ_DIR)/corpus-$$n; \
	  seeds=tests/fuzz/corpus/$$n; [ -d $$seeds ] || seeds=; \
	  dict=tests/fuzz/$$n.dict; [ -f $$dict ] && dict=-dict=$$dict || dict=; \
	  echo "== $$n ($(FUZZ_SECONDS)s)"; \
	  $(FUZZ_DIR)/$$n -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -timeout=60 $$dict \
	    $(FUZZ_DIR)/corpus-$$n $$seeds; \
	done

bench: all
	@scripts/install-deps bench
	bench/smtp-inbound && bench/pop3-retr && bench/imap-ops && bench/imap-idle && bench/tls-handshake && bench/outbound && bench/msgauth

.PHONY: bench-filter
bench-filter: all
	@scripts/install-deps bench
	bench/filter/accuracy && bench/filter/speed

clean:
	rm -rf build build-asan build-fuzz

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
