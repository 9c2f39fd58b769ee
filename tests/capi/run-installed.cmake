# CTest driver for the C API test against the INSTALLED package (cmake -P; see
# tests/CMakeLists.txt for the variables): install the library components of the build to a
# prefix inside the build directory, check what was installed, build tests/capi/consumer/ (C
# and C++) and tests/capi/consumer-c/ (C only) from that prefix alone, and run their programs;
# then link C programs by hand the way docs/LIBGGUFTK.md tells pkg-config users to; and check that
# a C, a C++, a Rust and a Python program dequantize the fixture bit-exactly through what was
# installed.
cmake_minimum_required(VERSION 3.24)

include(${CMAKE_CURRENT_LIST_DIR}/../run_process.cmake)

set(prefix ${WORK}/prefix)
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK}/tmp)
run(${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${prefix} --component gguftk)
run(${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${prefix} --component gguftk-dev)

# What an engine gets: the versioned library, the archive, one header, the package files.
file(GLOB_RECURSE installed RELATIVE ${prefix} ${prefix}/*)
list(SORT installed)
string(REPLACE ";" "\n  " listing "${installed}")
message(STATUS "installed:\n  ${listing}")
set(expected include/gguftk/gguftk.h ${LIBDIR}/libgguftk.a ${LIBDIR}/libgguftk.so ${LIBDIR}/libgguftk.so.${ABI_VERSION}
    ${LIBDIR}/libgguftk.so.${VERSION} ${LIBDIR}/pkgconfig/gguftk.pc ${LIBDIR}/pkgconfig/gguftk-cuda.pc
    ${LIBDIR}/cmake/gguftk/gguftkConfig.cmake
    ${LIBDIR}/cmake/gguftk/gguftkConfigVersion.cmake)
foreach(f ${expected})
  if(NOT f IN_LIST installed)
    message(FATAL_ERROR "not installed: ${f}")
  endif()
endforeach()
file(GLOB headers ${prefix}/include/*/* ${prefix}/include/*)
list(LENGTH headers n_headers)
if(NOT n_headers EQUAL 2)  # include/gguftk and include/gguftk/gguftk.h
  message(FATAL_ERROR "headers other than gguftk.h were installed: ${headers}")
endif()

# The soname carries the ABI version, and only the C API is exported.
run(${OBJDUMP} -p ${prefix}/${LIBDIR}/libgguftk.so.${VERSION})
if(NOT run_output MATCHES "SONAME +libgguftk\\.so\\.${ABI_VERSION}\n")
  message(FATAL_ERROR "soname is not libgguftk.so.${ABI_VERSION}:\n${run_output}")
endif()
run(${NM} -D --defined-only ${prefix}/${LIBDIR}/libgguftk.so.${VERSION})
string(REGEX MATCHALL "[^\n]+" symbols "${run_output}")
set(n_api 0)
foreach(line ${symbols})
  if(line MATCHES " T gguftk_")
    math(EXPR n_api "${n_api} + 1")
  elseif(NOT line MATCHES " A ")  # the version node
    message(FATAL_ERROR "libgguftk.so exports something besides the C API: ${line}")
  endif()
endforeach()
message(STATUS "libgguftk.so exports ${n_api} gguftk_* functions and nothing else")

run(${CMAKE_COMMAND} -S ${SOURCE_DIR}/tests/capi/consumer -B ${WORK}/consumer -G ${GENERATOR}
    -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH=${prefix} -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF
    -DCMAKE_C_COMPILER=${C_COMPILER} -DCMAKE_CXX_COMPILER=${CXX_COMPILER}
    "-DCMAKE_C_FLAGS=${C_FLAGS}" "-DCMAKE_CXX_FLAGS=${CXX_FLAGS}" "-DCMAKE_EXE_LINKER_FLAGS=${EXE_LINKER_FLAGS}"
    -DTEST_SOURCE=${SOURCE_DIR}/tests/capi/test_capi.c
    -DEXAMPLE_SOURCE=${SOURCE_DIR}/examples/dequantize_on_load.c)
run(${CMAKE_COMMAND} --build ${WORK}/consumer)

foreach(variant shared static)
  run(${WORK}/consumer/test_capi_${variant} ${FIXTURES} ${CORPUS} ${WORK}/tmp)
  message(STATUS "test_capi_${variant}:\n${run_output}")
endforeach()
run(${WORK}/consumer/dequantize_on_load_pc ${FIXTURES}/all-types.gguf)
message(STATUS "dequantize_on_load (pkg-config build):\n${run_output}")

# ---- a C-only project through find_package ----
set(consumer_c_args -G ${GENERATOR} -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH=${prefix}
    -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF -DCMAKE_C_COMPILER=${C_COMPILER} "-DCMAKE_C_FLAGS=${C_FLAGS}"
    "-DCMAKE_EXE_LINKER_FLAGS=${EXE_LINKER_FLAGS}"
    -DTEST_SOURCE=${SOURCE_DIR}/tests/capi/test_capi.c -DEXAMPLE_SOURCE=${SOURCE_DIR}/examples/dequantize_on_load.c)
function(c_consumer name)
  run(${CMAKE_COMMAND} -S ${SOURCE_DIR}/tests/capi/consumer-c -B ${WORK}/${name} ${consumer_c_args} ${ARGN})
  run(${CMAKE_COMMAND} --build ${WORK}/${name})
  foreach(variant shared static)
    run(${WORK}/${name}/dequantize_on_load_${variant} ${FIXTURES}/all-types.gguf)
    message(STATUS "${name}: dequantize_on_load_${variant}:\n${run_output}")
  endforeach()
endfunction()
# The archive with the CUDA runtime (in a build without CUDA, the archive alone), the test with it.
c_consumer(consumer-c "-DEXTRA_COMPONENTS=cuda_static")
run(${WORK}/consumer-c/test_capi_cuda_static ${FIXTURES} ${CORPUS} ${WORK}/tmp)
message(STATUS "consumer-c: test_capi_cuda_static:\n${run_output}")
# The archive without the CUDA toolkit: a program that calls no gguftk_cuda_* function needs none.
c_consumer(consumer-c-no-cuda -DCMAKE_DISABLE_FIND_PACKAGE_CUDAToolkit=ON)

# A component that cannot be had makes find_package fail at configure time, saying why.
function(expect_not_found name why)
  execute_process(COMMAND ${CMAKE_COMMAND} -S ${SOURCE_DIR}/tests/capi/consumer-c -B ${WORK}/${name}
    ${consumer_c_args} ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  string(REGEX REPLACE "[ \n]+" " " flat "${out}")
  if(rc EQUAL 0 OR NOT flat MATCHES "Reason given by package: .*${why}")
    message(FATAL_ERROR "${name}: expected find_package(gguftk) to fail because ${why}; got (${rc}):\n${out}")
  endif()
endfunction()
expect_not_found(no-threads "Threads" -DCMAKE_DISABLE_FIND_PACKAGE_Threads=ON)
if(HAVE_CUDA)
  expect_not_found(no-cuda-toolkit "CUDA toolkit" -DCMAKE_DISABLE_FIND_PACKAGE_CUDAToolkit=ON
    "-DEXTRA_COMPONENTS=cuda_static")
endif()

# ---- C programs linked by hand through pkg-config ----
find_program(PKG_CONFIG pkg-config REQUIRED)
set(ENV{PKG_CONFIG_PATH} ${prefix}/${LIBDIR}/pkgconfig)
function(pkg_config out)
  run(${PKG_CONFIG} ${ARGN})
  string(STRIP "${run_output}" flags)
  separate_arguments(flags UNIX_COMMAND "${flags}")
  set(${out} ${flags} PARENT_SCOPE)
endfunction()
pkg_config(static_libs --static --libs gguftk)
if(static_libs MATCHES "cudart")
  message(FATAL_ERROR "pkg-config --static --libs gguftk asks for CUDA: ${static_libs}")
endif()
pkg_config(cflags --cflags gguftk)
pkg_config(libs --libs gguftk)
pkg_config(libdir --variable=libdir gguftk)
separate_arguments(c_flags UNIX_COMMAND "${C_FLAGS} ${EXE_LINKER_FLAGS}")
set(example ${SOURCE_DIR}/examples/dequantize_on_load.c)
# Shared, with the rpath docs/LIBGGUFTK.md gives (no LD_LIBRARY_PATH).
run(${C_COMPILER} ${c_flags} ${cflags} ${example} -o ${WORK}/pc_shared ${libs} -Wl,-rpath,${libdir})
run(${WORK}/pc_shared ${FIXTURES}/all-types.gguf)
message(STATUS "pc_shared:\n${run_output}")

# ---- every language through the installed artifacts, bit for bit ----
# The fixture's tensors as FP16, tensor after tensor, from a C program (the example, linked by hand
# through pkg-config above), a C++ program (the consumer project: find_package), the Rust example
# (GGUFTK_DIR) and a Python script (the module with GGUFTK_LIBRARY, the installed library), each
# compared byte for byte with ggml's reference values as gguf-py reads them.
set(model ${FIXTURES}/all-types.gguf)
run(${PYTHON} ${SOURCE_DIR}/tests/capi/reference_f16.py ${model} ${FIXTURES}/all-types.ref-f16.gguf
    ${WORK}/expected.f16)
function(expect_ggml_values who)
  execute_process(COMMAND ${CMAKE_COMMAND} -E compare_files ${WORK}/${who}.f16 ${WORK}/expected.f16
    RESULT_VARIABLE differ)
  if(NOT differ EQUAL 0)
    message(FATAL_ERROR "${who}: the FP16 values in ${WORK}/${who}.f16 are not ggml's (${WORK}/expected.f16)")
  endif()
  message(STATUS "${who}: every tensor's FP16 values are ggml's, bit for bit")
endfunction()
run(${WORK}/pc_shared ${model} ${WORK}/c-pkg-config.f16)
expect_ggml_values(c-pkg-config)
run(${WORK}/consumer/dequantize_all_cpp ${model} ${WORK}/cxx-find-package.f16)
expect_ggml_values(cxx-find-package)
# Neither cargo's test programs nor the Python interpreter carry the sanitizers' runtime.
if(C_FLAGS MATCHES "-fsanitize=")
  message(STATUS "sanitizers: no Rust or Python consumer")
else()
  if(CARGO)
    set(ENV{GGUFTK_DIR} ${prefix})
    set(ENV{CARGO_TARGET_DIR} ${WORK}/cargo-target)
    run(${CARGO} run --offline --quiet --manifest-path ${SOURCE_DIR}/bindings/rust/Cargo.toml
        --example dequantize_on_load ${model} ${WORK}/rust-example.f16)
    expect_ggml_values(rust-example)
  else()
    message(STATUS "no cargo: no Rust consumer")
  endif()
  set(ENV{GGUFTK_LIBRARY} ${prefix}/${LIBDIR}/libgguftk.so.${ABI_VERSION})
  set(ENV{PYTHONPATH} ${SOURCE_DIR}/python)
  run(${PYTHON} ${SOURCE_DIR}/tests/capi/dequantize_all.py ${model} ${WORK}/python.f16)
  expect_ggml_values(python)
endif()
# Static (-static: the sanitizers' runtimes cannot be linked so, hence not under them), with
# what the .pc files say the archive needs; the C test calls the gguftk_cuda_* functions, so
# the gguftk-cuda module adds the CUDA runtime.
if(C_FLAGS MATCHES "-fsanitize=")
  message(STATUS "sanitizers: no fully static programs")
  return()
endif()
run(${C_COMPILER} ${c_flags} -static ${cflags} ${example} -o ${WORK}/pc_static ${static_libs})
run(${WORK}/pc_static ${FIXTURES}/all-types.gguf)
message(STATUS "pc_static:\n${run_output}")
pkg_config(cuda_static_libs --static --libs gguftk-cuda)
pkg_config(cuda_cflags --cflags gguftk-cuda)
run(${C_COMPILER} ${c_flags} -static ${cuda_cflags} ${SOURCE_DIR}/tests/capi/test_capi.c -o ${WORK}/pc_cuda_static
    ${cuda_static_libs})
run(${WORK}/pc_cuda_static ${FIXTURES} ${CORPUS} ${WORK}/tmp)
message(STATUS "pc_cuda_static:\n${run_output}")
