# Writes generated/iclsweep/version.h with the version and the current git commit (with "-dirty"
# when the tree has changes). Run at every build, so result files record the commit that built
# the binary, not the one present at configure time; the header is rewritten only when it changes.
# Inputs: SRC (source dir), OUT (header path), VERSION.
execute_process(COMMAND git rev-parse --short HEAD WORKING_DIRECTORY ${SRC}
  OUTPUT_VARIABLE commit OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET RESULT_VARIABLE rc)
if(NOT rc EQUAL 0 OR NOT commit)
  set(commit unknown)
else()
  execute_process(COMMAND git status --porcelain --untracked-files=no WORKING_DIRECTORY ${SRC}
    OUTPUT_VARIABLE dirty OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
  if(dirty)
    set(commit "${commit}-dirty")
  endif()
endif()
set(text "/* Generated at build time by cmake/version.cmake: the version and the commit built. */
#ifndef ICLSWEEP_VERSION_H
#define ICLSWEEP_VERSION_H
#define ISW_VERSION \"${VERSION}\"
#define ISW_GIT_COMMIT \"${commit}\"
#endif
")
if(EXISTS ${OUT})
  file(READ ${OUT} old)
endif()
if(NOT "${old}" STREQUAL "${text}")
  file(WRITE ${OUT} "${text}")
endif()
