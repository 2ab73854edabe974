/* Finishing before the job's time limit.
 *
 * A batch job is killed at its time limit; what a task trained since its last checkpoint is then
 * lost. When the end is known (Slurm's, or --deadline), the master learns how long a task takes
 * per unit of its estimated cost from the work done so far (finished tasks, and the steps of
 * stopped ones), starts a task when what is left of it (its steps after its checkpoint) is
 * predicted to end before the deadline minus a margin, or when it will at least reach a log point
 * before then (and keep its work in a checkpoint), and when that margin is reached stops the tasks
 * in flight at their next log point with a checkpoint, so the run closes its file and exits 3
 * (resume it in the next job) with nothing lost. */
#ifndef ICLSWEEP_SWEEP_DEADLINE_H
#define ICLSWEEP_SWEEP_DEADLINE_H

typedef struct {
    double stop;      /* Unix time after which nothing may run (deadline - margin); 0: no deadline */
    double cost_done; /* estimated cost of the tasks finished in this run */
    double wall_done; /* and their wall time */
    int hit;          /* the deadline kept work from starting or stopped it */
} isw_deadline;

#define ISW_DEADLINE_SAFETY 1.25 /* predicted times are stretched by this before they are trusted */

/* Starts tracking a deadline at Unix time `end` (0: none) with `margin` seconds kept free. */
void isw_deadline_init(isw_deadline *d, double end, double margin);
/* Learns from work of estimated cost `cost` that took `wall` seconds. */
void isw_deadline_learn(isw_deadline *d, double cost, double wall);
/* Whether a task may start now whose part left to train has estimated cost `cost_left`, and whose
 * first log point after its start (a checkpoint) costs `cost_to_log` (0: it cannot checkpoint):
 * always without a deadline, and before anything was learned, while the deadline is not reached. */
int isw_deadline_fits(isw_deadline *d, double cost_left, double cost_to_log);
/* Whether the deadline (minus its margin) has come: tasks in flight must stop. */
int isw_deadline_passed(isw_deadline *d);
/* Wall-clock time (Unix seconds). */
double isw_epoch_now(void);

#endif
