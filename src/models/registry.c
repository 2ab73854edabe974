/* The registry of models (include/iclsweep/model.h): the one list of what `model:` may name. */
#include <stdio.h>
#include <string.h>

#include "iclsweep/model.h"

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
