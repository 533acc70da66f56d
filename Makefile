# nbaprops: the two commands of the quick start are `make demo` and `make test`.
# Both install missing Debian packages (scripts/setup.sh), configure with CMake + Ninja, build.

BUILD      ?= build
BUILD_ASAN ?= build-asan
BUILD_FUZZ ?= build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?=
JOBS       ?= $(shell nproc)
CMAKE_ARGS ?=
DB         ?= nbaprops.db

.PHONY: all setup build demo test test-asan test-slow fuzz bench deb install format tidy clean

all: build

setup:
	@scripts/setup.sh

$(BUILD)/build.ninja:
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_ARGS)

build: setup $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS)

# Runs the main job on the embedded default: a fresh SQLite file with the bundled 2023-24 season.
demo: build
	rm -f $(DB) $(DB)-wal $(DB)-shm
	$(BUILD)/nbaprops demo --db $(DB)

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) -LE slow

# The long suites (label `slow`): the HTTP fuzz with 100,000 requests.
test-slow: build
	cd $(BUILD) && ctest --output-on-failure -L slow

# Same tests under AddressSanitizer + UndefinedBehaviorSanitizer.
test-asan: setup
	cmake -S . -B $(BUILD_ASAN) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DNBAPROPS_SANITIZE=ON -DNBAPROPS_BUILD_BENCH=OFF
	cmake --build $(BUILD_ASAN) -j $(JOBS)
	cd $(BUILD_ASAN) && ctest --output-on-failure -j $(JOBS)

# libFuzzer (clang-14) over every parser: FUZZ_SECONDS per target, one target at a time, one
# worker; prints a summary and fails if any target crashed (fuzz/README.md). FUZZ_TARGETS="a b"
# runs only those. `make test` replays the corpus and regression inputs without libFuzzer.
fuzz: setup
	CC=clang-14 CXX=clang++-14 cmake -S . -B $(BUILD_FUZZ) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DNBAPROPS_FUZZ=ON -DNBAPROPS_BUILD_TESTS=OFF -DNBAPROPS_BUILD_BENCH=OFF
	cmake --build $(BUILD_FUZZ) -j $(JOBS) --target nbaprops_fuzzers
	scripts/run_fuzzers.sh $(BUILD_FUZZ) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# The Debian package (deploy/CMakeLists.txt): $(BUILD)/nbaprops_<version>_amd64.deb with the binary,
# /etc/nbaprops/nbaprops.toml, the systemd units, the Prometheus rules and the Grafana dashboard.
deb: build
	cd $(BUILD) && cpack -G DEB
	@ls $(BUILD)/nbaprops_*.deb

# Installs the same files without a package (prefix /usr unless CMAKE_ARGS gives another).
install: build
	cmake --install $(BUILD)

bench: build
	$(BUILD)/bench/season_bench --benchmark_min_time=1
	$(BUILD)/bench/queue_bench
	$(BUILD)/bench/model_bench
	bench/daily_cache_peer.sh
	bench/http_bench.sh
	bench/pg_queue_bench.sh $(BUILD)

format:
	clang-format -i $$(git ls-files '*.cc' '*.h')

tidy: build
	clang-tidy -p $(BUILD) $$(git ls-files '*.cc' | grep -v _test.cc)

clean:
	rm -rf $(BUILD) $(BUILD_ASAN) $(BUILD_FUZZ)
