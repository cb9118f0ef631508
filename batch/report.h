/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* report.h — what a batch run writes into its output directory: plan.csv (one row per participant),
   summary.json (the headline figures, optimum and greedy side by side), plan.geojson (homes, workplaces and
   each carpool's route both ways, for a map) and report.html (the figures, a map, charts, who is unmatched and
   why, for a mobility manager; its scripts beside it). Every file is written beside its final
   name and renamed into place only once all are whole, so a failed run leaves nothing half-written. */
#ifndef CV_BATCH_REPORT_H
#define CV_BATCH_REPORT_H

#include "util/cv_error.h"
#include "batch/batch.h"

/* Where report.html's files come from: the report's own script and style sheet (batch/report_page), and the npm
   packages Leaflet and Chart.js (a node_modules directory), copied beside it. */
typedef struct cv_report_assets {
    const char *page_dir; /* report.js, report.css */
    const char *npm_dir;  /* leaflet/dist/leaflet.{js,css}, chart.js/dist/chart.umd.js */
} cv_report_assets;

/* 1 when every file the report needs is in a (why, when 0, names the first missing). */
int cv_report_assets_ok(const cv_report_assets *a, char *why, size_t cap);

/* Writes the plan of r (for the participants v, on graph g) into directory dir (made when missing), and the report
   (report.html, report-data.js, report.js, report.css, lib/) when assets is not NULL. */
int cv_batch_write(const char *dir, const cv_graph *g, const cv_person *v, const cv_batch_result *r,
                   const cv_batch_options *o, const cv_report_assets *assets, cv_error *err);

#endif
