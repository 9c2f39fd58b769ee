# CTest driver for the C API test against the INSTALLED package (cmake -P; see
# tests/CMakeLists.txt for the variables): install the library components of the build to a
# prefix inside the build directory, check what was installed, build tests/capi/consumer/ from
# that prefix alone, and run its programs.
cmake_minimum_required(VERSION 3.24)

function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT rc EQUAL 0)
    string(REPLACE ";" " " cmd "${ARGN}")
    message(FATAL_ERROR "${cmd}\nfailed (${rc}):\n${out}")
  endif()
  set(run_output "${out}" PARENT_SCOPE)
endfunction()

set(prefix ${WORK}/prefix)
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK}/tmp)
run(${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${prefix} --component gguftk)
run(${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${prefix} --component gguftk-dev)

# What an engine gets: the versioned library, the archive, one header, the two package files.
file(GLOB_RECURSE installed RELATIVE ${prefix} ${prefix}/*)
list(SORT installed)
string(REPLACE ";" "\n  " listing "${installed}")
message(STATUS "installed:\n  ${listing}")
set(expected include/gguftk/gguftk.h ${LIBDIR}/libgguftk.a ${LIBDIR}/libgguftk.so ${LIBDIR}/libgguftk.so.${ABI_VERSION}
    ${LIBDIR}/libgguftk.so.${VERSION} ${LIBDIR}/pkgconfig/gguftk.pc ${LIBDIR}/cmake/gguftk/gguftkConfig.cmake
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
