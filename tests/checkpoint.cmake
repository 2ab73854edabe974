# test_checkpoint (tests/unit, label unit): every model of the registry resumed from its
# checkpoints gives the numbers of an uninterrupted run bit for bit. A few seconds: also quick, the
# set a developer runs before each commit (ctest -L quick).
set_property(TEST test_checkpoint APPEND PROPERTY LABELS quick)
