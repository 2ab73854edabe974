/* The concept model's parameters (docs/science.md section 1): the one table of its knobs.
 *
 * Columns: X(name, TYPE, default, lo, hi, choices, units, meaning). Validation, `iclsweep params
 * concept`, docs/params.md, task identities and HDF5 /tasks columns are all generated from this
 * list; add a knob here and everything else follows. */
#ifndef ICLSWEEP_CONCEPT_PARAMS_H
#define ICLSWEEP_CONCEPT_PARAMS_H

#include "iclsweep/core/params.h"
#include "iclsweep/tasks/concept.h"

/* The choices of qk_init, listed once: X(name) with SEP between; the table's choices string and
 * the enum below both come from it. */
#define ISW_CONCEPT_QK_INITS(X, SEP) X(tied) SEP X(independent)
#define ISW_CONCEPT_CHOICE_STR_(name) #name
#define ISW_CONCEPT_CHOICE_ENUM_(name) ISW_QK_##name,
enum { ISW_CONCEPT_QK_INITS(ISW_CONCEPT_CHOICE_ENUM_, ) ISW_QK_N };

#define ISW_CONCEPT_PARAMS(X)                                                                     \
    /* data */                                                                                    \
    X(d, INT, 64, 2, 4096, NULL, "", "word and label dimension (d_X = d_Y = d)")                  \
    X(K, INT, 4, 1, 1024, NULL, "", "number of task-relevant concepts")                           \
    X(K_irr, INT, 8, 0, 4096, NULL, "", "number of task-irrelevant atoms nu_j")                   \
    X(L, INT, 16, 1, 65536, NULL, "", "demonstrations per training and test prompt")              \
    X(norm_a, REAL, 1.0, 0, 1e3, NULL, "", "norm of the concept atoms a_k")                       \
    X(norm_b, REAL, 0.6, 0, 1e3, NULL, "", "norm of the polarity atoms b_k")                      \
    X(norm_nu, REAL, 1.0, 0, 1e3, NULL, "", "norm of the task-irrelevant atoms nu_j")             \
    X(norm_c, REAL, 1.0, 0, 1e3, NULL, "", "norm of the label atoms c_k")                         \
    X(norm_d, REAL, 0.6, 0, 1e3, NULL, "", "norm of the label polarity atoms d_k")                \
    X(p_poly, REAL, 0.3, 0, 1, NULL, "probability",                                               \
      "chance that each other task concept is co-active in a word (polysemy)")                    \
    X(p_irr, REAL, 0.2, 0, 1, NULL, "probability", "chance that each irrelevant atom is active")  \
    X(noise, REAL, 0.01, 0, 1e3, NULL, "", "standard deviation of the Gaussian word noise xi")    \
    X(concept_skew, REAL, 0.0, 0, 1, NULL, "probability",                                         \
      "prompt concept is concept 1 with this chance, else uniform over K (0 = uniform)")          \
    X(label_map, CHOICE, 0, 0, 0, "random|fixed", "",                                             \
      "label map tau: random sign per prompt, or fixed +1")                                       \
    X(label_flip, REAL, 0.0, 0, 0.5, NULL, "probability", "chance that a demo label is flipped")  \
    X(n_train, INT, 4096, 0, 1e8, NULL, "prompts",                                                \
      "training prompts reused over epochs; 0 = fresh prompts every step")                        \
    X(n_test, INT, 2048, 1, 1e7, NULL, "prompts", "fresh test prompts (and per OOD test set)")    \
    X(L_short, INT, 4, 1, 65536, NULL, "", "demonstrations in the short-prompt OOD test set")     \
    X(L_long, INT, 64, 1, 65536, NULL, "", "demonstrations in the long-prompt OOD test set")      \
    X(ood_skew, REAL, 0.7, 0, 1, NULL, "probability",                                             \
      "mass on the favoured concept in the skewed-concept OOD test set")                          \
    X(n_probe, INT, 16, 1, 4096, NULL, "", "random noise vectors for the noise-direction metrics") \
    /* model */                                                                                   \
    X(width, INT, 32, 2, 65536, NULL, "neurons", "MLP width m (even: half a_r=+1/m, half -1/m)") \
    X(d_h, INT, 0, 0, 65536, NULL, "", "rows of W_Q and W_K; 0 means 2d")                        \
    X(init, REAL, 0.1, 0, 1e3, NULL, "", "standard deviation of the N(0, init^2) initialization") \
    X(qk_init, CHOICE, 0, 0, 0, ISW_CONCEPT_QK_INITS(ISW_CONCEPT_CHOICE_STR_, "|"), "",            \
      "tied: W_K = W_Q at step 0 (one draw, trained apart after); independent: separate draws")   \
    /* training */                                                                                \
    X(optimizer, CHOICE, 0, 0, 0, "sgd", "", "optimizer (minibatch SGD)")                        \
    X(lr, REAL, 5.0, 0, 1e6, NULL, "", "learning rate (SGD step)")                                \
    X(batch, INT, 64, 1, 1e6, NULL, "prompts", "minibatch size")                                  \
    X(steps, INT, 2000, 0, 1e9, NULL, "steps", "training steps")                                  \
    X(log_every, INT, 20, 1, 1e9, NULL, "steps", "steps between logged points")                   \
    X(weight_decay, REAL, 0.0, 0, 1e6, NULL, "", "L2 penalty: adds (weight_decay/2) |W|^2")

ISW_PARAMS_STRUCT(ISW_CONCEPT_PARAMS, isw_concept_cfg)

enum { ISW_CONCEPT_N_PARAMS = 0 ISW_CONCEPT_PARAMS(ISW_PARAM_ONE) };

/* The table's rows and the descriptor's hooks that depend on the config alone. */
ISW_PARAMS_HOOKS(concept)

/* The data knobs of c, as the data generator (include/iclsweep/tasks/concept.h) reads them. */
isw_concept_data isw_concept_data_of(const isw_concept_cfg *c);

/* ---- a task's memory: shared by the trainer (src/train/concept.c) and the estimate ----
 *
 * A task holds its dictionary, its training set (dense words in single precision) and its
 * evaluation sets (coded words: atom coefficients and one noise term per demonstration, dense
 * query words; include/iclsweep/tasks/concept.h), each prompt with a few bytes of labels. The
 * evaluation sets are kept in memory while they fit in ISW_CONCEPT_EVAL_KEEP_BYTES together (in
 * the order below); a set past that is regenerated from its own random stream at every log point,
 * ISW_CONCEPT_EVAL_CHUNK prompts at a time. Either way it is the same prompts, so the numbers do
 * not depend on which sets are kept (test_concept_regen checks it bit for bit); only memory and
 * time do (regenerating the sets at every log point makes the default task ~2.3x slower). */
enum {
    ISW_CEVAL_TEST,
    ISW_CEVAL_SHORT,
    ISW_CEVAL_LONG,
    ISW_CEVAL_SKEW,
    ISW_CEVAL_SWITCH,
    ISW_CEVAL_CROSS,
    ISW_CEVAL_N
};
#ifndef ISW_CONCEPT_EVAL_KEEP_BYTES /* a build may set it (-D) to test the regenerating path */
#define ISW_CONCEPT_EVAL_KEEP_BYTES (256.0 * 1024 * 1024)
#endif
#define ISW_CONCEPT_EVAL_CHUNK 256

/* Atoms of the word dictionary, 2K + K_irr: a coded word has one coefficient per atom. */
static inline int64_t isw_concept_atoms(const isw_concept_cfg *c) { return 2 * c->K + c->K_irr; }
/* Demonstrations per prompt of evaluation set `set` (ISW_CEVAL_*). */
int64_t isw_concept_eval_L(const isw_concept_cfg *c, int set);
/* Bytes of n prompts of L demonstrations of dimension d over na = 2K + K_irr atoms (words, labels,
 * polarities, concepts), dense (coded 0) or coded (include/iclsweep/tasks/concept.h). */
double isw_concept_prompt_bytes(double n, double L, double d, double na, int coded);
/* Whether evaluation set `set` is kept in memory (1) or regenerated at each log point (0). */
int isw_concept_eval_kept(const isw_concept_cfg *c, int set);

#endif
