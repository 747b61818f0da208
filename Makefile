# Thin wrapper for the README's two commands. The real build is CMake (CMakeLists.txt).
#   make demo   install missing Debian packages, build, run the demo program
#   make test   install missing Debian packages, build, run every test
BUILD ?= build
JOBS ?= 2
CMAKE_FLAGS ?=
ifneq ($(CI),)
CMAKE_FLAGS += -DWEFT_WERROR=ON
endif

.PHONY: all deps build demo test clean

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

clean:
	rm -rf $(BUILD)
