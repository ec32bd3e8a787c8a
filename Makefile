# weightsync - build, test, install.  See README.md.
#
#   make            build ./weightsync (installs missing Debian packages first)
#   make test       unit, CLI and swarm tests (TAP, through prove)
#   make demo       the local demo
#   make asan       build and test with AddressSanitizer + UBSan in build-asan/
#   make fuzz       libFuzzer harnesses (fuzz/, clang) in build-fuzz/, each run
#                   FUZZ_SECONDS (60); make fuzz-replay runs the corpora once;
#                   make fuzz-corpus regenerates the seeds
#   make soak       crash campaigns (scripts/soak.sh, SOAK_ROUNDS)
#   make bench      benchmarks (bench/), several GiB of temporary data
#   make install    PREFIX=/usr/local DESTDIR=
#   make deps       install the Debian packages the project needs

CC       ?= cc
CXX      ?= c++
PREFIX   ?= /usr/local
BINDIR   ?= $(PREFIX)/bin
DESTDIR  ?=
BUILD    ?= build
OPT      ?= -O2 -g
SAN      ?=

PKGS     := libsodium lmdb libarchive jansson libcrypto libmicrohttpd libcurl
LT_PKG   := libtorrent-rasterbar

CFLAGS   ?= $(OPT)
CXXFLAGS ?= $(OPT)
WARN     := -Wall -Wextra -Wshadow -Wno-unused-parameter
ALL_CFLAGS   = -std=c11 -D_GNU_SOURCE -I. $(WARN) $(SAN) -MMD -MP \
	       $(shell pkg-config --cflags $(PKGS) 2>/dev/null) $(CFLAGS)
ALL_CXXFLAGS = -std=c++17 -I. -Wall -Wextra $(SAN) -MMD -MP \
	       $(shell pkg-config --cflags $(LT_PKG) 2>/dev/null) $(CXXFLAGS)
LIBS     = $(shell pkg-config --libs $(PKGS) $(LT_PKG) 2>/dev/null) \
	   -lssl -lcrypto -lstdc++ -lpthread -lm

LIB_C    := $(wildcard proto/*.c store/*.c node/*.c)
LIB_CXX  := $(wildcard node/*.cpp)
CLI_C    := $(wildcard cli/*.c)
UNIT_C   := $(wildcard tests/unit/test_*.c)
FUZZ_C   := $(wildcard fuzz/fuzz_*.c)

LIB_OBJ  := $(LIB_C:%.c=$(BUILD)/%.o) $(LIB_CXX:%.cpp=$(BUILD)/%.o)
CLI_OBJ  := $(CLI_C:%.c=$(BUILD)/%.o)
UNIT_BIN := $(UNIT_C:%.c=$(BUILD)/%)
FUZZ_BIN := $(FUZZ_C:%.c=$(BUILD)/%)
LIBWS    := $(BUILD)/libweightsync.a

DEB_PACKAGES := build-essential pkg-config libtorrent-rasterbar-dev \
	libsodium-dev liblmdb-dev libarchive-dev libjansson-dev libssl-dev \
	libmicrohttpd-dev libcurl4-openssl-dev \
	minisign zstd perl python3 python3-libtorrent lmdb-utils strace curl

.PHONY: all deps test unit-test cli-test swarm-test run-tests demo asan bench \
	fuzz fuzz-build fuzz-replay fuzz-corpus soak install uninstall clean
# keep the unit tests' and fuzzers' objects: they are intermediate files to
# make.  Only those: a bare .SECONDARY makes every target intermediate, and
# then a copied ./weightsync stood for a $(BUILD)/weightsync never built.
.SECONDARY: $(UNIT_BIN:=.o) $(FUZZ_BIN:=.o) $(BUILD)/fuzz/corpus.o

all: $(BUILD)/.deps-ok weightsync

# Install missing packages once per build directory; `make deps` forces it.
$(BUILD)/.deps-ok:
	@./scripts/deps.sh $(DEB_PACKAGES)
	@mkdir -p $(BUILD) && touch $@

deps:
	@./scripts/deps.sh $(DEB_PACKAGES)

weightsync: $(BUILD)/weightsync
	cp $< $@

$(BUILD)/weightsync: $(CLI_OBJ) $(LIBWS)
	$(CC) $(SAN) -o $@ $(CLI_OBJ) $(LIBWS) $(LIBS)

$(LIBWS): $(LIB_OBJ)
	rm -f $@
	ar rcs $@ $^

$(BUILD)/%.o: %.c | $(BUILD)/.deps-ok
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/%.o: %.cpp | $(BUILD)/.deps-ok
	@mkdir -p $(dir $@)
	$(CXX) $(ALL_CXXFLAGS) -c $< -o $@

$(BUILD)/tests/unit/%: $(BUILD)/tests/unit/%.o $(LIBWS)
	$(CC) $(SAN) -o $@ $< $(LIBWS) $(LIBS)

# an LD_PRELOAD helper of the swarm tests (tests/unit/slow_write.c);
# never sanitized: it is loaded ahead of an ASan binary's runtime
$(BUILD)/tests/unit/slow_write.so: tests/unit/slow_write.c | $(BUILD)/.deps-ok
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -Wall -Wextra -O2 -shared -fPIC -o $@ $< -ldl

# The tests run $(BUILD)/weightsync, so they depend on it by name, not
# through the copied ./weightsync (which may come from another build).
TEST_DEPS := $(BUILD)/.deps-ok $(BUILD)/weightsync $(UNIT_BIN) \
	     $(BUILD)/tests/unit/slow_write.so
RUN_TESTS  = WS_BIN=$(CURDIR)/$(BUILD)/weightsync \
	     WS_UNIT_DIR=$(CURDIR)/$(BUILD)/tests/unit ./tests/run

test: all $(TEST_DEPS)
	$(RUN_TESTS)

unit-test cli-test swarm-test: all $(TEST_DEPS)
	$(RUN_TESTS) $(@:-test=)

# the tests of whatever $(BUILD) is, without touching ./weightsync
run-tests: $(TEST_DEPS)
	$(RUN_TESTS)

demo: all
	WS_BIN=$(CURDIR)/$(BUILD)/weightsync ./scripts/demo.sh

asan:
	$(MAKE) BUILD=build-asan OPT="-O1 -g -fno-omit-frame-pointer" \
		SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined" \
		run-tests

# Fuzzing: the library and harnesses built with clang's libFuzzer in
# build-fuzz/ (fuzz/README.md).  fuzz-build is the inner step.
FUZZ_CC      ?= clang
FUZZ_CXX     ?= clang++
FUZZ_SECONDS ?= 60
FUZZ_PACKAGES := clang libclang-rt-14-dev
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=undefined

fuzz-build: $(FUZZ_BIN) $(BUILD)/fuzz/corpus

# linked by $(CXX): clang's UBSan needs its C++ runtime for the shim
$(BUILD)/fuzz/fuzz_%: $(BUILD)/fuzz/fuzz_%.o $(LIBWS)
	$(CXX) $(SAN) -fsanitize=fuzzer -o $@ $< $(LIBWS) $(LIBS)

# the seed generator (fuzz/make-corpus.sh) is an ordinary program
$(BUILD)/fuzz/corpus: $(BUILD)/fuzz/corpus.o $(LIBWS)
	$(CXX) $(SAN) -o $@ $< $(LIBWS) $(LIBS)

FUZZ_MAKE = $(MAKE) BUILD=build-fuzz CC=$(FUZZ_CC) CXX=$(FUZZ_CXX) \
	OPT="-O1 -g -fno-omit-frame-pointer" \
	SAN="-fsanitize=fuzzer-no-link $(FUZZ_SAN)" fuzz-build

fuzz:
	@./scripts/deps.sh $(FUZZ_PACKAGES)
	$(FUZZ_MAKE)
	FUZZ_SECONDS=$(FUZZ_SECONDS) ./fuzz/run build-fuzz/fuzz

fuzz-replay:
	@./scripts/deps.sh $(FUZZ_PACKAGES)
	$(FUZZ_MAKE)
	./fuzz/run -replay build-fuzz/fuzz

# regenerate the committed seeds (fuzz/corpus/) from fuzz/fixture.h
fuzz-corpus:
	@./scripts/deps.sh $(FUZZ_PACKAGES)
	$(FUZZ_MAKE)
	./fuzz/make-corpus.sh build-fuzz/fuzz/corpus

soak: all
	WS_BIN=$(CURDIR)/$(BUILD)/weightsync ./scripts/soak.sh

BENCH_PACKAGES := curl nginx aria2 opentracker time busybox qbittorrent-nox eatmydata

bench: all
	@./scripts/deps.sh $(BENCH_PACKAGES)
	WS_BIN=$(CURDIR)/$(BUILD)/weightsync ./bench/run

install: all
	install -d $(DESTDIR)$(BINDIR)
	install -m 0755 $(BUILD)/weightsync $(DESTDIR)$(BINDIR)/weightsync

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/weightsync

clean:
	rm -rf build build-asan build-fuzz weightsync

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(UNIT_BIN:=.d) $(FUZZ_BIN:=.d) \
	$(BUILD)/fuzz/corpus.d
