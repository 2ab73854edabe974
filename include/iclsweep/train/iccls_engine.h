/* The iccls network run over the model's data in the task's precision: a training batch's
 * gradient, and a test set's scores (losses, accuracy, progress measures), in chunks through one
 * workspace. The trainer (src/train/iccls.c) is a loop over these two; the tests call them on
 * known cases (tests/unit/test_iccls_train.c).
 *
 * Precision: the double kernels, or the single-precision ones (include/iclsweep/models/iccls.h),
 * chosen once per engine. Either way the weights stay in double (net), and the scores are sums
 * in double. */
#ifndef ICLSWEEP_TRAIN_ICCLS_ENGINE_H
#define ICLSWEEP_TRAIN_ICCLS_ENGINE_H

#include "iclsweep/core/error.h"
#include "iclsweep/models/iccls.h"
#include "iclsweep/tasks/iccls.h"

typedef struct {
    int f32;  /* 1: the single-precision kernels */
    int Bmax; /* sequences of a chunk */
    isw_iccls_dims dims;
    isw_iccls_work w;     /* double kernels' workspace (f32 = 0) */
    isw_iccls_work32 w32; /* single-precision kernels' workspace and weight copy (f32 = 1) */
    double *X;            /* [Bmax, T, d] a chunk's tokens */
    float *Xf;            /* [Bmax, T, d] the same in float (f32 = 1) */
    double *wide;         /* [Bmax (L + T T + T + d)] logits, a1, a2, h3 widened to double (f32 = 1) */
} isw_iccls_engine;

/* Allocates an engine for chunks of up to Bmax sequences of dims; f32 picks single precision.
 * ISW_EINTERNAL when out of memory (message in err). */
isw_status isw_iccls_engine_alloc(isw_iccls_engine *eng, isw_iccls_dims dims, int Bmax, int f32,
                                  isw_error *err);
void isw_iccls_engine_free(isw_iccls_engine *eng);

/* Sequences first..first+n (n <= Bmax) of set through forward, the loss (scaled by `scale` in the
 * gradient) and backward: adds the gradient into net->grads and returns the sum of the n losses
 * (nats); adds the correct predictions to *n_correct (if not NULL). */
double isw_iccls_engine_gradient(isw_iccls_engine *eng, isw_iccls_net *net, const isw_iccls_task *task,
                                 const isw_iccls_set *set, int first, int n, double scale,
                                 long *n_correct);

/* Scores of a whole set (docs/metrics.md, model iccls): mean loss and accuracy over its n
 * sequences; over its first n_progress (0: none), the progress measures. */
typedef struct {
    double loss; /* mean cross-entropy, nats */
    double acc;  /* fraction whose argmax (the first maximum) is the target */
    double ila1; /* layer-1 attention of each label token on its own item (token before it) */
    double pta1; /* layer-1 attention of each token but the first on the token before it */
    double tla2; /* layer-2 attention of the query on all label tokens */
    double tila2; /* layer-2 attention of the query on the label tokens of its own class */
    double cla;  /* fraction of predictions that are a label present in the context */
    double h3_active; /* fraction of the classifier's last ReLU layer active (> 0) */
} isw_iccls_scores;

isw_iccls_scores isw_iccls_engine_score(isw_iccls_engine *eng, const isw_iccls_net *net,
                                        const isw_iccls_task *task, const isw_iccls_set *set,
                                        int n_progress);

#endif
