# The normal sampler's benchmark program (bench/rng/run.sh runs it); built with the project, not a test.
add_executable(rng_bench ${CMAKE_SOURCE_DIR}/bench/rng/rng_bench.c)
target_link_libraries(rng_bench PRIVATE iclsweep_core)
