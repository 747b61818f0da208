# Thin wrapper for the README's two commands. The real build is CMake (CMakeLists.txt).
#   make demo   install missing Debian packages, build, run the demo program
#   make test   install missing Debian packages, build, run every test, then the same tests again
#               in an ASan+UBSan build (make test-asan)
BUILD ?= build
ASAN_BUILD ?= build-asan
JOBS ?= 2
CMAKE_FLAGS ?=
ifneq ($(CI),)
CMAKE_FLAGS += -DWEFT_WERROR=ON
endif

.PHONY: all deps build demo test test-asan clean

all: build

deps:
	@scripts/deps.sh

build: deps
	cmake -S . -B $(BUILD) $(CMAKE_FLAGS)
	cmake --build $(BUILD) -j$(JOBS)

demo: build
	@scripts/demo.sh $(BUILD)

test: build
	cd $(BUILD) && ctest --output-on-failure -j$(JOBS)
	$(MAKE) test-asan

# The sanitizer configuration (DESIGN.md section 13): the unit, wat, spec, wasi and text tests
# (text.suite, the wabt cross-check, takes about a minute here) in a Debug build with
# -fsanitize=address,undefined and no recovery; any report fails its test.
test-asan: deps
	cmake -S . -B $(ASAN_BUILD) -DWEFT_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug $(CMAKE_FLAGS)
	cmake --build $(ASAN_BUILD) -j$(JOBS)
	cd $(ASAN_BUILD) && ctest --output-on-failure -j$(JOBS) -L '^(unit|wat|spec|wasi|text)$$'

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
