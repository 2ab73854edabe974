/* The iclsweep program as a user meets it: --help (overall and per command), --version, params and
 * metrics (and docs/params.md, docs/metrics.md, which must equal their --markdown output and be
 * well-formed tables), README's list of models (the registry's, in its order), and `plan` on every
 * example under sweeps/.
 * Run by hand: ICLSWEEP_BIN=build/iclsweep ICLSWEEP_SRC=. build/tests/test_cli */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "check.h"

static char out[1 << 20];

static int run(const char *bin, const char *args) {
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "'%s' %s 2>&1", bin, args);
    FILE *p = popen(cmd, "r");
    if (!p) return -1;
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = '\0';
    int status = pclose(p);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

static void test_help_version_params(const char *bin) {
    CHECK(run(bin, "--help") == 0 && strstr(out, "iclsweep plan") && strstr(out, "exit codes"), "%s", out);
    CHECK(run(bin, "--version") == 0 && strncmp(out, "iclsweep 0.", 11) == 0, "%s", out);
    CHECK(run(bin, "params") == 0 && strstr(out, "model concept") && strstr(out, "model linattn") &&
              strstr(out, "p_poly") && strstr(out, "langevin"), "%s", out);
    CHECK(run(bin, "params linattn") == 0 && !strstr(out, "model concept"), "params MODEL shows one model");
    CHECK(run(bin, "metrics") == 0 && strstr(out, "model concept") && strstr(out, "model linattn") &&
              strstr(out, "test_err") && strstr(out, "traj, final"), "%s", out);
    CHECK(run(bin, "metrics nosuch") == 2 && strstr(out, "unknown model"), "%s", out);
    static const char *const cmds[] = {"plan", "run", "status", "train", "params", "metrics"};
    char args[64];
    for (unsigned i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        snprintf(args, sizeof args, "%s --help", cmds[i]);
        CHECK(run(bin, args) == 0 && strncmp(out, "usage: iclsweep ", 16) == 0 && strstr(out, cmds[i]),
              "%s --help: %s", cmds[i], out);
    }
}

/* Every row of every Markdown table in text has `cols` cells: a bare | inside a cell (a choice
 * list, say) would split it. */
static void check_table_rows(const char *name, const char *text, int cols) {
    int rows = 0;
    for (const char *line = text; *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : line + strlen(line)) {
        if (line[0] != '|') continue;
        int bars = 0;
        for (const char *c = line; *c && *c != '\n'; c++)
            if (*c == '|' && (c == line || c[-1] != '\\')) bars++;
        CHECK(bars == cols + 1, "%s: a table row has %d cells, want %d: %.80s", name, bars - 1, cols, line);
        rows++;
    }
    CHECK(rows > 10, "%s: only %d table rows", name, rows);
}

/* docs/NAME.md equals `iclsweep NAME --markdown`, and its tables have `cols` cells a row. */
static void test_docs_match(const char *bin, const char *src, const char *name, int cols) {
    char path[1024], args[64];
    snprintf(path, sizeof path, "%s/docs/%s.md", src, name);
    FILE *f = fopen(path, "rb");
    CHECK(f != NULL, "docs/%s.md is missing", name);
    if (!f) return;
    static char doc[1 << 20];
    size_t n = fread(doc, 1, sizeof doc - 1, f);
    doc[n] = '\0';
    fclose(f);
    snprintf(args, sizeof args, "%s --markdown", name);
    CHECK(run(bin, args) == 0, "%s", args);
    CHECK(strcmp(out, doc) == 0, "docs/%s.md differs from `iclsweep %s`; regenerate it with "
          "build/iclsweep %s > docs/%s.md", name, args, args, name);
    check_table_rows(path, doc, cols);
}

/* README's introduction lists the models as bullets "- `NAME`: ...", one per model of the registry
 * (as `iclsweep params` names them, "model NAME: ..."), in the registry's order. */
static void test_readme_models(const char *bin, const char *src) {
    char path[1024], want[1024] = "", got[1024] = "";
    CHECK(run(bin, "params") == 0, "params");
    for (const char *l = out; (l = strstr(l, "model ")); l++)
        if (l == out || l[-1] == '\n')
            snprintf(want + strlen(want), sizeof want - strlen(want), "%.*s ", (int)strcspn(l + 6, ":"), l + 6);
    snprintf(path, sizeof path, "%s/README.md", src);
    FILE *f = fopen(path, "rb");
    CHECK(f != NULL, "README.md is missing");
    if (!f) return;
    static char doc[1 << 20];
    size_t n = fread(doc, 1, sizeof doc - 1, f);
    doc[n] = '\0';
    fclose(f);
    char *end = strstr(doc, "\n## ");
    if (end) *end = '\0'; /* the introduction only */
    for (const char *l = doc; (l = strstr(l, "\n- `")); l++)
        snprintf(got + strlen(got), sizeof got - strlen(got), "%.*s ", (int)strcspn(l + 4, "`"), l + 4);
    CHECK(strlen(want) > 0 && strcmp(want, got) == 0,
          "README.md's introduction lists the models [%s], the registry has [%s]", got, want);
}

static void test_plan_examples(const char *bin, const char *src) {
    char dir[1024], args[2048];
    snprintf(dir, sizeof dir, "%s/sweeps", src);
    DIR *d = opendir(dir);
    CHECK(d != NULL, "no sweeps/ folder");
    if (!d) return;
    int seen = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len < 6 || strcmp(e->d_name + len - 5, ".yaml")) continue;
        snprintf(args, sizeof args, "plan '%s/%s' --list 3", dir, e->d_name);
        int rc = run(bin, args);
        CHECK(rc == 0 && strstr(out, "tasks: "), "plan %s: exit %d: %s", e->d_name, rc, out);
        seen++;
    }
    closedir(d);
    CHECK(seen >= 1, "at least the demo sweep");
    printf("planned %d example sweeps\n", seen);
}

int main(void) {
    const char *bin = getenv("ICLSWEEP_BIN"), *src = getenv("ICLSWEEP_SRC");
    if (!bin || !src) {
        fprintf(stderr, "set ICLSWEEP_BIN and ICLSWEEP_SRC\n");
        return 1;
    }
    test_help_version_params(bin);
    test_docs_match(bin, src, "params", 6);
    test_docs_match(bin, src, "metrics", 4);
    test_readme_models(bin, src);
    test_plan_examples(bin, src);
    return check_report("test_cli");
}
