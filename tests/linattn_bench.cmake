# The linattn benchmark program (bench/linattn/run.sh runs it); built with the project, not a test.
add_executable(linattn_bench ${CMAKE_SOURCE_DIR}/bench/linattn/linattn_bench.c)
target_link_libraries(linattn_bench PRIVATE iclsweep_core)
