# CTest driver for the Rust crate against the INSTALLED library (cmake -P; see
# tests/CMakeLists.txt for the variables): install the library components to a prefix inside
# the build directory, then `cargo test` and the dequantize-on-load example with GGUFTK_DIR
# pointing there (bindings/rust/build.rs). Offline: the crate has no dependencies.
cmake_minimum_required(VERSION 3.24)

include(${CMAKE_CURRENT_LIST_DIR}/../run_process.cmake)

set(prefix ${WORK}/prefix)
file(REMOVE_RECURSE ${prefix})
run(${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${prefix} --component gguftk)
run(${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${prefix} --component gguftk-dev)

set(ENV{GGUFTK_DIR} ${prefix})
set(ENV{GGUFTK_FIXTURES} ${FIXTURES})
set(ENV{CARGO_TARGET_DIR} ${WORK}/target)
set(manifest ${SOURCE_DIR}/bindings/rust/Cargo.toml)
run(${CARGO} test --offline --manifest-path ${manifest})
message(STATUS "cargo test:\n${run_output}")
run(${CARGO} run --offline --quiet --manifest-path ${manifest} --example dequantize_on_load ${FIXTURES}/all-types.gguf)
message(STATUS "dequantize_on_load.rs:\n${run_output}")
