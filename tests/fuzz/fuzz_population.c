/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* fuzz_population.c — the participants' CSV of `covoit batch` (batch/population.c, over libcsv): bytes → the reader,
   which must accept or refuse, never crash, hang or leak.

   Refused: the message names the input (and, where a row is at fault, its line). Accepted: every participant
   holds what docs/batch.md promises (a unique id of 1 to 63 bytes, a role, places on the globe, arrive_by before
   leave_at within the day, some day travelled, seats that go with the role, flexibility and detour caps in their
   ranges), and the population written back with cv_population_write and read again is the same. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch/population.h"
#include "batch/synth.h"
#include "fuzz_util.h"

static int by_id(const void *a, const void *b)
{
    return strcmp(((const cv_person *)a)->id, ((const cv_person *)b)->id);
}

static void check_person(const cv_person *p, size_t i)
{
    size_t len = strnlen(p->id, CV_PERSON_ID_MAX);
    if (!len || len >= CV_PERSON_ID_MAX)
        fz_fail("participant %zu: an id of %zu bytes", i, len);
    if ((unsigned)p->role > CV_ROLE_EITHER)
        fz_fail("%s: role %d", p->id, (int)p->role);
    if (p->home.lon < -1800000000 || p->home.lon > 1800000000 || p->home.lat < -900000000 || p->home.lat > 900000000 ||
        p->work.lon < -1800000000 || p->work.lon > 1800000000 || p->work.lat < -900000000 || p->work.lat > 900000000)
        fz_fail("%s: a place off the globe", p->id);
    if (p->arrive_by_s < 0 || p->leave_at_s <= p->arrive_by_s || p->leave_at_s >= 86400)
        fz_fail("%s: arrive_by %d, leave_at %d", p->id, (int)p->arrive_by_s, (int)p->leave_at_s);
    if (!p->days || p->days > 0x7f)
        fz_fail("%s: days %#x", p->id, (unsigned)p->days);
    if (p->seats < 0 || p->seats > CV_PERSON_SEATS_MAX || (p->role == CV_ROLE_PASSENGER && p->seats) ||
        (p->role == CV_ROLE_DRIVER && !p->seats))
        fz_fail("%s: %d seats as a %s", p->id, p->seats, cv_role_name(p->role));
    if (p->flex_s < 0 || p->flex_s > 240 * 60)
        fz_fail("%s: flex %d s", p->id, (int)p->flex_s);
    if (p->max_detour_s != -1 && (p->max_detour_s < 0 || p->max_detour_s > 600 * 60))
        fz_fail("%s: max_detour %d s", p->id, (int)p->max_detour_s);
    if (p->max_detour_pct != -1 && !(p->max_detour_pct >= 0 && p->max_detour_pct <= 1000))
        fz_fail("%s: max_detour_pct %g", p->id, p->max_detour_pct);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cv_person *v = NULL, *back = NULL;
    size_t n = 0, m = 0;
    cv_error err = {0};
    int rc = cv_population_parse("input", (const char *)data, size, &v, &n, &err);
    if (rc) {
        if (rc != CV_EINVAL || strncmp(err.text, "input", 5))
            fz_fail("refused with %d and a message not naming the input: %s", rc, err.text);
        free(v);
        return 0;
    }
    for (size_t i = 0; i < n; i++)
        check_person(&v[i], i);
    cv_person *sorted = malloc((n ? n : 1) * sizeof *sorted);
    if (!sorted)
        fz_fail("out of memory");
    memcpy(sorted, v, n * sizeof *v);
    qsort(sorted, n, sizeof *sorted, by_id);
    for (size_t i = 1; i < n; i++)
        if (!strcmp(sorted[i - 1].id, sorted[i].id))
            fz_fail("id '%s' twice", sorted[i].id);
    free(sorted);
    /* written back and read again: the same people (coordinates to 1e-7 degree, as written) */
    char path[512];
    fz_path(path, sizeof path, "back.csv");
    if (n && (cv_population_write(path, v, n, &err) || cv_population_read(path, &back, &m, &err)))
        fz_fail("the accepted population does not read back: %s", err.text);
    for (size_t i = 0; n && i < n; i++) {
        const cv_person *a = &v[i], *b = &back[i];
        if (m != n || strcmp(a->id, b->id) || a->role != b->role || a->arrive_by_s != b->arrive_by_s ||
            a->leave_at_s != b->leave_at_s || a->days != b->days || a->seats != b->seats || a->flex_s != b->flex_s ||
            a->max_detour_s != b->max_detour_s ||
            (a->max_detour_pct != b->max_detour_pct && fabs(a->max_detour_pct - b->max_detour_pct) > 1e-9) ||
            llabs((long long)a->home.lon - b->home.lon) > 1 || llabs((long long)a->home.lat - b->home.lat) > 1 ||
            llabs((long long)a->work.lon - b->work.lon) > 1 || llabs((long long)a->work.lat - b->work.lat) > 1)
            fz_fail("participant %zu ('%s') changed on its way back", i, a->id);
    }
    free(v), free(back);
    return 0;
}
