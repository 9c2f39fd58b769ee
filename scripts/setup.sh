#!/usr/bin/env bash
# Installs everything gguftk needs, then configures and builds it into build/.
# The single place that installs: CI and new users run exactly this, as root or as a user who
# may sudo (apt-get is then run through sudo).
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

if command -v apt-get >/dev/null 2>&1; then
  $SUDO apt-get update
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends \
    build-essential cmake ninja-build pkg-config python3 python3-pip python3-venv \
    libcli11-dev libfmt-dev doctest-dev nlohmann-json3-dev libcurl4-openssl-dev \
    clang llvm libclang-rt-14-dev
  # The Rust crate's tests (bindings/rust): Debian's toolchain, unless one is there already.
  if ! command -v cargo >/dev/null 2>&1; then
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends cargo
  fi
fi

# Cross-check packages for the tests (gguf-py, NumPy, safetensors, a CommonMark renderer for the
# Markdown views), the CLI test runner, and cuobjdump with the nvdisasm it calls, for
# scripts/kernel-cost (the CUDA toolkit's compiler packages leave them out).
python3 -m pip install --quiet --disable-pip-version-check gguf numpy safetensors markdown-it-py pytest \
  nvidia-cuda-cuobjdump nvidia-cuda-nvdisasm
# llama.cpp's own loader, for the test that loads gguf-dequant's output (PyPI has only its
# source: a CPU-only build of a few minutes, skipped once installed).
CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_CUDA=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=OFF" \
  CMAKE_BUILD_PARALLEL_LEVEL="$(nproc)" \
  python3 -m pip install --quiet --disable-pip-version-check llama-cpp-python==0.3.36

generator=()
if command -v ninja >/dev/null 2>&1; then generator=(-G Ninja); fi
cmake -S . -B build "${generator[@]}" -DCMAKE_BUILD_TYPE=Release
cmake --build build --parallel "$(nproc)"
