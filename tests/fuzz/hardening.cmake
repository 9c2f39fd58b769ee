# Hardening pieces, included from tests/CMakeLists.txt:
#  - libFuzzer targets bin/fuzz-<name> from tests/fuzz/fuzz_<name>.cpp (GGUFTK_FUZZ=ON, clang only),
#    each also a CTest test that replays its seed corpus tests/corpus/<name>/ once;
#  - the allocation guard the crafted-file suite preloads into the binaries (non-ASan builds);
#  - the write fault injector the output-safety tests preload into gguf-dequant.
# The `asan` preset in CMakePresets.json turns GGUFTK_FUZZ on and builds everything with ASan+UBSan.
option(GGUFTK_FUZZ "Build the libFuzzer targets (needs clang)" OFF)

set(GGUFTK_CORPUS_DIR ${CMAKE_CURRENT_SOURCE_DIR}/corpus)
string(FIND "${CMAKE_CXX_FLAGS}" "-fsanitize=address" _gguftk_asan_at)

if(GGUFTK_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    message(WARNING "GGUFTK_FUZZ needs clang (libFuzzer); the fuzz targets are not built")
  else()
    # Coverage feedback for libFuzzer in the code under test, not only in the target files.
    foreach(lib gguftk gguftk_views gguftk_app_common gguftk_capi_obj)
      if(TARGET ${lib})
        target_compile_options(${lib} PRIVATE -fsanitize=fuzzer-no-link)
      endif()
    endforeach()
    file(GLOB GGUFTK_FUZZ_TARGETS CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz_*.cpp)
    foreach(src ${GGUFTK_FUZZ_TARGETS})
      get_filename_component(stem ${src} NAME_WE)
      string(REGEX REPLACE "^fuzz_" "" name ${stem})
      add_executable(fuzz-${name} ${src})
      target_link_libraries(fuzz-${name} PRIVATE gguftk_internal gguftk_app_common)
      target_include_directories(fuzz-${name} PRIVATE ${PROJECT_SOURCE_DIR}/apps)
      if(name STREQUAL "capi")
        # libgguftk's own objects, linked in as an engine links libgguftk.a.
        target_link_libraries(fuzz-${name} PRIVATE gguftk_capi_obj)
      endif()
      target_compile_options(fuzz-${name} PRIVATE -fsanitize=fuzzer)
      target_link_options(fuzz-${name} PRIVATE -fsanitize=fuzzer)
      # -runs=0: run every corpus file (seeds and past crashes) once, then stop.
      add_test(NAME fuzz_${name}_corpus COMMAND fuzz-${name} -runs=0 ${GGUFTK_CORPUS_DIR}/${name})
      set_tests_properties(fuzz_${name}_corpus PROPERTIES LABELS fuzz)
    endforeach()
  endif()
endif()

# The allocation guard: aborts a process that asks for one block larger than GGUFTK_ALLOC_LIMIT.
# Under ASan the sanitizer's own allocator does this (max_allocation_size_mb), and a second
# malloc would not load; the crafted suite tells the two builds apart by the binaries themselves.
if(_gguftk_asan_at EQUAL -1 AND NOT WIN32)
  add_library(gguftk_alloc_guard SHARED ${CMAKE_CURRENT_SOURCE_DIR}/crafted/alloc_guard.c)
  set_target_properties(gguftk_alloc_guard PROPERTIES C_VISIBILITY_PRESET default)
  if(TEST cli_test_crafted)
    set_property(TEST cli_test_crafted APPEND PROPERTY ENVIRONMENT
      "GGUFTK_ALLOC_GUARD=$<TARGET_FILE:gguftk_alloc_guard>")
  endif()
endif()

# The write fault injector: GGUFTK_WRITE_BUDGET=N lets the output's positional writes write N
# bytes in all, then fails them with ENOSPC (the failure in the middle of writing).
if(NOT WIN32)
  add_library(gguftk_write_fault SHARED ${CMAKE_CURRENT_SOURCE_DIR}/crafted/write_fault.c)
  set_target_properties(gguftk_write_fault PROPERTIES C_VISIBILITY_PRESET default)
  target_link_libraries(gguftk_write_fault PRIVATE ${CMAKE_DL_LIBS})
  # Built without the sanitizers even in the asan preset: a preloaded library must not need them.
  target_compile_options(gguftk_write_fault PRIVATE -fno-sanitize=all)
  target_link_options(gguftk_write_fault PRIVATE -fno-sanitize=all)
  if(TEST cli_test_output_safety)
    set_property(TEST cli_test_output_safety APPEND PROPERTY ENVIRONMENT
      "GGUFTK_WRITE_FAULT=$<TARGET_FILE:gguftk_write_fault>")
  endif()
endif()
