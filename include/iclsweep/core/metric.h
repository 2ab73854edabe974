/* An output metric as every layer sees it: its column name, units and meaning. A trainer lists
 * its metrics in X-macro tables (train/); the result file, `iclsweep metrics` and docs/metrics.md
 * are generated from those tables. */
#ifndef ICLSWEEP_METRIC_H
#define ICLSWEEP_METRIC_H

typedef struct {
    const char *name;  /* column name in output: train_loss, test_err, caw, ... */
    const char *units; /* "" when unitless */
    const char *doc;   /* one line: what it measures */
} isw_metric_def;

#endif
