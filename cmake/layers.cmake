# The layers of the C code and what each may include: the one home of the rule that
# docs/architecture.md ("Layers") explains. Dependencies point downward only. The build makes one
# static library per layer linked to exactly the layers it sees, and cmake/check_layers.cmake
# refuses an #include of a layer that is not listed here (it runs before anything compiles).
set(ISW_LAYERS core tasks models train spec store sweep cli)
set(ISW_LAYER_SEES_core   core)
set(ISW_LAYER_SEES_tasks  core tasks)
set(ISW_LAYER_SEES_models core tasks models)
set(ISW_LAYER_SEES_train  core tasks models train)
set(ISW_LAYER_SEES_spec   core tasks models train spec)
set(ISW_LAYER_SEES_store  core store)
set(ISW_LAYER_SEES_sweep  core tasks models train spec store sweep)
set(ISW_LAYER_SEES_cli    core tasks models train spec store sweep cli)
# Headers the build writes (build/generated/iclsweep/): any layer may include them.
set(ISW_LAYER_GENERATED iclsweep/version.h)
