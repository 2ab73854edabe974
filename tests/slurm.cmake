# Slurm tests: a real single-node Slurm (slurm/local-cluster) that the test starts and stops, a
# pytest file; skipped (exit 77: see tests/CMakeLists.txt) where slurm-wlm, munge or root are
# missing. .ci/run installs them.
add_test(NAME slurm_jobs COMMAND ${ICLSWEEP_PYTHON} -m pytest -q -rs -p no:cacheprovider
  ${CMAKE_CURRENT_SOURCE_DIR}/slurm/test_slurm.py)
set_tests_properties(slurm_jobs PROPERTIES LABELS "slurm" TIMEOUT 1500 RUN_SERIAL TRUE SKIP_RETURN_CODE 77
  ENVIRONMENT "${ICLSWEEP_TEST_ENV}")
