"""Sweep files used by the sweep tests: small concept-model grids that run in seconds."""

# 8 tiny tasks (~10 ms each): rank-count and refusal tests.
TINY = """\
model: concept
seed: 7
replicates: 2
fixed: {d: 16, K: 2, K_irr: 4, L: 8, width: 8, n_train: 256, n_test: 128, L_long: 16,
        batch: 32, steps: 60, log_every: 10}
grid:
  noise: [0.01, 0.1]
  lr: [1, 5]
"""

# 24 tasks of ~150 ms each (~2 s on 2 workers), with differing schedules: long enough to interrupt
# mid-sweep, or to kill once the first tasks are done with work still left.
LONGER = """\
model: concept
seed: 11
replicates: 3
fixed: {d: 16, K: 2, K_irr: 4, L: 8, width: 8, n_train: 256, n_test: 512, L_long: 16,
        batch: 32, log_every: 50}
grid:
  noise: [0.01, 0.1]
  lr: [1, 5]
  steps: [1000, 1500]
"""

# 6 tiny iccls tasks (~50 ms each): burstiness B = 0, 1, 2 in both precisions.
ICCLS_TINY = """\
model: iccls
seed: 9
fixed: {N: 4, Nmax: 4, D: 7, L: 8, K: 64, K_novel: 16, batch: 16, steps: 40, log_every: 20,
        n_test: 64}
grid:
  B: [0, 1, 2]
  precision: [float64, float32]
"""

# Two tasks of `steps` steps each (noise 0.01 and 0.1), a checkpoint every `checkpoint_every`
# seconds: for the checkpoint tests, which size their tasks (steps) to what they need.
TWO_TASKS = """\
model: concept
seed: {seed}
checkpoint_every: {checkpoint_every}
fixed: {{d: 16, K: 2, K_irr: 4, L: 8, width: 8, n_train: 256, n_test: 512, L_long: 16,
        batch: 32, log_every: {log_every}, steps: {steps}}}
grid:
  noise: [0.01, 0.1]
"""
