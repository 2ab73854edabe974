# The iccls model's unit tests (tests/unit/test_iccls_*.c, declared by iclsweep_c_tests with the
# label unit) take well under a second each: they also carry the label quick, the set a developer
# runs before each commit (ctest -L quick).
foreach(t test_iccls_data test_iccls_grad test_iccls_peer test_iccls_companion test_iccls_train)
  if(TEST ${t})
    set_property(TEST ${t} APPEND PROPERTY LABELS quick)
  endif()
endforeach()

# The iccls model's benchmark program (bench/iccls/): built with the tests, never run as one.
# bench/iccls/run.py builds a Release tree and runs it against the PyTorch peer.
add_executable(iccls_bench ${CMAKE_SOURCE_DIR}/bench/iccls/iccls_bench.c)
target_link_libraries(iccls_bench PRIVATE iclsweep_core)
