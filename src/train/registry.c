/* The registry of models (include/iclsweep/train/model.h): the one list of what `model:` may
 * name, and what every layer asks of a descriptor. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "iclsweep/core/rng.h"
#include "iclsweep/core/strbuf.h"
#include "iclsweep/train/model.h"

#define ISW_MODEL_ENTRY_(name) &isw_model_##name,
static const isw_model *const models[] = {ISW_MODELS(ISW_MODEL_ENTRY_)};
#define N_MODELS ((int)(sizeof models / sizeof models[0]))

const isw_model *isw_model_find(const char *name) {
    for (int i = 0; i < N_MODELS; i++)
        if (strcmp(models[i]->name, name) == 0) return models[i];
    return NULL;
}

int isw_model_count(void) { return N_MODELS; }

const isw_model *isw_model_at(int i) { return i >= 0 && i < N_MODELS ? models[i] : NULL; }

const char *isw_model_names(void) {
    /* Built from the list above, so adding a model updates every message that names them. */
    static char names[256];
    if (!names[0])
        for (int i = 0; i < N_MODELS; i++)
            snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", i ? "|" : "",
                     models[i]->name);
    return names;
}

/* Whether `name` is one of the '|'-separated words of list. */
static int in_list(const char *list, const char *name) {
    size_t n = strlen(name);
    for (const char *s = list; s && *s;) {
        size_t len = strcspn(s, "|");
        if (len == n && strncmp(s, name, n) == 0) return 1;
        s += len + (s[len] == '|');
    }
    return 0;
}

int isw_model_derives(const isw_model *m, const char *name) { return in_list(m->derived, name); }

const char *isw_model_generator(const isw_model *m, char *buf, size_t size) {
    snprintf(buf, size, "%s %s", m->version, ISW_RNG_VERSION);
    return buf;
}

int isw_model_final_index(const isw_model *m, const char *name) {
    for (int i = 0; i < m->n_final; i++)
        if (strcmp(m->final[i].name, name) == 0) return i;
    return -1;
}

/* The '|'-separated words of list as a JSON array of strings. */
static void json_words(isw_sbuf *b, const char *list) {
    isw_sbuf_printf(b, "[");
    for (const char *s = list; s && *s;) {
        size_t len = strcspn(s, "|");
        char word[128];
        snprintf(word, sizeof word, "%.*s", (int)len, s);
        if (s != list) isw_sbuf_printf(b, ", ");
        isw_sbuf_json_string(b, word);
        s += len + (s[len] == '|');
    }
    isw_sbuf_printf(b, "]");
}

/* "levels" or "marks": [{"column": ..., "label": ..., "metrics" or "axis": ...}, ...] */
static void json_lines(isw_sbuf *b, const char *key, const isw_theory_line *lines, int n, int marks) {
    isw_sbuf_printf(b, ", \"%s\": [", key);
    for (int i = 0; i < n; i++) {
        isw_sbuf_printf(b, "%s{\"column\": ", i ? ", " : "");
        isw_sbuf_json_string(b, lines[i].column);
        isw_sbuf_printf(b, ", \"label\": ");
        isw_sbuf_json_string(b, lines[i].label);
        if (marks) {
            isw_sbuf_printf(b, ", \"axis\": ");
            isw_sbuf_json_string(b, lines[i].on);
        } else {
            isw_sbuf_printf(b, ", \"metrics\": ");
            json_words(b, lines[i].on);
        }
        isw_sbuf_printf(b, "}");
    }
    isw_sbuf_printf(b, "]");
}

isw_status isw_model_theory_json(const isw_model *m, char **json, isw_error *err) {
    isw_sbuf b = {0};
    isw_sbuf_printf(&b, "{\"headline\": {\"metric\": ");
    isw_sbuf_json_string(&b, m->headline);
    isw_sbuf_printf(&b, ", \"level\": ");
    isw_sbuf_json_number(&b, m->headline_level);
    isw_sbuf_printf(&b, "}");
    json_lines(&b, "levels", m->levels, m->n_levels, 0);
    json_lines(&b, "marks", m->marks, m->n_marks, 1);
    isw_sbuf_printf(&b, ", \"baselines\": [");
    for (int i = 0; i < m->n_baselines; i++) {
        isw_sbuf_printf(&b, "%s{\"final\": ", i ? ", " : "");
        isw_sbuf_json_string(&b, m->baselines[i].final);
        isw_sbuf_printf(&b, ", \"label\": ");
        isw_sbuf_json_string(&b, m->baselines[i].label);
        isw_sbuf_printf(&b, ", \"metrics\": ");
        json_words(&b, m->baselines[i].on);
        isw_sbuf_printf(&b, "}");
    }
    isw_sbuf_printf(&b, "]}");
    return isw_sbuf_finish(&b, json, err);
}
