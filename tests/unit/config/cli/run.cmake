# tests/unit/config/cli/run.cmake -- end-to-end checks of the `weft` command's error paths
# (ctest cli.errors): each bad configuration makes weft exit 1 with exactly one line on stderr
# naming the file and line. Run with -DWEFT=<weft> -DSRC=<this folder> -DWORK=<scratch>
# -DTPDIR=<test plugins>.
set(failures 0)

# check(<name> <exit status> <stderr regex> <args...>)
function(check name want_rc regex)
  execute_process(COMMAND ${WEFT} ${ARGN} WORKING_DIRECTORY ${SRC}
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  string(REGEX MATCHALL "\n" newlines "${err}")
  list(LENGTH newlines nlines)
  set(ok TRUE)
  if(NOT rc STREQUAL want_rc)
    set(ok FALSE)
  endif()
  if(NOT err MATCHES "${regex}")
    set(ok FALSE)
  endif()
  if(want_rc STREQUAL "1" AND NOT nlines EQUAL 1)
    set(ok FALSE)
  endif()
  if(ok)
    message(STATUS "ok   ${name}")
  else()
    message(STATUS "FAIL ${name}: exit ${rc} (want ${want_rc}), stderr: ${err}(want /${regex}/)")
    math(EXPR f "${failures} + 1")
    set(failures ${f} PARENT_SCOPE)
  endif()
  set(last_out "${out}" PARENT_SCOPE)
endfunction()

check(missing-plugin 1 "^weft: missing-plugin.ini:4: plugin /[^ ]*/no-such-plugin.so: cannot load: .*No such file"
      config -c missing-plugin.ini)
check(unknown-key 1 "^weft: unknown-key.ini:7: unknown key 'bogus' in \\[wasm\\]"
      config -c unknown-key.ini)
check(bad-size 1 "^weft: bad-size.ini:4: bad size '12X' for \\[core\\] max_wasm_stack"
      config -c bad-size.ini)
check(long-line 1 "^weft: long-line.ini:3: line is 210 characters long"
      config -c long-line.ini)
check(plugin-key 1 "^weft: plugin-key.ini:8: unknown key 'bogus' in \\[tp-good\\]"
      config -c plugin-key.ini -C core.plugin_dir=${TPDIR})
check(bad-override 1 "^weft: -C core.max_wasm_stack: bad size 'zz'"
      validate -c ok.ini -C core.max_wasm_stack=zz x.wasm)
check(bad-W 1 "^weft: -W threads: unknown feature \\(known: stack_switching, exceptions"
      config -c ok.ini -W threads=yes)
check(missing-config 1 "^weft: nope.ini: cannot open config file"
      config -c nope.ini)
check(validate-no-file 1 "^weft: validate: no module given" validate -c ok.ini)
check(unknown-subcommand 1 "^weft: unknown subcommand 'frobnicate'" frobnicate)
check(missing-value 1 "^weft: option -c needs a value" config -c)

check(config-ok 0 "^$" config -c ok.ini -W simd=no -C core.max_wasm_stack=64K)
foreach(want "max_wasm_stack = 64K" "gc = no" "simd = no" "stack_switching = yes"
             "trust_unvalidated = yes")
  if(NOT last_out MATCHES "\n${want}\n")
    message(STATUS "FAIL config-ok: output lacks '${want}':\n${last_out}")
    math(EXPR failures "${failures} + 1")
  endif()
endforeach()
check(plugin-config-ok 0 "^$" config -c ok.ini -C core.plugin_dir=${TPDIR} -C core.plugins=tp-good
      -C tp-good.mode=slow)
if(NOT last_out MATCHES "; how hard to look \\(fast\\|slow, default fast\\)\nmode = slow\n")
  message(STATUS "FAIL plugin-config-ok: no help text or value for mode:\n${last_out}")
  math(EXPR failures "${failures} + 1")
endif()

# Attached option values and the long form.
check(attached-forms 0 "^$" config --config=ok.ini -Ccore.max_wasm_stack=128K -Wgc=yes)
if(NOT last_out MATCHES "\nmax_wasm_stack = 128K\n" OR NOT last_out MATCHES "\ngc = yes\n")
  message(STATUS "FAIL attached-forms: -C/-W not applied:\n${last_out}")
  math(EXPR failures "${failures} + 1")
endif()
check(config-help 0 "^$" config --help)
if(NOT last_out MATCHES "usage: weft config" OR NOT last_out MATCHES "-C SECTION.KEY=VALUE")
  message(STATUS "FAIL config-help: ${last_out}")
  math(EXPR failures "${failures} + 1")
endif()
check(bad-option 1 "^weft: config: unexpected argument '--configx=ok.ini'" config --configx=ok.ini)

if(failures GREATER 0)
  message(FATAL_ERROR "${failures} CLI check(s) failed")
endif()
