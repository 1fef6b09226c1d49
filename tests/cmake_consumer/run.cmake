# Configures, builds and runs the consumer project with runlog taken through MODE
# (subdirectory or find_package after `cmake --install` into a fresh prefix).
file(REMOVE_RECURSE "${WORK_DIR}")
if(NOT CONSUMER_TARGET)
  set(CONSUMER_TARGET runlog::runlog)
endif()
set(args -DCMAKE_CXX_COMPILER=${CXX} -DRUNLOG_CONSUMER_TARGET=${CONSUMER_TARGET})
if(MODE STREQUAL "find_package")
  execute_process(COMMAND "${CMAKE_COMMAND}" -S "${SOURCE_DIR}" -B "${WORK_DIR}/runlog-build"
                          -DRUNLOG_BUILD_TESTS=OFF -DRUNLOG_BUILD_EXAMPLES=OFF -DRUNLOG_BUILD_TOOLS=OFF -DCMAKE_CXX_COMPILER=${CXX}
                          -DCMAKE_INSTALL_LIBDIR=lib
                  RESULT_VARIABLE rc)
  if(rc)
    message(FATAL_ERROR "configuring runlog for install failed")
  endif()
  execute_process(COMMAND "${CMAKE_COMMAND}" --build "${WORK_DIR}/runlog-build" RESULT_VARIABLE rc)
  if(rc)
    message(FATAL_ERROR "building runlog for install failed")
  endif()
  execute_process(COMMAND "${CMAKE_COMMAND}" --install "${WORK_DIR}/runlog-build" --prefix "${WORK_DIR}/prefix"
                  RESULT_VARIABLE rc)
  if(rc)
    message(FATAL_ERROR "cmake --install failed")
  endif()
  foreach(f include/runlog/runlog.hpp include/runlog/log.hpp share/cmake/runlog/runlogConfig.cmake
            share/cmake/runlog/runlogConfigVersion.cmake share/pkgconfig/runlog.pc
            lib/librunlog.a lib/pkgconfig/runlog-compiled.pc)
    if(NOT EXISTS "${WORK_DIR}/prefix/${f}")
      message(FATAL_ERROR "the install is missing ${f}")
    endif()
  endforeach()
  # The installed .pc files must point into the prefix given at install time.
  find_program(PKG_CONFIG_EXECUTABLE pkg-config REQUIRED)
  set(ENV{PKG_CONFIG_PATH} "${WORK_DIR}/prefix/share/pkgconfig:${WORK_DIR}/prefix/lib/pkgconfig")
  if(CONSUMER_TARGET STREQUAL "runlog::compiled")
    set(pc_package runlog-compiled)
  else()
    set(pc_package runlog)
  endif()
  execute_process(COMMAND "${PKG_CONFIG_EXECUTABLE}" --cflags --libs ${pc_package} OUTPUT_VARIABLE pc_flags
                  OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE rc)
  if(rc)
    message(FATAL_ERROR "pkg-config --cflags --libs ${pc_package} failed")
  endif()
  separate_arguments(pc_flags UNIX_COMMAND "${pc_flags}")
  execute_process(COMMAND "${CXX}" "${SOURCE_DIR}/tests/cmake_consumer/main.cpp" "${SOURCE_DIR}/tests/cmake_consumer/other.cpp"
                          "${SOURCE_DIR}/tests/cmake_consumer/app_logger.cpp"
                          ${pc_flags} -o "${WORK_DIR}/pc_consumer"
                  RESULT_VARIABLE rc)
  if(rc)
    message(FATAL_ERROR "building the consumer with pkg-config's flags (${pc_flags}) failed")
  endif()
  execute_process(COMMAND "${WORK_DIR}/pc_consumer" RESULT_VARIABLE rc)
  if(rc)
    message(FATAL_ERROR "the pkg-config consumer exited with ${rc}")
  endif()
  list(APPEND args -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix)
else()
  list(APPEND args -DRUNLOG_SOURCE_DIR=${SOURCE_DIR})
endif()
execute_process(COMMAND "${CMAKE_COMMAND}" -S "${SOURCE_DIR}/tests/cmake_consumer" -B "${WORK_DIR}/build"
                        -DRUNLOG_CONSUMER_MODE=${MODE} ${args}
                RESULT_VARIABLE rc)
if(rc)
  message(FATAL_ERROR "configuring the consumer (${MODE}) failed")
endif()
execute_process(COMMAND "${CMAKE_COMMAND}" --build "${WORK_DIR}/build" RESULT_VARIABLE rc)
if(rc)
  message(FATAL_ERROR "building the consumer (${MODE}) failed")
endif()
execute_process(COMMAND "${WORK_DIR}/build/consumer" RESULT_VARIABLE rc)
if(rc)
  message(FATAL_ERROR "the consumer (${MODE}) exited with ${rc}")
endif()
message(STATUS "consumer (${MODE}, ${CONSUMER_TARGET}) built and ran")
