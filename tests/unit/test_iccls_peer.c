/* The C network and the PyTorch peer are the same network: on a shared fixed input written by the
 * peer (tests/data/iccls_peer_fixture.txt: dims, the peer's initial weights, a batch of tokens
 * and targets from the peer's data generator, and the peer's float64 loss, accuracy, logits and
 * autograd gradient of the mean loss), the C forward, loss and backward give the same numbers.
 *
 * Regenerate the fixture (only when the network changes) with
 *   /usr/bin/python3 bench/peers/iccls_peer.py fixture tests/data/iccls_peer_fixture.txt \
 *       N=2 Nmax=3 D=5 L=4 K=8 K_novel=8 B=1 p_B=0.5 p_C=0.4 batch=6 seed=3
 * and run by hand with
 *   ICLSWEEP_SRC=$PWD ./build/tests/test_iccls_peer */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "iclsweep/models/iccls.h"

#define MAX_ARRAYS 64

typedef struct {
    int N, Nmax, D, L, n;
    int count;
    char name[MAX_ARRAYS][32];
    long len[MAX_ARRAYS];
    double *data[MAX_ARRAYS];
} fixture;

/* Reads the fixture: '#' lines, "dims N Nmax D L n", then blocks "name count" of count numbers.
 * Returns 0 on success. */
static int read_fixture(fixture *fx, const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    char line[256];
    memset(fx, 0, sizeof *fx);
    int ok = 0;
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '#') continue;
        if (sscanf(line, "dims %d %d %d %d %d", &fx->N, &fx->Nmax, &fx->D, &fx->L, &fx->n) == 5) {
            ok = 1;
            continue;
        }
        char name[32];
        long len;
        if (sscanf(line, "%31s %ld", name, &len) != 2 || fx->count == MAX_ARRAYS || len <= 0) break;
        int i = fx->count++;
        snprintf(fx->name[i], sizeof fx->name[i], "%s", name);
        fx->len[i] = len;
        fx->data[i] = malloc(sizeof(double) * (size_t)len);
        for (long k = 0; k < len; k++)
            if (fscanf(f, "%lf", &fx->data[i][k]) != 1) ok = 0;
        if (!fgets(line, sizeof line, f)) break; /* the rest of the last number's line */
    }
    fclose(f);
    return ok ? 0 : -1;
}

static const double *get(const fixture *fx, const char *name, long len) {
    for (int i = 0; i < fx->count; i++)
        if (!strcmp(fx->name[i], name)) {
            CHECK(fx->len[i] == len, "fixture array %s has %ld numbers, expected %ld", name, fx->len[i],
                  len);
            return fx->len[i] == len ? fx->data[i] : NULL;
        }
    CHECK(0, "fixture has no array %s", name);
    return NULL;
}

static double max_rel(const double *a, const double *b, long n) {
    double worst = 0.0;
    for (long i = 0; i < n; i++) {
        double sc = fmax(fmax(fabs(a[i]), fabs(b[i])), 1e-3);
        double e = fabs(a[i] - b[i]) / sc;
        worst = e > worst ? e : worst;
    }
    return worst;
}

int main(void) {
    const char *src = getenv("ICLSWEEP_SRC");
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/data/iccls_peer_fixture.txt", src ? src : ".");
    fixture fx;
    if (read_fixture(&fx, path)) {
        CHECK(0, "cannot read the fixture %s (set ICLSWEEP_SRC to the source tree)", path);
        return check_report("test_iccls_peer");
    }
    isw_iccls_dims dims = isw_iccls_dims_of(fx.N, fx.Nmax, fx.D, fx.L);
    int B = fx.n, T = dims.T, d = dims.d, L = dims.L;
    isw_iccls_net net;
    isw_iccls_work w;
    isw_error err;
    CHECK(isw_iccls_alloc(&net, dims, &err) == ISW_OK, "%s", err.msg);
    CHECK(isw_iccls_work_alloc(&w, dims, B, &err) == ISW_OK, "%s", err.msg);
    for (int t = 0; t < isw_iccls_n_tensors(); t++) {
        long n = isw_iccls_tensor_size(&dims, t);
        const double *v = get(&fx, isw_iccls_tensor_name(t), n);
        if (v) memcpy(net.params + isw_iccls_tensor_offset(&dims, t), v, sizeof(double) * (size_t)n);
    }
    const double *X = get(&fx, "tokens", (long)B * T * d), *tg = get(&fx, "target", B);
    const double *loss = get(&fx, "loss", 1), *acc = get(&fx, "acc", 1);
    const double *logits = get(&fx, "logits", (long)B * L);
    if (!X || !tg || !loss || !acc || !logits) return check_report("test_iccls_peer");
    int *target = malloc(sizeof(int) * (size_t)B);
    for (int b = 0; b < B; b++) target[b] = (int)tg[b];

    isw_iccls_forward(&net, &w, X, B);
    long correct = 0;
    double c_loss = isw_iccls_loss(&w, target, B, 1.0 / B, &correct) / B;
    isw_iccls_backward(&net, &w, X, B);
    double el = max_rel(w.logits, logits, (long)B * L);
    printf("fixture N=%d Nmax=%d D=%d L=%d, %d sequences: loss C %.17g peer %.17g; accuracy C %g "
           "peer %g; logits max rel diff %.2e\n", fx.N, fx.Nmax, fx.D, fx.L, B, c_loss, *loss,
           (double)correct / B, *acc, el);
    CHECK(fabs(c_loss - *loss) <= 1e-12 * fabs(*loss), "loss C %.17g vs peer %.17g", c_loss, *loss);
    CHECK(fabs((double)correct / B - *acc) < 1e-12, "accuracy C %g vs peer %g", (double)correct / B,
          *acc);
    CHECK(el < 1e-12, "logits differ: %g", el);
    for (int t = 0; t < isw_iccls_n_tensors(); t++) {
        char name[40];
        snprintf(name, sizeof name, "grad_%s", isw_iccls_tensor_name(t));
        long n = isw_iccls_tensor_size(&dims, t);
        const double *gp = get(&fx, name, n);
        if (!gp) continue;
        double e = max_rel(net.grads + isw_iccls_tensor_offset(&dims, t), gp, n);
        printf("  %-5s gradient max rel diff %.2e\n", isw_iccls_tensor_name(t), e);
        CHECK(e < 1e-10, "gradient of %s: C and peer differ by %g", isw_iccls_tensor_name(t), e);
    }
    free(target);
    for (int i = 0; i < fx.count; i++) free(fx.data[i]);
    isw_iccls_free(&net);
    isw_iccls_work_free(&w);
    return check_report("test_iccls_peer");
}
