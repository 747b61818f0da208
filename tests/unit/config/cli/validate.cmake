# tests/unit/config/cli/validate.cmake -- ctest cli.validate: `weft validate` end to end with the
# default configuration restricted to the validator plugin (needs it and the text front end): a
# valid module passes, an invalid one fails with exit 1 and one line giving the offset and the
# spec's message, and -W/-C reach the engine. Run with -DWEFT=<weft> -DSRC=<this folder> -DPLUGIN_DIR=<plugins>.
if(NOT EXISTS ${PLUGIN_DIR}/validator.so)
  message("SKIPPED: ${PLUGIN_DIR}/validator.so is not built")
  return()
endif()
set(failures 0)
function(run want_rc out_regex err_regex)
  # Only the validator is needed: the default config's other plugins may not be built.
  execute_process(COMMAND ${WEFT} ${ARGN} -C core.plugins=validator WORKING_DIRECTORY ${SRC}
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc STREQUAL want_rc OR NOT out MATCHES "${out_regex}" OR NOT err MATCHES "${err_regex}")
    message(STATUS "FAIL weft ${ARGN}: exit ${rc} (want ${want_rc})\nstdout: ${out}\nstderr: ${err}")
    math(EXPR f "${failures} + 1")
    set(failures ${f} PARENT_SCOPE)
  else()
    message(STATUS "ok   weft ${ARGN}")
  endif()
endfunction()
run(0 "^good.wat: valid\n$" "^$" validate good.wat)
run(1 "^$" "^weft: bad.wat: validator at offset 0x[0-9a-f]+: type mismatch[^\n]*\n$" validate bad.wat)
run(1 "^good.wat: valid\n$" "^weft: bad.wat: [^\n]*type mismatch" validate good.wat bad.wat)
run(0 "^good.wat: valid\n$" "^$" validate -W gc=no good.wat)
run(1 "" "^weft: -C wasm.gc: bad value 'maybe'" validate -C wasm.gc=maybe good.wat)
if(failures GREATER 0)
  message(FATAL_ERROR "${failures} check(s) failed")
endif()
