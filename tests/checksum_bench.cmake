# The row checksums' benchmark program (bench/checksum/): built with the tests, never run as one.
# bench/checksum/run.py builds a Release tree and times a writer and `iclsweep verify` with it.
add_executable(checksum_bench ${CMAKE_SOURCE_DIR}/bench/checksum/checksum_bench.c)
target_link_libraries(checksum_bench PRIVATE ${ICLSWEEP_TOP_LIB} MPI::MPI_C ${HDF5_C_HL_LIBRARIES} ${HDF5_C_LIBRARIES})
target_include_directories(checksum_bench PRIVATE ${HDF5_C_INCLUDE_DIRS})
