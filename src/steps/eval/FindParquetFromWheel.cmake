# Apache Arrow's C++ Parquet reader, taken from an installed pyarrow wheel — the way libtorch
# comes from the torch wheel. Debian bookworm ships no libarrow/libparquet, and the wheel carries
# both shared libraries (libarrow.so.<SOVER>, libparquet.so.<SOVER>) and their headers
# (pyarrow.get_include()).
#
# Looks for a python with pyarrow in: QBUILD_PYARROW_PYTHON, QBUILD_PYTHON, <root>/.venv/bin/python,
# python3. Sets QB_PARQUET_FOUND and, when found, the imported target qb::parquet (headers,
# both libraries, and an RPATH to the wheel's folder so binaries run without LD_LIBRARY_PATH).
# -DQBUILD_PARQUET=OFF skips the search; =ON makes a missing pyarrow an error.
set(QBUILD_PARQUET "AUTO" CACHE STRING "Parquet datasets via pyarrow's libparquet: AUTO, ON or OFF")
set(QB_PARQUET_FOUND OFF)
if(TARGET qb::parquet)
  set(QB_PARQUET_FOUND ON)
elseif(NOT QBUILD_PARQUET STREQUAL "OFF")
  foreach(py IN ITEMS "${QBUILD_PYARROW_PYTHON}" "${QBUILD_PYTHON}" "${PROJECT_SOURCE_DIR}/.venv/bin/python" python3)
    if(NOT py)
      continue()
    endif()
    execute_process(
      COMMAND ${py} -c "import os, pyarrow; print(pyarrow.__version__); print(pyarrow.get_include()); print(os.path.dirname(pyarrow.__file__))"
      OUTPUT_VARIABLE _pa_out ERROR_QUIET RESULT_VARIABLE _pa_rc OUTPUT_STRIP_TRAILING_WHITESPACE)
    if(NOT _pa_rc EQUAL 0)
      continue()
    endif()
    string(REPLACE "\n" ";" _pa_lines "${_pa_out}")
    list(GET _pa_lines 0 _pa_version)
    list(GET _pa_lines 1 _pa_include)
    list(GET _pa_lines 2 _pa_dir)
    file(GLOB _pa_arrow "${_pa_dir}/libarrow.so.[0-9]*")
    file(GLOB _pa_parquet "${_pa_dir}/libparquet.so.[0-9]*")
    if(_pa_arrow AND _pa_parquet AND EXISTS "${_pa_include}/parquet/arrow/reader.h")
      list(SORT _pa_arrow)
      list(SORT _pa_parquet)
      list(GET _pa_arrow 0 _pa_arrow)
      list(GET _pa_parquet 0 _pa_parquet)
      add_library(qb::parquet INTERFACE IMPORTED GLOBAL)
      target_include_directories(qb::parquet SYSTEM INTERFACE "${_pa_include}")
      target_link_libraries(qb::parquet INTERFACE "${_pa_parquet}" "${_pa_arrow}")
      target_link_options(qb::parquet INTERFACE "LINKER:-rpath,${_pa_dir}")
      set(QB_PARQUET_FOUND ON)
      message(STATUS "qbuild: Parquet from pyarrow ${_pa_version} (${py}): ${_pa_dir}")
      break()
    endif()
  endforeach()
  if(NOT QB_PARQUET_FOUND)
    if(QBUILD_PARQUET STREQUAL "ON")
      message(FATAL_ERROR "qbuild: QBUILD_PARQUET=ON but no python with pyarrow was found "
                          "(pip install pyarrow into .venv, or set QBUILD_PYARROW_PYTHON)")
    endif()
    message(STATUS "qbuild: no pyarrow found; Parquet datasets disabled (JSONL and CSV still work)")
  endif()
endif()
