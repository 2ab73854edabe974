/* In-context linear regression prompts (docs/science.md section 2, data; Raventos et al. task pool).
 *
 * A prompt holds N context pairs (x_i, y_i) and one query x_q with target y_q, laid out as the
 * paper's token matrix Z [D+1, N+1] (row-major): column i < N is [x_i; y_i], column N is
 * [x_q; 0]. Labels are y = scale * (w . x) + label_noise * N(0, 1), with scale 1/sqrt(D)
 * (y_scale sqrt_d) or 1 (y_scale one). With token correlation c, each feature row of Z (one
 * coordinate across the N+1 tokens) is L g with g ~ N(0, I) and L the Cholesky factor of the
 * equicorrelation matrix (1 on the diagonal, c off it); L has a closed form (every entry below the
 * diagonal of column j equals l_j), so a row costs O(N) rather than O(N^2).
 *
 * Nothing here allocates except isw_linreg_init; a generator is used by one thread. */
#ifndef ICLSWEEP_LINREG_H
#define ICLSWEEP_LINREG_H

#include <stdint.h>

#include "iclsweep/core/error.h"
#include "iclsweep/core/rng.h"

typedef struct {
    int D, N;        /* input dimension, context pairs */
    double scale;    /* y = scale * w.x + noise */
    double noise;    /* label noise standard deviation */
    double corr;     /* token correlation c */
    double *l_diag;  /* [N+1] diagonal of the Cholesky factor L (1 when c = 0) */
    double *l_below; /* [N+1] l_j: every entry of column j of L below the diagonal (0 when c = 0) */
    double *g;       /* [N+1] scratch for one feature row */
} isw_linreg;

/* Prepares a generator. y_scale_one selects scale 1 instead of 1/sqrt(D). Returns ISW_EINPUT
 * if corr is not in [0, 1), ISW_EINTERNAL on allocation failure. Free with isw_linreg_free. */
isw_status isw_linreg_init(isw_linreg *gen, int D, int N, double corr, int y_scale_one,
                           double noise, isw_error *err);
void isw_linreg_free(isw_linreg *gen);

/* Draws a task w [D] ~ N(0, I_D) from rng. */
void isw_linreg_task(isw_rng *rng, int D, double *w /* [D] */);

/* Draws one prompt for task w: fills Z [D+1, N+1] and *yq (the query's noisy target). */
void isw_linreg_prompt(isw_linreg *gen, isw_rng *rng, const double *w /* [D] */,
                       double *Z /* [D+1, N+1] */, double *yq);

/* Draws one prompt whose task is fresh (M == 0) or uniform over pool [M, D] (M > 0). The task
 * used is copied into w_out [D] when w_out is not NULL. */
void isw_linreg_draw(isw_linreg *gen, isw_rng *rng, const double *pool /* [M, D] */, int64_t M,
                     double *Z /* [D+1, N+1] */, double *yq, double *w_out /* [D] */);

#endif
