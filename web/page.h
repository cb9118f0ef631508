/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* page.h — the map page covoit serve ships (web/page/): what a caller can check before serving it. */
#ifndef CV_PAGE_H
#define CV_PAGE_H

#include <stddef.h>

/* Where Leaflet's files are, relative to the page directory (from `npm ci`); served under /static/leaflet/. */
#define CV_PAGE_LEAFLET_DIR "node_modules/leaflet/dist"

/* Checks that dir holds the page (index.html) and Leaflet (CV_PAGE_LEAFLET_DIR/leaflet.js). Returns 1 when both
   are there; 0 with a one-line reason in msg (at most cap bytes) otherwise, saying what to run. */
int cv_page_ready(const char *dir, char *msg, size_t cap);

#endif
