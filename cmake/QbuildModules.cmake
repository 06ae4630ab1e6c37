# qb_add_module(NAME <lib> [TORCH] DEPS <targets...>)
#   One static library per source folder: every *.cc in the calling folder.
#   TORCH marks a library that includes libtorch (it shares one precompiled header).
# qb_add_test(NAME <exe> DEPS <targets...> [LABELS <labels...>] [RESOURCE_LOCK <name>])
#   One GoogleTest executable per test folder: every *_test.cc in the calling folder.
set(QB_WARNINGS -Wall -Wextra -Wno-unused-parameter)

function(qb_add_module)
  cmake_parse_arguments(M "TORCH" "NAME" "DEPS" ${ARGN})
  file(GLOB srcs CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.cc)
  if(NOT srcs)  # a folder with headers only (or not started yet)
    add_library(${M_NAME} INTERFACE)
    target_include_directories(${M_NAME} INTERFACE ${PROJECT_SOURCE_DIR}/src)
    target_link_libraries(${M_NAME} INTERFACE ${M_DEPS})
    if(M_TORCH)
      target_link_libraries(${M_NAME} INTERFACE qb::torch)
    endif()
    return()
  endif()
  add_library(${M_NAME} STATIC ${srcs})
  target_include_directories(${M_NAME} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(${M_NAME} PUBLIC ${M_DEPS})
  target_compile_options(${M_NAME} PRIVATE ${QB_WARNINGS})
  if(M_TORCH)
    target_link_libraries(${M_NAME} PUBLIC qb::torch)
    if(TARGET qbuild_torch_pch)
      target_precompile_headers(${M_NAME} REUSE_FROM qbuild_torch_pch)
    endif()
  endif()
endfunction()

function(qb_add_test)
  cmake_parse_arguments(T "" "NAME;RESOURCE_LOCK" "DEPS;LABELS" ${ARGN})
  file(GLOB srcs CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*_test.cc)
  if(NOT srcs)  # a suite folder not started yet
    return()
  endif()
  add_executable(${T_NAME} ${srcs})
  target_link_libraries(${T_NAME} PRIVATE ${T_DEPS} GTest::gtest GTest::gtest_main Threads::Threads)
  target_compile_options(${T_NAME} PRIVATE ${QB_WARNINGS})
  target_include_directories(${T_NAME} PRIVATE ${PROJECT_SOURCE_DIR}/tests)  # tests/*.h
  target_compile_definitions(${T_NAME} PRIVATE
    QB_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
    QB_BINARY_DIR="${PROJECT_BINARY_DIR}"
    QB_SHARED_DIR="${PROJECT_SOURCE_DIR}/../shared")
  if(NOT T_LABELS)
    set(T_LABELS unit)
  endif()
  include(GoogleTest)
  # RESOURCE_LOCK: tests that share something outside the build (one Slurm) run one at a time.
  if(T_RESOURCE_LOCK)
    gtest_discover_tests(${T_NAME} PROPERTIES LABELS "${T_LABELS}" RESOURCE_LOCK ${T_RESOURCE_LOCK}
                         WORKING_DIRECTORY ${PROJECT_BINARY_DIR} DISCOVERY_TIMEOUT 60)
  else()
    gtest_discover_tests(${T_NAME} PROPERTIES LABELS "${T_LABELS}"
                         WORKING_DIRECTORY ${PROJECT_BINARY_DIR} DISCOVERY_TIMEOUT 60)
  endif()
endfunction()
