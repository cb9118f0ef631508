/* test_batch.c — offline batch matching on the Monaco extract: the participants' CSV and its errors; the optimal
   plan against a brute force over every set of carpools of small random populations (pairs found without the
   planner's grid and bounds); every carpool re-checked with routes of its own; greedy never above the optimum. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "batch/batch.h"
#include "batch/synth.h"
#include "routing/ch.h"
#include "test_support.h"

static cv_graph *g;

static int setup(void **state)
{
    (void)state;
    g = tst_build_graph(COVOIT_TEST_DATA "/monaco.osm.pbf", "batch_monaco.cvg");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    cv_graph_close(g);
    return 0;
}

#define HEAD "id,role,home_lon,home_lat,work_lon,work_lat,arrive_by,leave_at,days,seats\n"

static void parse_fails(const char *text, const char *expect)
{
    cv_person *v = NULL;
    size_t n = 0;
    cv_error err = {0};
    int rc = cv_population_parse("p.csv", text, strlen(text), &v, &n, &err);
    if (rc != CV_EINVAL || !strstr(err.text, expect))
        fail_msg("expected an error saying '%s', got %d '%s' for:\n%s", expect, rc, err.text, text);
    assert_null(v);
}

static void test_csv(void **state)
{
    (void)state;
    const char *good = "\xEF\xBB\xBF" HEAD "a,driver,7.4165,43.7310,7.4360,43.7470,09:00,17:30,\"mon,tue,wed\",3\n"
                       "\"b, the second\",passenger,7.4180,43.7325,7.4350,43.7460,8:45,17:30,mon-fri,\n"
                       "c,EITHER,7.42,43.735,7.436,43.7465,08:55,17:35,sat sun,2\n";
    cv_person *v = NULL;
    size_t n = 0;
    cv_error err = {0};
    if (cv_population_parse("p.csv", good, strlen(good), &v, &n, &err))
        fail_msg("%s", err.text);
    assert_int_equal(n, 3);
    assert_string_equal(v[1].id, "b, the second");
    assert_int_equal(v[0].role, CV_ROLE_DRIVER);
    assert_int_equal(v[1].role, CV_ROLE_PASSENGER);
    assert_int_equal(v[2].role, CV_ROLE_EITHER);
    assert_int_equal(v[0].days, 0x07);
    assert_int_equal(v[1].days, 0x1f);
    assert_int_equal(v[2].days, 0x60);
    assert_int_equal(v[1].arrive_by_s, 8 * 3600 + 45 * 60);
    assert_int_equal(v[0].seats, 3);
    assert_int_equal(v[1].seats, 0);
    assert_int_equal(v[0].flex_s, 900);
    assert_int_equal(v[0].max_detour_s, -1);
    assert_int_equal(v[2].line, 4);
    free(v);
    const char *optional = "id,role,home_lon,home_lat,work_lon,work_lat,arrive_by,leave_at,days,seats,flex_min,"
                           "max_detour_min,max_detour_pct\n"
                           "a,driver,7.4165,43.7310,7.4360,43.7470,09:00,17:30,mon,3,30,10,40\n";
    if (cv_population_parse("p.csv", optional, strlen(optional), &v, &n, &err))
        fail_msg("%s", err.text);
    assert_int_equal(v[0].flex_s, 1800);
    assert_int_equal(v[0].max_detour_s, 600);
    assert_true(v[0].max_detour_pct == 40);
    free(v);

    /* every kind of bad line, named by line and column */
    parse_fails("", "p.csv:1: empty");
    parse_fails(HEAD, "no participant");
    parse_fails("id,role,home_lon\n", "no column 'home_lat'");
    parse_fails("id,role,home_lon,home_lat,work_lon,work_lat,arrive_by,leave_at,days,seats,colour\n", "p.csv:1:11: "
                                                                                                      "unknown column "
                                                                                                      "'colour'");
    parse_fails("id,id,home_lon,home_lat,work_lon,work_lat,arrive_by,leave_at,days,seats\n", "column 'id' twice");
    parse_fails(HEAD "a,driver,7.4165,43.7310,7.4360,43.7470,09:00,17:30,mon\n", "p.csv:2: 9 values, the header names "
                                                                                 "10");
    parse_fails(HEAD "a,pilot,7.4165,43.7310,7.4360,43.7470,09:00,17:30,mon,3\n",
                "p.csv:2:2: column 2 (role): 'pilot' is not driver, passenger or either");
    parse_fails(HEAD "a,driver,7.4x,43.7310,7.4360,43.7470,09:00,17:30,mon,3\n",
                "p.csv:2:3: column 3 (home_lon): '7.4x' is not a number");
    parse_fails(HEAD "a,driver,7.4165,93.7310,7.4360,43.7470,09:00,17:30,mon,3\n", "p.csv:2:4: column 4 (home_lat): "
                                                                                   "93.731 is out of range");
    parse_fails(HEAD "a,driver,7.4165,43.7310,7.4360,43.7470,25:00,17:30,mon,3\n",
                "p.csv:2:7: column 7 (arrive_by): '25:00' is not a time of day");
    parse_fails(HEAD "a,driver,7.4165,43.7310,7.4360,43.7470,09:00,08:30,mon,3\n", "p.csv:2:8: column 8 (leave_at): "
                                                                                   "leaves work (08:30) before");
    parse_fails(HEAD "a,driver,7.4165,43.7310,7.4360,43.7470,09:00,17:30,funday,3\n",
                "p.csv:2:9: column 9 (days): 'funday' is not a list of weekdays");
    parse_fails(HEAD "a,driver,7.4165,43.7310,7.4360,43.7470,09:00,17:30,mon,0\n",
                "p.csv:2:10: column 10 (seats): a driver needs the passenger seats");
    parse_fails(HEAD "a,passenger,7.4165,43.7310,7.4360,43.7470,09:00,17:30,mon,2\n",
                "p.csv:2:10: column 10 (seats): a passenger has no car");
    parse_fails(HEAD "a,driver,7.4165,43.7310,7.4360,43.7470,09:00,17:30,mon,3\n"
                     "b,passenger,7.4165,43.7310,7.4360,43.7470,09:00,17:30,mon,\n"
                     "a,passenger,7.4165,43.7310,7.4360,43.7470,09:00,17:30,mon,\n",
                "p.csv:4:1: column 1 (id): id 'a' is also on line 2");
    parse_fails(HEAD "a,driver,7.4165,43.7310,7.4165,43.7310,09:00,17:30,mon,3\n", "work is home");
    parse_fails(HEAD "\"a,driver,7.4165,43.7310,7.4360,43.7470,09:00,17:30,mon,3\n", "a quote left open");
    parse_fails(HEAD ",driver,7.4165,43.7310,7.4360,43.7470,09:00,17:30,mon,3\n", "p.csv:2:1: column 1 (id): an id");
}

/* --- small random populations: the optimum against a brute force --- */

static const double centres[][2] = {{7.4165, 43.7310}, {7.4275, 43.7396}, {7.4215, 43.7350}, {7.4360, 43.7470}};

static cv_coord near_centre(uint64_t *rng, int c, double radius_m)
{
    cv_snap_options so = cv_snap_defaults();
    so.stop_only = 1;
    for (;;) {
        double dx = ((double)(tst_rand(rng) % 2001) / 1000.0 - 1) * radius_m;
        double dy = ((double)(tst_rand(rng) % 2001) / 1000.0 - 1) * radius_m;
        cv_coord p = {cv_fixed(centres[c][0] + dx / 80500.0), cv_fixed(centres[c][1] + dy / 111195.0)};
        cv_snap s;
        if (!cv_snap_point(g, p, &so, &s, NULL))
            return s.location;
    }
}

static void random_population(uint64_t *rng, cv_person *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        cv_person *p = &v[i];
        memset(p, 0, sizeof *p);
        snprintf(p->id, sizeof p->id, "p%zu", i);
        int r = (int)(tst_rand(rng) % 3);
        p->role = r == 0 ? CV_ROLE_DRIVER : r == 1 ? CV_ROLE_PASSENGER : CV_ROLE_EITHER;
        p->seats = p->role == CV_ROLE_PASSENGER ? 0 : 1 + (int)(tst_rand(rng) % 3);
        int h = (int)(tst_rand(rng) % 2) * 2, w = 1 + (int)(tst_rand(rng) % 2) * 2;
        if (tst_rand(rng) % 5 == 0) /* some go the other way */
            h = 3 - h, w = 3 - w;
        p->home = near_centre(rng, h, 250);
        p->work = near_centre(rng, w, 200);
        p->arrive_by_s = 8 * 3600 + (int32_t)(tst_rand(rng) % 3) * 600;
        p->leave_at_s = 17 * 3600 + (int32_t)(tst_rand(rng) % 3) * 600;
        p->days = (uint8_t)(0x1f & ~(tst_rand(rng) % 2 ? 1u << (tst_rand(rng) % 5) : 0));
        p->flex_s = 900 + (int32_t)(tst_rand(rng) % 3) * 600;
        p->max_detour_s = -1;
        /* Monaco's trips are short and its streets one-way: detours of 25 % would rarely let anyone share */
        p->max_detour_pct = tst_rand(rng) % 4 == 0 ? -1 : 80 + (double)(tst_rand(rng) % 3) * 60;
        p->line = (int)i + 2;
    }
}

static cv_cost cost_of(cv_ch_query *q, const cv_snap *a, const cv_snap *b)
{
    cv_table_cell c;
    if (cv_ch_cost(q, a, b, &c))
        return (cv_cost){CV_UNREACHABLE, CV_UNREACHABLE};
    return (cv_cost){c.duration_ds, c.distance_dm};
}

/* The best total weight of a matching of the nodes not in `used`, by brute force. */
static int64_t best_matching(const int64_t *w, int n, unsigned used)
{
    int i = 0;
    while (i < n && (used >> i & 1))
        i++;
    if (i == n)
        return 0;
    int64_t best = best_matching(w, n, used | 1u << i); /* i alone */
    for (int j = i + 1; j < n; j++)
        if (!(used >> j & 1) && w[i * n + j] > 0) {
            int64_t v = w[i * n + j] + best_matching(w, n, used | 1u << i | 1u << j);
            if (v > best)
                best = v;
        }
    return best;
}

static int64_t plan_weight(const cv_batch_plan *p, cv_objective obj)
{
    int64_t s = 0;
    for (size_t k = 0; k < p->ncarpools; k++)
        s += (obj == CV_OBJECTIVE_MATCHED ? 1000000000000LL : 0) + p->carpools[k].saved_dm;
    return s;
}

/* A carpool checked with routes of its own: the costs, the windows, the detour limits, the days. */
static void recheck(cv_ch_query *q, const cv_person *v, const cv_batch_result *r, const cv_carpool *c)
{
    const cv_person *d = &v[c->driver], *p = &v[c->passenger];
    const cv_batch_person *dx = &r->people[c->driver], *px = &r->people[c->passenger];
    assert_true(cv_person_drives(d) && cv_person_rides(p));
    assert_int_equal(c->days, d->days & p->days);
    assert_true(c->days != 0);
    cv_path path = {0};
    cv_error err = {0};
    int64_t legs[3];
    const cv_snap *out_stops[4] = {&dx->home, &px->home, &px->work, &dx->work};
    int64_t out_ds = 0, out_dm = 0;
    for (int k = 0; k < 3; k++) {
        assert_int_equal(cv_ch_route(q, out_stops[k], out_stops[k + 1], &path, &err), 0);
        legs[k] = (path.duration_ds + 5) / 10;
        out_ds += path.duration_ds, out_dm += path.distance_dm;
        cv_path_free(&path);
    }
    /* the times the plan gives follow the legs, and the windows hold */
    assert_true(llabs(c->out_pickup - (c->out_depart + legs[0])) <= 1);
    assert_true(llabs(c->out_drop - (c->out_pickup + legs[1])) <= 1);
    assert_true(llabs(c->out_arrive - (c->out_drop + legs[2])) <= 1);
    assert_true(c->out_drop >= p->arrive_by_s - p->flex_s - 1 && c->out_drop <= p->arrive_by_s + 1);
    assert_true(c->out_arrive >= d->arrive_by_s - d->flex_s - 1 && c->out_arrive <= d->arrive_by_s + 1);
    const cv_snap *back_stops[4] = {&dx->work, &px->work, &px->home, &dx->home};
    int64_t back_ds = 0, back_dm = 0;
    for (int k = 0; k < 3; k++) {
        assert_int_equal(cv_ch_route(q, back_stops[k], back_stops[k + 1], &path, &err), 0);
        legs[k] = (path.duration_ds + 5) / 10;
        back_ds += path.duration_ds, back_dm += path.distance_dm;
        cv_path_free(&path);
    }
    assert_true(llabs(c->back_pickup - (c->back_depart + legs[0])) <= 1);
    assert_true(c->back_depart >= d->leave_at_s && c->back_depart <= d->leave_at_s + d->flex_s);
    assert_true(c->back_pickup >= p->leave_at_s - 1 && c->back_pickup <= p->leave_at_s + p->flex_s + 1);
    /* the driver's detour, each way, within the limits */
    double pct = (d->max_detour_pct >= 0 ? d->max_detour_pct : 25) / 100.0;
    assert_true(out_ds - dx->out.ds <= pct * dx->out.ds + 1);
    assert_true(out_dm - dx->out.dm <= pct * dx->out.dm + 1);
    assert_true(back_ds - dx->back.ds <= pct * dx->back.ds + 1);
    assert_true(back_dm - dx->back.dm <= pct * dx->back.dm + 1);
    /* and what it saves */
    int days = 0;
    for (int k = 0; k < 7; k++)
        days += c->days >> k & 1;
    int64_t saved = days * ((int64_t)px->out.dm + px->back.dm - (out_dm > dx->out.dm ? out_dm - dx->out.dm : 0) -
                            (back_dm > dx->back.dm ? back_dm - dx->back.dm : 0));
    assert_true(llabs(saved - c->saved_dm) <= 7);
}

static void exactness(cv_objective obj, uint64_t seed, int rounds)
{
    uint64_t rng = seed;
    cv_ch_query *q = cv_ch_query_new(g);
    assert_non_null(q);
    int pairs_seen = 0, greedy_below = 0;
    for (int round = 0; round < rounds; round++) {
        int n = 6 + (int)(tst_rand(&rng) % 7); /* 6 to 12 */
        cv_person v[12];
        random_population(&rng, v, (size_t)n);
        cv_batch_options o = cv_batch_defaults();
        o.objective = obj;
        cv_batch_result r;
        cv_error err = {0};
        if (cv_batch_run(g, v, (size_t)n, &o, NULL, &r, &err))
            fail_msg("%s", err.text);
        /* the pairs without the planner's grid and bounds: every ordered pair, its own costs */
        int64_t w[144] = {0};
        for (int d = 0; d < n; d++)
            for (int p = 0; p < n; p++) {
                if (d == p || !cv_person_drives(&v[d]) || !cv_person_rides(&v[p]))
                    continue;
                const cv_batch_person *dx = &r.people[d], *px = &r.people[p];
                cv_carpool c;
                if (!cv_batch_pair(&v[d], dx, &v[p], px, cost_of(q, &dx->home, &px->home),
                                   cost_of(q, &px->work, &dx->work), cost_of(q, &dx->work, &px->work),
                                   cost_of(q, &px->home, &dx->home), &o, &c))
                    continue;
                pairs_seen++;
                int64_t x = (obj == CV_OBJECTIVE_MATCHED ? 1000000000000LL : 0) + c.saved_dm;
                int a = d < p ? d : p, b = d < p ? p : d;
                if (x > w[a * n + b])
                    w[a * n + b] = x;
            }
        int64_t brute = best_matching(w, n, 0);
        int64_t opt = plan_weight(&r.optimal, obj), greedy = plan_weight(&r.greedy, obj);
        if (opt != brute)
            fail_msg("round %d (n %d): the plan's weight %lld, the brute force's %lld", round, n, (long long)opt,
                     (long long)brute);
        assert_true(greedy <= opt);
        greedy_below += greedy < opt;
        for (size_t k = 0; k < r.optimal.ncarpools; k++)
            recheck(q, v, &r, &r.optimal.carpools[k]);
        for (size_t k = 0; k < r.greedy.ncarpools; k++)
            recheck(q, v, &r, &r.greedy.carpools[k]);
        /* each participant in at most one carpool, and the reasons of the others */
        for (int i = 0; i < n; i++) {
            int in = 0;
            for (size_t k = 0; k < r.optimal.ncarpools; k++)
                in += r.optimal.carpools[k].driver == (uint32_t)i || r.optimal.carpools[k].passenger == (uint32_t)i;
            assert_true(in <= 1);
            assert_int_equal(in == 1, r.people[i].why == CV_WHY_MATCHED);
        }
        cv_batch_result_free(&r);
    }
    cv_ch_query_free(q);
    print_message("%d rounds: %d feasible pairs, greedy below the optimum in %d\n", rounds, pairs_seen, greedy_below);
    assert_true(pairs_seen > rounds); /* the populations do share trips: the test compares something */
}

static void test_optimal_km(void **state)
{
    (void)state;
    exactness(CV_OBJECTIVE_KM, 20261207, 40);
}

static void test_optimal_matched(void **state)
{
    (void)state;
    exactness(CV_OBJECTIVE_MATCHED, 7, 25);
}

static void test_off_the_roads(void **state)
{
    (void)state;
    const char *text = HEAD "a,driver,7.4165,43.7310,7.4360,43.7470,09:00,17:30,mon,3\n"
                            "b,passenger,7.5000,43.6500,7.4350,43.7460,09:00,17:30,mon,\n";
    cv_person *v = NULL;
    size_t n = 0;
    cv_error err = {0};
    assert_int_equal(cv_population_parse("p.csv", text, strlen(text), &v, &n, &err), 0);
    cv_batch_options o = cv_batch_defaults();
    cv_batch_result r;
    assert_int_equal(cv_batch_run(g, v, n, &o, NULL, &r, &err), CV_ENOSEGMENT);
    assert_non_null(strstr(err.text, "line 3: participant 'b': the home"));
    o.max_passengers = 2;
    assert_int_equal(cv_batch_run(g, v, n, &o, NULL, &r, &err), CV_EINVAL);
    free(v);
}

static int run_batch(const char *csv_path, const char *out_dir)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "%s batch --graph %s/batch_monaco.cvg --in %s --out %s >/dev/null 2>%s.err", COVOIT_BIN,
             COVOIT_TMP, csv_path, out_dir, csv_path);
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static char *read_text(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    char *buf = calloc(1, 65536);
    size_t n = fread(buf, 1, 65535, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

/* The command as an operator runs it: the files written, or with a bad row nothing at all and exit 2. */
static void test_command(void **state)
{
    (void)state;
    char csv[1024], out[1024], path[1200];
    snprintf(csv, sizeof csv, "%s/batch_people.csv", COVOIT_TMP);
    snprintf(out, sizeof out, "%s/batch_out", COVOIT_TMP);
    snprintf(path, sizeof path, "rm -rf %s", out);
    assert_int_equal(system(path), 0);
    write_text(csv, HEAD "d1,driver,7.4165,43.7310,7.4360,43.7470,09:00,17:30,\"mon,tue,wed,thu,fri\",3\n"
                         "p1,passenger,7.4180,43.7325,7.4350,43.7460,09:00,17:30,\"mon,tue,wed,thu,fri\",\n"
                         "p4,passenger,7.4100,43.7280,7.4400,43.7500,07:00,15:00,sat,\n");
    assert_int_equal(run_batch(csv, out), 0);
    snprintf(path, sizeof path, "%s/plan.csv", out);
    char *plan = read_text(path);
    assert_non_null(plan);
    assert_non_null(strstr(plan, "\"id\",\"carpool\",\"role\",\"driver\""));
    assert_non_null(strstr(plan, "\"p1\",\"1\",\"passenger\",\"d1\""));
    assert_non_null(strstr(plan, "\"p4\",\"\""));
    free(plan);
    snprintf(path, sizeof path, "%s/summary.json", out);
    char *sum = read_text(path);
    assert_non_null(sum);
    assert_non_null(strstr(sum, "\"participants\": 3"));
    assert_non_null(strstr(sum, "\"proven_optimal\": true"));
    assert_non_null(strstr(sum, "\"greedy\""));
    free(sum);
    snprintf(path, sizeof path, "%s/plan.geojson", out);
    char *geo = read_text(path);
    assert_non_null(geo);
    assert_non_null(strstr(geo, "\"type\":\"FeatureCollection\""));
    assert_non_null(strstr(geo, "\"LineString\""));
    assert_non_null(strstr(geo, "\"way\":\"back\""));
    free(geo);
    /* the report and what it loads, beside it (the browser test opens it) */
    snprintf(path, sizeof path, "%s/report.html", out);
    char *html = read_text(path);
    assert_non_null(html);
    assert_non_null(strstr(html, "<td class=\"best\" id=\"carpools\">1</td>"));
    assert_non_null(strstr(html, "OpenStreetMap"));
    free(html);
    static const char *const beside[] = {"report-data.js", "report.js",       "report.css",
                                         "lib/leaflet.js", "lib/leaflet.css", "lib/chart.umd.js"};
    for (size_t i = 0; i < sizeof beside / sizeof *beside; i++) {
        snprintf(path, sizeof path, "%s/%s", out, beside[i]);
        assert_int_equal(access(path, R_OK), 0);
    }
    /* a bad row: exit 2, the error names it, the directory is left as it was */
    char out2[1100];
    snprintf(out2, sizeof out2, "%s2", out);
    snprintf(path, sizeof path, "rm -rf %s", out2);
    assert_int_equal(system(path), 0);
    write_text(csv, HEAD "d1,driver,7.4165,43.7310,7.4360,43.7470,9h,17:30,mon,3\n");
    assert_int_equal(run_batch(csv, out2), 2);
    char bad_threads[4096];
    snprintf(bad_threads, sizeof bad_threads,
             "%s batch --graph %s/batch_monaco.cvg --in %s --out %s --threads 0 2>/dev/null", COVOIT_BIN, COVOIT_TMP,
             csv, out2);
    int st = system(bad_threads);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 2);
    snprintf(path, sizeof path, "%s.err", csv);
    char *msg = read_text(path);
    assert_non_null(msg);
    assert_non_null(strstr(msg, "batch_people.csv:2:7: column 7 (arrive_by)"));
    free(msg);
    snprintf(path, sizeof path, "%s/plan.csv", out2);
    assert_int_equal(access(path, F_OK), -1);
    /* a place off the roads: exit 2 naming the participant's line */
    write_text(csv, HEAD "d1,driver,7.4165,43.7310,7.4360,43.7470,09:00,17:30,mon,3\n"
                         "p1,passenger,7.5000,43.6500,7.4350,43.7460,09:00,17:30,mon,\n");
    assert_int_equal(run_batch(csv, out2), 2);
    assert_int_equal(access(path, F_OK), -1);
}

/* The synthetic population: the same seed gives the same people, written and read back unchanged, on the roads,
   and they do share trips. */
static void test_synth(void **state)
{
    (void)state;
    cv_synth_options so = cv_synth_defaults();
    so.seed = 42;
    so.centre_m = 300;
    so.min_trip_m = 800;
    cv_person *a = NULL, *b = NULL, *back = NULL;
    cv_error err = {0};
    if (cv_population_synth(g, 60, &so, &a, &err) || cv_population_synth(g, 60, &so, &b, &err))
        fail_msg("%s", err.text);
    assert_memory_equal(a, b, 60 * sizeof *a);
    char path[1024];
    snprintf(path, sizeof path, "%s/batch_synth.csv", COVOIT_TMP);
    assert_int_equal(cv_population_write(path, a, 60, &err), 0);
    size_t n = 0;
    if (cv_population_read(path, &back, &n, &err))
        fail_msg("%s", err.text);
    assert_int_equal(n, 60);
    int roles[3] = {0};
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(back[i].id, a[i].id);
        assert_int_equal(back[i].role, a[i].role);
        assert_true(labs((long)back[i].home.lon - a[i].home.lon) <= 1 &&
                    labs((long)back[i].work.lat - a[i].work.lat) <= 1);
        assert_int_equal(back[i].arrive_by_s, a[i].arrive_by_s);
        assert_int_equal(back[i].leave_at_s, a[i].leave_at_s);
        assert_int_equal(back[i].days, a[i].days);
        assert_int_equal(back[i].seats, a[i].seats);
        assert_int_equal(back[i].flex_s, a[i].flex_s);
        assert_true(cv_distance_m(a[i].home, a[i].work) >= 800);
        roles[a[i].role]++;
    }
    assert_true(roles[0] > 0 && roles[1] > 0 && roles[2] > 0);
    so.seed = 43;
    free(b);
    if (cv_population_synth(g, 60, &so, &b, &err))
        fail_msg("%s", err.text);
    assert_memory_not_equal(a, b, 60 * sizeof *a);
    cv_batch_options o = cv_batch_defaults();
    cv_batch_result r;
    if (cv_batch_run(g, back, n, &o, NULL, &r, &err))
        fail_msg("%s", err.text);
    print_message("60 synthetic commuters on Monaco: %zu feasible pairs, %zu carpools (greedy %zu)\n", r.pairs,
                  r.optimal.ncarpools, r.greedy.ncarpools);
    assert_true(r.optimal.figures.km_saved_week >= r.greedy.figures.km_saved_week);
    /* the same plan on one thread and on three as on one per core */
    for (int t = 1; t <= 3; t += 2) {
        cv_batch_result r2;
        o.threads = t;
        if (cv_batch_run(g, back, n, &o, NULL, &r2, &err))
            fail_msg("%s", err.text);
        assert_int_equal(r2.pairs, r.pairs);
        assert_int_equal(r2.routes, r.routes);
        assert_int_equal(r2.optimal.ncarpools, r.optimal.ncarpools);
        for (size_t k = 0; k < r.optimal.ncarpools; k++) {
            assert_int_equal(r2.optimal.carpools[k].driver, r.optimal.carpools[k].driver);
            assert_int_equal(r2.optimal.carpools[k].passenger, r.optimal.carpools[k].passenger);
        }
        assert_true(r2.optimal.figures.km_saved_week == r.optimal.figures.km_saved_week);
        cv_batch_result_free(&r2);
    }
    cv_batch_result_free(&r);
    free(a), free(b), free(back);
}

/* Every synthetic commuter has a road route from home to work and back: a place that snapped to an island of the
   road network (no edge of the main one within 300 m) made `covoit batch` refuse a whole population (seed 7 on
   Monaco: its 12th commuter's workplace). */
static void test_synth_routable(void **state)
{
    (void)state;
    cv_synth_options so = cv_synth_defaults();
    so.seed = 7;
    cv_person *v = NULL;
    cv_error err = {0};
    if (cv_population_synth(g, 200, &so, &v, &err))
        fail_msg("%s", err.text);
    cv_ch_query *q = cv_ch_query_new(g);
    assert_non_null(q);
    cv_snap_options o = cv_snap_defaults();
    o.stop_only = 1;
    for (size_t i = 0; i < 200; i++) {
        cv_snap h, w;
        assert_int_equal(cv_snap_point(g, v[i].home, &o, &h, NULL), 0);
        assert_int_equal(cv_snap_point(g, v[i].work, &o, &w, NULL), 0);
        cv_cost out = cost_of(q, &h, &w), back = cost_of(q, &w, &h);
        if (out.ds == CV_UNREACHABLE || back.ds == CV_UNREACHABLE)
            fail_msg("commuter %s (seed 7): no route between home and work", v[i].id);
    }
    cv_ch_query_free(q);
    free(v);
}

/* The example population the repository ships (data/commuters-porto.csv, made with bench/popgen on Porto, seed
   2026): it reads whole, 500 commuters of every role, all in the Porto area. */
static void test_example_file(void **state)
{
    (void)state;
    cv_person *v = NULL;
    size_t n = 0;
    cv_error err = {0};
    if (cv_population_read(COVOIT_DATA "/commuters-porto.csv", &v, &n, &err))
        fail_msg("%s", err.text);
    assert_int_equal(n, 500);
    int roles[3] = {0};
    for (size_t i = 0; i < n; i++) {
        roles[v[i].role]++;
        const cv_coord *c[2] = {&v[i].home, &v[i].work};
        for (int k = 0; k < 2; k++)
            assert_true(cv_deg(c[k]->lon) > -8.9 && cv_deg(c[k]->lon) < -8.2 && cv_deg(c[k]->lat) > 40.9 &&
                        cv_deg(c[k]->lat) < 41.5);
        assert_true(v[i].arrive_by_s < v[i].leave_at_s && v[i].days);
    }
    assert_true(roles[0] > 0 && roles[1] > 0 && roles[2] > 0);
    free(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_csv),
        cmocka_unit_test(test_optimal_km),
        cmocka_unit_test(test_optimal_matched),
        cmocka_unit_test(test_off_the_roads),
        cmocka_unit_test(test_command),
        cmocka_unit_test(test_synth),
        cmocka_unit_test(test_example_file),
        cmocka_unit_test(test_synth_routable),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
