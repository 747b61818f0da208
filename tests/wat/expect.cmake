# tests/wat/expect.cmake -- run one command and check its exit status and output.
#   cmake -DWEFT=<weft> -DARGS="arg|arg|..." -DEXIT=<status> [-DOUT=<regex on stdout>]
#         [-DERR=<regex on stderr>] -P expect.cmake
string(REPLACE "|" ";" args "${ARGS}")
execute_process(COMMAND ${WEFT} ${args} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT "${rc}" STREQUAL "${EXIT}")
  message(FATAL_ERROR "exit status ${rc}, expected ${EXIT}\nstdout: ${out}\nstderr: ${err}")
endif()
if(DEFINED OUT AND NOT "${out}" MATCHES "${OUT}")
  message(FATAL_ERROR "stdout does not match '${OUT}':\n${out}\nstderr: ${err}")
endif()
if(DEFINED ERR AND NOT "${err}" MATCHES "${ERR}")
  message(FATAL_ERROR "stderr does not match '${ERR}':\n${err}")
endif()
