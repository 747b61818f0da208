# tests/wasi/run.cmake -- run `weft run` on one WASI guest and check its exit status and output.
#   cmake -DWEFT=<weft> -DCONF=<ini> -DARGS="arg|arg|..." -DEXIT=<status> [-DOUT=<regex>]
#         [-DERR=<regex>] [-DSANDBOX=<dir>] [-DCHECK_FILE=<name> -DCHECK_CONTENT=<regex>]
#         [-DINPUT_LINES=<n> -DINPUT_FILE=<path>] [-DSKIP_IF=<regex>] [-DMANY_FILES=<n>]
#         -P run.cmake
# SKIP_IF: when stderr matches, print "SKIPPED: <stderr>" and succeed (ctest reports a skip).
# INPUT_LINES: stdin is a file of n lines "line number <i> of the input" (0: empty).
# SANDBOX: <dir> is made afresh as  secret.txt  box/{inside.txt, sub/, link_out -> ../secret.txt,
# abs_out -> /etc, link_in -> inside.txt, loop -> loop, and with -DMANY_FILES=<n> many/ holding
# n empty files}; @BOX@ in ARGS becomes <dir>/box and
# CHECK_FILE is looked up in <dir>/box after the run.
string(REPLACE "|" ";" args "${ARGS}")
if(DEFINED SANDBOX)
  file(REMOVE_RECURSE ${SANDBOX})
  file(MAKE_DIRECTORY ${SANDBOX}/box/sub)
  file(WRITE ${SANDBOX}/secret.txt "secret\n")
  file(WRITE ${SANDBOX}/box/inside.txt "from host\n")
  file(CREATE_LINK ../secret.txt ${SANDBOX}/box/link_out SYMBOLIC)
  file(CREATE_LINK /etc ${SANDBOX}/box/abs_out SYMBOLIC)
  file(CREATE_LINK inside.txt ${SANDBOX}/box/link_in SYMBOLIC)
  file(CREATE_LINK loop ${SANDBOX}/box/loop SYMBOLIC)
  if(DEFINED MANY_FILES)
    set(many "")
    foreach(i RANGE 1 ${MANY_FILES})
      list(APPEND many ${SANDBOX}/box/many/name_of_some_length_${i})
    endforeach()
    file(MAKE_DIRECTORY ${SANDBOX}/box/many)
    file(TOUCH ${many})
  endif()
  string(REPLACE "@BOX@" "${SANDBOX}/box" args "${args}")
endif()
set(input "")
if(DEFINED INPUT_LINES)
  set(text "")
  if(INPUT_LINES GREATER 0)
    foreach(i RANGE 1 ${INPUT_LINES})
      string(APPEND text "line number ${i} of the input\n")
    endforeach()
  endif()
  file(WRITE ${INPUT_FILE} "${text}")
  set(input INPUT_FILE ${INPUT_FILE})
endif()
execute_process(COMMAND ${WEFT} run -c ${CONF} ${args} ${input}
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(DEFINED SKIP_IF AND NOT "${rc}" STREQUAL "${EXIT}" AND "${err}" MATCHES "${SKIP_IF}")
  message("SKIPPED: ${err}")
  return()
endif()
if(NOT "${rc}" STREQUAL "${EXIT}")
  message(FATAL_ERROR "exit status ${rc}, expected ${EXIT}\nstdout: ${out}\nstderr: ${err}")
endif()
if(DEFINED OUT AND NOT "${out}" MATCHES "${OUT}")
  message(FATAL_ERROR "stdout does not match '${OUT}':\n${out}\nstderr: ${err}")
endif()
if(DEFINED ERR AND NOT "${err}" MATCHES "${ERR}")
  message(FATAL_ERROR "stderr does not match '${ERR}':\n${err}")
endif()
if(DEFINED CHECK_FILE)
  file(READ ${SANDBOX}/box/${CHECK_FILE} content)
  if(NOT "${content}" MATCHES "${CHECK_CONTENT}")
    message(FATAL_ERROR "${CHECK_FILE} does not match '${CHECK_CONTENT}':\n${content}")
  endif()
endif()
