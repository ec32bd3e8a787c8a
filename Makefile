# weightsync - build, test, install.  See README.md.
#
#   make            build ./weightsync (installs missing Debian packages first)
#   make test       unit, CLI and swarm tests (TAP, through prove)
#   make demo       the local demo
#   make asan       build and test with AddressSanitizer + UBSan in build-asan/
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

PKGS     := libsodium lmdb libarchive jansson libcrypto
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

LIB_OBJ  := $(LIB_C:%.c=$(BUILD)/%.o) $(LIB_CXX:%.cpp=$(BUILD)/%.o)
CLI_OBJ  := $(CLI_C:%.c=$(BUILD)/%.o)
UNIT_BIN := $(UNIT_C:%.c=$(BUILD)/%)
LIBWS    := $(BUILD)/libweightsync.a

DEB_PACKAGES := build-essential pkg-config libtorrent-rasterbar-dev \
	libsodium-dev liblmdb-dev libarchive-dev libjansson-dev libssl-dev \
	minisign zstd perl python3 python3-libtorrent lmdb-utils strace

.PHONY: all deps test unit-test cli-test swarm-test demo asan bench install uninstall clean
# keep the unit tests' objects: they are intermediate files to make
.SECONDARY:

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

test: all $(UNIT_BIN)
	WS_BIN=$(CURDIR)/$(BUILD)/weightsync WS_UNIT_DIR=$(CURDIR)/$(BUILD)/tests/unit \
		./tests/run

unit-test cli-test swarm-test: all $(UNIT_BIN)
	WS_BIN=$(CURDIR)/$(BUILD)/weightsync WS_UNIT_DIR=$(CURDIR)/$(BUILD)/tests/unit \
		./tests/run $(@:-test=)

demo: all
	WS_BIN=$(CURDIR)/$(BUILD)/weightsync ./scripts/demo.sh

asan:
	$(MAKE) BUILD=build-asan OPT="-O1 -g -fno-omit-frame-pointer" \
		SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined" \
		WS_ASAN=1 test

BENCH_PACKAGES := curl nginx aria2 opentracker time busybox

bench: all
	@./scripts/deps.sh $(BENCH_PACKAGES)
	WS_BIN=$(CURDIR)/$(BUILD)/weightsync ./bench/run

install: all
	install -d $(DESTDIR)$(BINDIR)
	install -m 0755 $(BUILD)/weightsync $(DESTDIR)$(BINDIR)/weightsync

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/weightsync

clean:
	rm -rf build build-asan weightsync

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(UNIT_BIN:=.d)
