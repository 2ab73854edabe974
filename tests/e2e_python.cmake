# Python end-to-end tests of the program (tests/e2e/test_*.py), label e2e, pytest files run with
# Debian's pytest and numpy through /usr/bin/python3. Each file's header gives the command to run
# it by hand.
file(GLOB e2e_py_tests CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/e2e/test_*.py)
foreach(src ${e2e_py_tests})
  get_filename_component(name ${src} NAME_WE)
  add_test(NAME ${name} COMMAND ${ICLSWEEP_PYTHON} -m pytest -q -rs -p no:cacheprovider ${src})
  set_tests_properties(${name} PROPERTIES LABELS e2e TIMEOUT 600 ENVIRONMENT "${ICLSWEEP_TEST_ENV}")
endforeach()
