/* The registry of models (include/iclsweep/model.h): the one list of what `model:` may name. */
#include <stdio.h>
#include <string.h>

#include "iclsweep/model.h"
#include "iclsweep/rng.h"

extern const isw_model_info isw_concept_model;
extern const isw_model_info isw_linattn_model;

static const isw_model_info *const models[] = {&isw_concept_model, &isw_linattn_model};
#define N_MODELS ((int)(sizeof models / sizeof models[0]))

const isw_model_info *isw_model_find(const char *name) {
    for (int i = 0; i < N_MODELS; i++)
        if (strcmp(models[i]->name, name) == 0) return models[i];
    return NULL;
}

int isw_model_count(void) { return N_MODELS; }

const isw_model_info *isw_model_at(int i) { return i >= 0 && i < N_MODELS ? models[i] : NULL; }

const char *isw_model_names(void) {
    /* Built from the list above, so adding a model updates every message that names them. */
    static char names[256];
    if (!names[0])
        for (int i = 0; i < N_MODELS; i++)
            snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", i ? "|" : "",
                     models[i]->name);
    return names;
}

int isw_model_derives(const isw_model_info *m, const char *name) {
    size_t n = strlen(name);
    for (const char *s = m->derived; s && *s;) {
        size_t len = strcspn(s, "|");
        if (len == n && strncmp(s, name, n) == 0) return 1;
        s += len + (s[len] == '|');
    }
    return 0;
}

const char *isw_model_generator(const isw_model_info *m, char *buf, size_t size) {
    snprintf(buf, size, "%s %s", m->version, ISW_RNG_VERSION);
    return buf;
}
