# Analysis tests: the iclsweep Python package (analysis/) under pytest, with Debian's python3-*
# packages through ${ICLSWEEP_PYTHON}; the package is imported from the source tree (PYTHONPATH),
# nothing is installed. analysis_unit: small HDF5 files the tests write with known values;
# analysis_e2e: tiny sweeps run by the built program ($ICLSWEEP_BIN), one of them under mpirun.
# Run by hand from the repository root:
#   PYTHONPATH=analysis /usr/bin/python3 -m pytest tests/analysis -m "not e2e"
#   ICLSWEEP_BIN=build/iclsweep PYTHONPATH=analysis /usr/bin/python3 -m pytest tests/analysis -m e2e
foreach(kind unit e2e)
  if(kind STREQUAL "unit")
    set(select "not e2e")
  else()
    set(select "e2e")
  endif()
  add_test(NAME analysis_${kind}
    COMMAND ${ICLSWEEP_PYTHON} -m pytest -q -rs -p no:cacheprovider -m ${select}
            ${CMAKE_CURRENT_SOURCE_DIR}/analysis)
  set_tests_properties(analysis_${kind} PROPERTIES LABELS "analysis" TIMEOUT 600
    ENVIRONMENT "${ICLSWEEP_TEST_ENV};PYTHONPATH=${CMAKE_SOURCE_DIR}/analysis;MPLBACKEND=Agg")
endforeach()
