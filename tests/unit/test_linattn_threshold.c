/* linattn science check (docs/science.md section 2): with P well above D(D+1) the trained merged model
 * (full-batch Adam, the paper's setting) reaches a test MSE near (D+1)/(N+D+1) with W_11 close to
 * c I, c = c* (N+1)/N, c* = N/(N+D+1) (the model divides by N+1, the formula's c by N); with
 * P well below D(D+1) the test MSE stays above 1 (memorization, no ICL).
 *
 * Run by hand: OPENBLAS_NUM_THREADS=1 build-linattn/tests/test_linattn_threshold */
#include <math.h>
#include <string.h>

#include "check.h"
#include "iclsweep/models/linattn_params.h"
#include "iclsweep/train/model.h"
#include "iclsweep/train/model.h"

static double get(const isw_model *t, const double *f, const char *name) {
    for (int k = 0; k < t->n_final; k++)
        if (!strcmp(t->final[k].name, name)) return f[k];
    return NAN;
}

static void point(int D, int N, int64_t P, double *mse, double *diag, double *off) {
    const isw_model *m = isw_model_find("linattn");
    const isw_model *t = isw_model_find("linattn");
    double vals[64], f[64];
    isw_linattn_cfg c;
    isw_params_defaults(m->params, m->n_params, vals);
    isw_params_to_cfg(m->params, m->n_params, vals, &c);
    c.D = D, c.N = N, c.P = P, c.steps = 3000, c.log_every = 500;
    isw_train_result res;
    isw_error err = {0};
    CHECK(t->train(&c, 2024, NULL, f, &res, &err) == ISW_OK && res.status == ISW_TRAIN_DONE, "%s", err.msg);
    *mse = get(t, f, "test_mse"), *diag = get(t, f, "w11_diag"), *off = get(t, f, "w11_offdiag_rms");
    printf("D=%d N=%d P=%lld (P/D(D+1) = %.2f): test_mse %.4f (theory %.4f, ridge %.4f), w11_diag %.4f, "
           "offdiag rms %.4f, last row rms %.4f, zero modes %.3f\n",
           D, N, (long long)P, (double)P / (D * (D + 1)), *mse, get(t, f, "theory_mse"), get(t, f, "ridge_mse"),
           *diag, *off, get(t, f, "last_row_rms"), get(t, f, "zero_mode_frac"));
}

int main(void) {
    int D = 5, N = 40;
    double mse_star = (D + 1.0) / (N + D + 1.0), c_star = (double)N / (N + D + 1.0);
    double c_w = c_star * (N + 1.0) / N;
    printf("MSE* = %.4f, c* = %.4f (W_11 diagonal %.4f)\n", mse_star, c_star, c_w);
    double mse, diag, off;
    point(D, N, 100 * D * (D + 1), &mse, &diag, &off);
    CHECK(mse < 1.15 * mse_star, "large P: test MSE %g, expected near %g", mse, mse_star);
    CHECK(fabs(diag - c_w) < 0.05 && off < 0.05, "large P: W_11 diag %g off %g, expected %g I", diag, off, c_w);
    point(D, N, D * (D + 1) / 4, &mse, &diag, &off);
    CHECK(mse > 1.0, "small P: test MSE %g should stay above 1", mse);
    return check_report("test_linattn_threshold");
}
