/* Malformed and hostile sweep files: each must be refused by `iclsweep plan` with exit code 2 and
 * a message naming file:line:column and the key, and saying what was found or expected. Also
 * command-line misuse. Nothing here may crash (a signal exit fails the case).
 * Run by hand: ICLSWEEP_BIN=build/iclsweep build/test_bad_sweeps */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

typedef struct {
    const char *yaml;  /* the file's text */
    const char *where; /* "line:col: key:" expected after the file name */
    const char *what;  /* expected elsewhere in the message */
} bad_case;

static const bad_case cases[] = {
    /* keys */
    {"model: concept\nsede: 1\n", "2:1: sede:", "did you mean 'seed'"},
    {"seed: 1\n", "1:1: model:", "missing; expected model: concept|linattn"},
    {"model: concpt\n", "1:8: model:", "did you mean 'concept'"},
    {"model: concept\nfixed: {nois: 0.1}\n", "2:9: fixed.nois:", "did you mean 'noise'"},
    {"model: linattn\ngrid: {d: [1]}\n", "2:8: grid.d:", "did you mean 'D'"},
    {"model: concept\nK: 4\n", "2:1: K:", "model parameters go under fixed, grid or zip"},
    {"model: concept\ngrid:\n  K: [2]\n  K: [4]\n", "4:3: grid.K:", "key appears twice (first at line 3:3)"},
    {"model: concept\nfixed: {K: 2}\ngrid: {K: [2, 4]}\n", "3:8: grid.K:", "already set in fixed at line 2:9"},
    {"model: concept\nfixed: {xyzzy: 1}\n", "2:9: fixed.xyzzy:", "iclsweep params concept"},
    /* values */
    {"model: concept\nfixed:\n  K: abc\n", "3:6: fixed.K:", "expected an integer in [1, 1024], found 'abc'"},
    {"model: concept\nfixed:\n  K: 2.5\n", "3:6: fixed.K:", "found '2.5'"},
    {"model: concept\nfixed:\n  p_poly: 1.5\n", "3:11: fixed.p_poly:", "expected a number in [0, 1]"},
    {"model: concept\nfixed:\n  noise: -0.1\n", "3:10: fixed.noise:", "found '-0.1'"},
    {"model: concept\nfixed:\n  label_map: radnom\n", "3:14: fixed.label_map:", "did you mean 'random'"},
    {"model: concept\nfixed:\n  K: \"4\"\n", "3:6: fixed.K:", "(a quoted string)"},
    {"model: concept\nfixed:\n  K:\n", "3:5: fixed.K:", "found nothing"},
    {"model: concept\nfixed:\n  noise: .nan\n", "3:10: fixed.noise:", "found '.nan'"},
    {"model: concept\nfixed:\n  K: [2, 4]\n", "3:6: fixed.K:", "lists of values belong under grid or zip"},
    {"model: concept\nfixed: [1, 2]\n", "2:8: fixed:", "expected a mapping of parameter: value"},
    {"model: linattn\nfixed: {optimizer: adma}\n", "2:20: fixed.optimizer:", "did you mean 'adam'"},
    /* axes */
    {"model: concept\ngrid:\n  K: 4\n", "3:6: grid.K:", "a single value belongs under fixed"},
    {"model: concept\ngrid:\n  K: []\n", "3:6: grid.K:", "empty list"},
    {"model: concept\ngrid:\n  K: [2, 4, 2]\n", "3:6: grid.K:", "value 2 appears more than once"},
    {"model: concept\ngrid:\n  K: [2, 0]\n", "3:10: grid.K:", "expected an integer in [1, 1024], found '0'"},
    {"model: concept\nzip:\n  d: [32, 64]\n  width: [8]\n", "4:10: zip.width:", "has 1 values but zip.d has 2"},
    {"model: concept\nzip:\n  d: [32, 64, 32]\n  width: [8, 16, 8]\n", "3:3: zip:", "positions 1 and 3 hold the same values"},
    {"model: concept\nzip: 3\n", "2:6: zip:", "expected a mapping of parameter: list"},
    /* generated ranges */
    {"model: concept\ngrid:\n  noise: {linsapce: [0, 1, 3]}\n", "3:11: grid.noise:", "did you mean 'linspace'"},
    {"model: concept\ngrid:\n  lr: {geomspace: [0, 1, 3]}\n", "3:7: grid.lr:", "geomspace endpoints must both be > 0"},
    {"model: concept\ngrid:\n  noise: {linspace: [0, 1, 2.5]}\n", "3:10: grid.noise:", "count n must be an integer"},
    {"model: concept\ngrid:\n  K: {range: [1, 5, 0]}\n", "3:6: grid.K:", "range step must not be 0"},
    {"model: concept\ngrid:\n  K: {range: [0.5, 2, 1]}\n", "3:6: grid.K:", "range expects integers"},
    {"model: concept\ngrid:\n  p_poly: {linspace: [0, 2, 3]}\n", "3:11: grid.p_poly:", "generated value 2 (number 3) is not a number in [0, 1]"},
    {"model: concept\ngrid:\n  noise: {linspace: [0, 1]}\n", "3:21: grid.noise:", "linspace expects a list [lo, hi, n], found a list of 2 items"},
    {"model: concept\ngrid:\n  noise: {linspace: [0, 1, 2], range: [1, 2, 1]}\n", "3:10: grid.noise:", "found a mapping with 2 keys"},
    {"model: concept\ngrid:\n  K: {range: [1, 50, 1]}\n  steps: {geomspace: [100, 110, 30]}\n", "4:10: grid.steps:", "appears more than once after rounding to integers"},
    /* top-level scalars */
    {"model: concept\nreplicates: 0\n", "2:13: replicates:", "expected an integer in [1, 1000000], found '0'"},
    {"model: concept\nseed: -1\n", "2:7: seed:", "expected an integer in [0, 2^64)"},
    {"model: concept\nseed: 18446744073709551616\n", "2:7: seed:", "expected an integer in [0, 2^64)"},
    {"model: concept\nskip_invalid: maybe\n", "2:15: skip_invalid:", "expected true or false"},
    {"model: concept\nname: [a, b]\n", "2:7: name:", "expected a string, found a list of 2 items"},
    /* structure and syntax */
    {"model: concept\ngrid: [1, 2\n", "3:1: (document):", "YAML syntax error"},
    {"model: concept\nfixed:\n\tK: 4\n", "3:1: (document):", "YAML syntax error"},
    {"- model\n- concept\n", "1:1: (document):", "expected a mapping of keys"},
    {"", "1:1: (document):", "the file is empty"},
    {"model: concept\n---\nmodel: linattn\n", "3:1: (document):", "a second YAML document"},
    /* hostile: alias bombs, cycles, huge grids */
    {"a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
     "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
     "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
     "model: concept\n",
     "1:17: (document):", "more than 100000 YAML nodes once aliases are expanded"},
    {"model: concept\nx: &a [*a]\n", "2:4: (document):", "alias bomb or cyclic alias"},
    {"model: concept\ngrid:\n  noise: {linspace: [0, 1, 1000]}\n  lr: {linspace: [1, 2, 1000]}\n"
     "  init: {linspace: [0.1, 1, 1000]}\n",
     "2:1: grid:", "1e+09 tasks (1000 x 1000 x 1000 x replicates 1) exceed the limit of 10000000"},
    {"model: concept\nmax_tasks: 10\ngrid:\n  K: [1, 2, 3, 4]\n  L: [4, 8, 16]\n", "3:1: grid:", "exceed the limit of 10"},
    {"model: concept\ngrid:\n  K: {range: [1, 100000000000, 1]}\n", "3:6: grid.K:", "an axis may have at most 1000000"},
    /* constraints across parameters */
    {"model: concept\nfixed: {d: 16, K: 8}\n", "2:9: d:", "needs d >= 2K + K_irr = 24"},
    {"model: concept\ngrid:\n  width: [16, 17]\n", "3:3: width:", "grid point 1 (width=17) is invalid: width must be even"},
    {"model: concept\nskip_invalid: true\nfixed: {d: 8}\n", "1:1: skip_invalid:", "every one of the 1 grid points is invalid"},
    {"model: linattn\nfixed: {P: 10, batch: 20}\n", "2:16: batch:", "exceeds the training set P"},
};

/* Runs `iclsweep ARGS 2>&1` and returns its exit status (or 128+signal) and output in out. */
static int run(const char *bin, const char *args, char *out, size_t size) {
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "'%s' %s 2>&1", bin, args);
    FILE *p = popen(cmd, "r");
    if (!p) return -1;
    size_t n = fread(out, 1, size - 1, p);
    out[n] = '\0';
    int status = pclose(p);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void write_file(const char *path, const char *text, size_t len) {
    FILE *f = fopen(path, "wb");
    if (!f) return;
    fwrite(text, 1, len, f);
    fclose(f);
}

static void test_cases(const char *bin, const char *dir) {
    char path[512], args[600], out[8192], want[512];
    int n = (int)(sizeof cases / sizeof cases[0]);
    for (int i = 0; i < n; i++) {
        snprintf(path, sizeof path, "%s/case%02d.yaml", dir, i);
        write_file(path, cases[i].yaml, strlen(cases[i].yaml));
        snprintf(args, sizeof args, "plan '%s'", path);
        int rc = run(bin, args, out, sizeof out);
        snprintf(want, sizeof want, "case%02d.yaml:%s", i, cases[i].where);
        CHECK(rc == 2, "case %d: exit %d, want 2; output: %s", i, rc, out);
        CHECK(strstr(out, want) != NULL, "case %d: want '%s' in: %s", i, want, out);
        CHECK(strstr(out, cases[i].what) != NULL, "case %d: want '%s' in: %s", i, cases[i].what, out);
    }
    printf("%d malformed sweep files checked\n", n);
}

/* Files that are bad before YAML: too large, binary, missing, a directory. */
static void test_file_level(const char *bin, const char *dir) {
    char path[512], args[600], out[8192];
    size_t big = (1u << 20) + 10;
    char *text = malloc(big);
    if (!text) return;
    memset(text, '#', big);
    snprintf(path, sizeof path, "%s/big.yaml", dir);
    write_file(path, text, big);
    snprintf(args, sizeof args, "plan '%s'", path);
    CHECK(run(bin, args, out, sizeof out) == 2 && strstr(out, "big.yaml: the file is larger than 1048576 bytes"),
          "oversized file: %s", out);
    free(text);
    snprintf(path, sizeof path, "%s/nul.yaml", dir);
    write_file(path, "model: concept\n\0K: 4\n", 21);
    snprintf(args, sizeof args, "plan '%s'", path);
    CHECK(run(bin, args, out, sizeof out) == 2 && strstr(out, "nul.yaml: the file holds a NUL byte"),
          "NUL byte: %s", out);
    snprintf(args, sizeof args, "plan '%s/missing.yaml'", dir);
    CHECK(run(bin, args, out, sizeof out) == 2 && strstr(out, "missing.yaml: cannot open the sweep file"),
          "missing file: %s", out);
    snprintf(args, sizeof args, "plan '%s'", dir);
    CHECK(run(bin, args, out, sizeof out) == 2 && strstr(out, "cannot read the sweep file"),
          "directory: %s", out);
}

static void test_command_line(const char *bin) {
    char out[8192];
    CHECK(run(bin, "plan", out, sizeof out) == 2 && strstr(out, "missing the sweep file"), "%s", out);
    CHECK(run(bin, "plan x.yaml --list abc", out, sizeof out) == 2 &&
              strstr(out, "--list expects an integer"), "%s", out);
    CHECK(run(bin, "plan x.yaml --frobnicate", out, sizeof out) == 2 &&
              strstr(out, "unknown option '--frobnicate'"), "%s", out);
    CHECK(run(bin, "planx", out, sizeof out) == 2 && strstr(out, "unknown command 'planx'"), "%s", out);
    CHECK(run(bin, "params nosuch", out, sizeof out) == 2 && strstr(out, "unknown model 'nosuch'"), "%s", out);
    CHECK(run(bin, "", out, sizeof out) == 2 && strstr(out, "usage:"), "%s", out);
    CHECK(run(bin, "train x.yaml --format xml", out, sizeof out) == 2 &&
              strstr(out, "--format expects text, csv or jsonl"), "%s", out);
}

int main(void) {
    const char *bin = getenv("ICLSWEEP_BIN");
    if (!bin) {
        fprintf(stderr, "set ICLSWEEP_BIN to the iclsweep program\n");
        return 1;
    }
    char dir[] = "/tmp/iclsweep_bad_XXXXXX";
    if (!mkdtemp(dir)) return 1;
    test_cases(bin, dir);
    test_file_level(bin, dir);
    test_command_line(bin);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
    return check_report("test_bad_sweeps");
}
