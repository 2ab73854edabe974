/* The registry of trainers: which models can be trained (include/iclsweep/train.h). A model gets
 * a line here when its trainer lands. */
#include <string.h>

#include "iclsweep/train.h"

extern const isw_trainer isw_concept_trainer;
extern const isw_trainer isw_linattn_trainer;

static const isw_trainer *const trainers[] = {&isw_concept_trainer, &isw_linattn_trainer};

const isw_trainer *isw_trainer_find(const char *name) {
    for (unsigned i = 0; i < sizeof trainers / sizeof trainers[0]; i++)
        if (trainers[i] && strcmp(trainers[i]->model->name, name) == 0) return trainers[i];
    return NULL;
}
