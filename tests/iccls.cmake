# The iccls model's benchmark program (bench/iccls/): built with the tests, never run as one.
# bench/iccls/run.py builds a Release tree and runs it against the PyTorch peer.
add_executable(iccls_bench ${CMAKE_SOURCE_DIR}/bench/iccls/iccls_bench.c)
target_link_libraries(iccls_bench PRIVATE iclsweep_core)
