# The concept model's benchmark program (bench/concept/): built with the tests, never run as one.
# bench/concept/run.sh builds a Release tree and runs it against the PyTorch peer.
add_executable(concept_bench ${CMAKE_SOURCE_DIR}/bench/concept/concept_bench.c)
target_link_libraries(concept_bench PRIVATE iclsweep_core)
