# Analysis tests: the iclsweep Python package (analysis/) under pytest, with Debian's python3-*
# packages through ${ICLSWEEP_PYTHON}; the package is imported from the source tree (PYTHONPATH),
# nothing is installed.
#   analysis_unit   small HDF5 files the tests write with known values (labels analysis, quick)
#   analysis_e2e    tiny sweeps run by the built program ($ICLSWEEP_BIN), one under mpirun, and
#                   the explore page in headless Chromium (labels analysis, e2e)
#   analysis_flips  the reader on byte-flipped engine files (test_reader_flips.py; labels
#                   analysis, e2e)
#   docs_commands   every command of README.md and docs/*.md, run as written against a scratch
#                   copy of the demo's result (labels e2e, analysis)
# Run by hand from the repository root:
#   PYTHONPATH=analysis /usr/bin/python3 -m pytest tests/analysis -m "not e2e"
#   ICLSWEEP_BIN=build/iclsweep PYTHONPATH=analysis /usr/bin/python3 -m pytest tests/analysis -m e2e
#   ICLSWEEP_BIN=build/iclsweep /usr/bin/python3 -m pytest tests/docs
set(analysis_env "${ICLSWEEP_TEST_ENV};PYTHONPATH=${CMAKE_SOURCE_DIR}/analysis;MPLBACKEND=Agg")
foreach(kind unit e2e flips)
  if(kind STREQUAL "unit")
    set(select "not e2e")
    set(labels "analysis;quick")
  elseif(kind STREQUAL "e2e")
    set(select "e2e and not flips")
    set(labels "analysis;e2e")
  else()
    set(select "flips")
    set(labels "analysis;e2e")
  endif()
  add_test(NAME analysis_${kind}
    COMMAND ${ICLSWEEP_PYTHON} -m pytest -q -rs -p no:cacheprovider -m ${select}
            ${CMAKE_CURRENT_SOURCE_DIR}/analysis)
  set_tests_properties(analysis_${kind} PROPERTIES LABELS "${labels}" TIMEOUT 600
    ENVIRONMENT "${analysis_env}")
endforeach()
add_test(NAME docs_commands
  COMMAND ${ICLSWEEP_PYTHON} -m pytest -q -rs -p no:cacheprovider ${CMAKE_CURRENT_SOURCE_DIR}/docs)
set_tests_properties(docs_commands PROPERTIES LABELS "e2e;analysis" TIMEOUT 900
  ENVIRONMENT "${analysis_env}")
