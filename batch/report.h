/* report.h — what a batch run writes into its output directory: plan.csv (one row per participant),
   summary.json (the headline figures, optimum and greedy side by side) and plan.geojson (homes, workplaces and
   each carpool's route both ways, for a map). Every file is written beside its final
   name and renamed into place only once all are whole, so a failed run leaves nothing half-written. */
#ifndef CV_BATCH_REPORT_H
#define CV_BATCH_REPORT_H

#include "util/cv_error.h"
#include "batch/batch.h"

/* Writes the plan of r (for the participants v, on graph g) into directory dir (made when missing). */
int cv_batch_write(const char *dir, const cv_graph *g, const cv_person *v, const cv_batch_result *r,
                   const cv_batch_options *o, cv_error *err);

#endif
