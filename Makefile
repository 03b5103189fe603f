# carbonledger: `make run` to start a daemon here, `make test` to run every test.
SWIFT   ?= swift
CONFIG  ?= config/carbonledger.toml
ORIGIN  ?= carbonledger.local/demo
KEY     ?= var/lib/carbonledger.key
PREFIX  ?= /usr/local
RELEASE := .build/release

.PHONY: deps postgres-deps build run test bench fuzz fuzz-smoke fuzz-build fuzz-http install clean

# Installs the system libraries that pkg-config cannot find (Debian names).
deps:
	@missing=""; \
	pkg-config --exists libsodium || missing="$$missing libsodium-dev"; \
	pkg-config --exists sqlite3   || missing="$$missing libsqlite3-dev"; \
	pkg-config --exists libcrypto || missing="$$missing libssl-dev"; \
	command -v curl    >/dev/null || missing="$$missing curl"; \
	command -v setpriv >/dev/null || missing="$$missing util-linux"; \
	command -v socat   >/dev/null || missing="$$missing socat"; \
	[ -e /usr/share/zoneinfo/Asia/Shanghai ] || missing="$$missing tzdata"; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

# The PostgreSQL server the store's tests start throwaway clusters of (initdb in a
# temporary folder); `make run` needs none of it. Debian's package would create and
# start a cluster of its own: createcluster.conf says not to, before it is installed.
postgres-deps:
	@if [ ! -x /usr/lib/postgresql/15/bin/initdb ]; then \
		echo "installing: postgresql-15"; \
		mkdir -p /etc/postgresql-common; \
		[ -e /etc/postgresql-common/createcluster.conf ] || \
			echo "create_main_cluster = false" > /etc/postgresql-common/createcluster.conf; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-15; \
	fi

build: deps
	$(SWIFT) build -c release --product carbonledgerd
	$(SWIFT) build -c release --product carbonctl

# First run creates the signing key; the daemon creates the database.
$(KEY):
	@mkdir -p $(dir $(KEY)) var/run
	$(RELEASE)/carbonctl keygen --origin $(ORIGIN) --out $(KEY)

run: build
	@$(MAKE) --no-print-directory $(KEY)
	$(RELEASE)/carbonledgerd --config $(CONFIG)

# schemathesis (PyPI), pinned, in a virtual environment of the project's own: it
# fuzzes the HTTP surface from the daemon's OpenAPI description (OpenAPITests).
SCHEMATHESIS := .build-venv/bin/schemathesis
$(SCHEMATHESIS):
	python3 -m venv .build-venv
	.build-venv/bin/pip install -q schemathesis==4.32.5

test: deps postgres-deps $(SCHEMATHESIS)
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

# The HTTP surface fuzzed longer than in `make test`: HTTP_FUZZ_EXAMPLES per operation
# and role (admin, consumer, planner, metrics).
HTTP_FUZZ_EXAMPLES ?= 300
fuzz-http: deps $(SCHEMATHESIS)
	$(SWIFT) build --build-tests
	CARBONLEDGER_HTTP_FUZZ_EXAMPLES=$(HTTP_FUZZ_EXAMPLES) $(SWIFT) test --skip-build --filter OpenAPITests/schemathesis

# Ingest end to end over the socket against the raw SQLite floor (and again with two
# witnesses cosigning every checkpoint, and into PostgreSQL beside its COPY floor), closing a month
# of 10,000 consumers, the read path (scores, proofs, emissions at 8 connections
# beside a bare Hummingbird floor, Tools/uload.c) and the offline audit of a
# million-entry ledger. The first run builds its databases under var/bench
# (several minutes) and keeps them. BENCH_FLAGS passes options to carbonbench
# (e.g. BENCH_FLAGS="--read-only --consumers 100000").
bench: deps postgres-deps
	$(SWIFT) build -c release --product carbonledgerd
	$(SWIFT) build -c release --product carbonctl
	$(SWIFT) build -c release --product carbonbench
	$(SWIFT) build -c release --product benchhello
	cc -O2 -pthread -o $(RELEASE)/uload Tools/uload.c
	$(RELEASE)/carbonbench --dir var/bench $(BENCH_FLAGS)

# libFuzzer over every parser of the pure modules (Fuzz/, its own package and scratch
# path): FUZZ_SECONDS per target, each from a fresh copy of Fuzz/Corpus/<target>/;
# crash inputs land in Fuzz/Crashes/<target>/. See docs/operations.md, "Fuzzing".
FUZZ_SECONDS ?= 60
FUZZ_BIN     := .build-fuzz/release

# libFuzzer ships with the Swift toolchain (libclang_rt.fuzzer); nothing else to install.
fuzz-build: deps
	@ls $$(dirname $$(dirname $$(readlink -f $$(command -v $(SWIFT)))))/lib/clang/*/lib/linux/libclang_rt.fuzzer-*.a >/dev/null 2>&1 || \
		{ echo "this Swift toolchain has no libFuzzer (libclang_rt.fuzzer); use a swift.org Linux toolchain"; exit 1; }
	cd Fuzz && $(SWIFT) build -c release --scratch-path ../.build-fuzz -Xswiftc -sanitize=fuzzer,address

# Then the HTTP surface, longer than in `make test` (fuzz-http).
fuzz: fuzz-build
	FUZZ_SECONDS=$(FUZZ_SECONDS) Fuzz/run.sh ../$(FUZZ_BIN) $(FUZZ_TARGETS)
	$(MAKE) --no-print-directory fuzz-http

# A few seconds a target: the harnesses still build and run. Not part of `make test`.
fuzz-smoke: fuzz-build
	FUZZ_SECONDS=5 Fuzz/run.sh ../$(FUZZ_BIN) $(FUZZ_TARGETS)

# Binaries, units, sysusers/tmpfiles, the system config and the factor data, in
# the places the shipped units name (PREFIX=/usr/local). DESTDIR stages a package.
install: build
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/etc/carbonledger \
		$(DESTDIR)$(PREFIX)/share/carbonledger/factors $(DESTDIR)/etc/systemd/system \
		$(DESTDIR)/usr/lib/sysusers.d $(DESTDIR)/usr/lib/tmpfiles.d
	install -m 0755 $(RELEASE)/carbonledgerd $(RELEASE)/carbonctl $(DESTDIR)$(PREFIX)/bin/
	install -m 0644 config/factors/*.csv $(DESTDIR)$(PREFIX)/share/carbonledger/factors/
	install -m 0644 systemd/carbonledgerd.service systemd/carbonledgerd.socket $(DESTDIR)/etc/systemd/system/
	install -m 0644 systemd/carbonledger.sysusers.conf $(DESTDIR)/usr/lib/sysusers.d/carbonledger.conf
	install -m 0644 systemd/carbonledger.tmpfiles.conf $(DESTDIR)/usr/lib/tmpfiles.d/carbonledger.conf
	@# An operator's edited config is never overwritten.
	test -e $(DESTDIR)$(PREFIX)/etc/carbonledger/carbonledger.toml || \
		install -m 0644 config/carbonledger.system.toml $(DESTDIR)$(PREFIX)/etc/carbonledger/carbonledger.toml

clean:
	rm -rf .build .build-fuzz .build-venv var
