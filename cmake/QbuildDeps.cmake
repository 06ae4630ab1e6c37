# Finds every third-party dependency once, as imported targets named qb::<dep>.
# All come from Debian packages except libtorch, which comes from an installed PyTorch
# (Torch_DIR, or `python3 -c 'import torch; print(torch.utils.cmake_prefix_path)'`).
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)

find_package(yaml-cpp REQUIRED)
find_package(spdlog REQUIRED)
find_package(fmt REQUIRED)
find_package(nlohmann_json 3.10 REQUIRED)
find_package(CLI11 REQUIRED)
find_package(SQLite3 REQUIRED)
pkg_check_modules(XXHASH REQUIRED IMPORTED_TARGET libxxhash)
pkg_check_modules(PCRE2 REQUIRED IMPORTED_TARGET libpcre2-8)

add_library(qb::yaml INTERFACE IMPORTED)
if(TARGET yaml-cpp::yaml-cpp)
  target_link_libraries(qb::yaml INTERFACE yaml-cpp::yaml-cpp)
else()
  target_link_libraries(qb::yaml INTERFACE yaml-cpp)
endif()
add_library(qb::xxhash ALIAS PkgConfig::XXHASH)
add_library(qb::pcre2 ALIAS PkgConfig::PCRE2)

if(QBUILD_WITH_TORCH)
  if(NOT Torch_DIR AND NOT DEFINED ENV{Torch_DIR})
    foreach(py IN ITEMS "${QBUILD_PYTHON}" "${PROJECT_SOURCE_DIR}/.venv/bin/python" python3)
      if(py)
        execute_process(COMMAND ${py} -c "import torch; print(torch.utils.cmake_prefix_path)"
                        OUTPUT_VARIABLE _torch_prefix OUTPUT_STRIP_TRAILING_WHITESPACE
                        ERROR_QUIET RESULT_VARIABLE _rc)
        if(_rc EQUAL 0 AND _torch_prefix)
          list(APPEND CMAKE_PREFIX_PATH "${_torch_prefix}")
          message(STATUS "qbuild: libtorch from ${py}: ${_torch_prefix}")
          break()
        endif()
      endif()
    endforeach()
  endif()
  find_package(Torch REQUIRED)
  add_library(qb::torch INTERFACE IMPORTED)
  target_link_libraries(qb::torch INTERFACE ${TORCH_LIBRARIES})
  target_include_directories(qb::torch SYSTEM INTERFACE ${TORCH_INCLUDE_DIRS})
  # libtorch's own flags (e.g. -D_GLIBCXX_USE_CXX11_ABI); keep them off core targets.
  separate_arguments(_torch_flags UNIX_COMMAND "${TORCH_CXX_FLAGS}")
  target_compile_options(qb::torch INTERFACE ${_torch_flags})
endif()

find_package(GTest REQUIRED)
pkg_check_modules(UTF8PROC REQUIRED IMPORTED_TARGET libutf8proc)
add_library(qb::utf8proc ALIAS PkgConfig::UTF8PROC)

# qbuild's own CUDA kernels (the fused decode step, src/steps/model/decode_kernels.cu) need a
# CUDA compiler next to a CUDA libtorch; without one (CI, CPU builds) the model decodes op by op.
option(QBUILD_CUDA_KERNELS "Build qbuild's CUDA kernels when a CUDA compiler is found" ON)
set(QBUILD_CUDA_ARCHITECTURES "90" CACHE STRING "GPU architectures of qbuild's CUDA kernels (90: H100/H200)")
set(QB_CUDA_KERNELS OFF)
if(QBUILD_WITH_TORCH AND QBUILD_CUDA_KERNELS AND TORCH_CUDA_LIBRARIES)
  include(CheckLanguage)
  check_language(CUDA)
  if(CMAKE_CUDA_COMPILER)
    enable_language(CUDA)
    find_package(CUDAToolkit REQUIRED)
    set(QB_CUDA_KERNELS ON)
    message(STATUS "qbuild: CUDA kernels for sm_${QBUILD_CUDA_ARCHITECTURES} with ${CMAKE_CUDA_COMPILER}")
  else()
    message(STATUS "qbuild: no CUDA compiler: the model decodes op by op (no fused decode kernels)")
  endif()
endif()

# The W8A8 int8 GEMM for more than 16 rows (src/steps/model/int8_gemm_kernels.cu) is CUTLASS 3's
# sm90 kernel: header-only, from the nvidia-cutlass wheel (its cutlass_library/source folder, as
# the torch wheel ships libtorch). Without it the int8 GEMM runs on the GPU only for <= 16 rows
# (decode) and larger batches keep at::_int_mm. scripts/gpu/kernels.sh sets it on the GPU host.
set(QBUILD_CUTLASS_DIR "" CACHE PATH
    "CUTLASS source root (holding include/cutlass and tools/util/include) for the sm90 int8 GEMM")
set(QB_CUTLASS OFF)
if(QB_CUDA_KERNELS AND QBUILD_CUTLASS_DIR)
  if(EXISTS "${QBUILD_CUTLASS_DIR}/include/cutlass/cutlass.h" AND
     EXISTS "${QBUILD_CUTLASS_DIR}/tools/util/include/cutlass/util/packed_stride.hpp")
    set(QB_CUTLASS ON)
    message(STATUS "qbuild: CUTLASS sm90 int8 GEMM from ${QBUILD_CUTLASS_DIR}")
  else()
    message(FATAL_ERROR "QBUILD_CUTLASS_DIR=${QBUILD_CUTLASS_DIR} holds no CUTLASS headers")
  endif()
endif()
