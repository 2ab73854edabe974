# Sweep tests: `iclsweep run` under mpirun with fixed rank counts (1, 2, 3 and 4, oversubscribed
# on small machines), read back with Debian's h5py through /usr/bin/python3. Each file is a pytest
# module (fixtures in tests/sweep/conftest.py); its header gives the command to run it by hand.
foreach(name ranks interrupt failures train format hostile owner grow signals order plan_time checkpoint integrity
             flips iccls)
  add_test(NAME sweep_${name}
    COMMAND ${ICLSWEEP_PYTHON} -m pytest -q -rs -p no:cacheprovider
            ${CMAKE_CURRENT_SOURCE_DIR}/sweep/test_${name}.py)
  set_tests_properties(sweep_${name} PROPERTIES LABELS "mpi;e2e" TIMEOUT 900
    ENVIRONMENT "${ICLSWEEP_TEST_ENV}" RUN_SERIAL TRUE)
endforeach()
# valgrind memcheck of a small sweep (slow, so apart, with its own label); skipped without
# valgrind or under ASan (exit 77: see tests/CMakeLists.txt)
add_test(NAME sweep_valgrind COMMAND ${ICLSWEEP_PYTHON} -m pytest -q -rs -p no:cacheprovider
  ${CMAKE_CURRENT_SOURCE_DIR}/sweep/test_valgrind.py)
set_tests_properties(sweep_valgrind PROPERTIES LABELS "valgrind;mpi" TIMEOUT 1200 RUN_SERIAL TRUE
  SKIP_RETURN_CODE 77 ENVIRONMENT "${ICLSWEEP_TEST_ENV}")
