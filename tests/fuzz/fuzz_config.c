/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* fuzz_config.c — the config file of `covoit serve --config FILE`: bytes → a file → cmd_serve_check_config, the
   settings parser of cli/cmd_serve.c with its types and ranges, which must accept or refuse, never crash.

   The settings table of docs/API.md (Configuration), read at start, is the oracle: a file with a key of the
   wrong type or out of its documented range must be refused, and a JSON object whose keys are all in the table
   with good values must be accepted; keys the table does not list are left to covoit alone. Run with
   -close_fd_mask=2: each refusal prints a line. */
#define _POSIX_C_SOURCE 200809L
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/cli.h"
#include "fuzz_util.h"

enum { K_STR, K_INT, K_NUM, K_BOOL, K_ANY_STR };

/* The settings table of docs/API.md (Configuration), read at start: rows "| `--threads N` | `threads` | integer
   1–1024 | default | meaning |". "listen", "operator" and "public_url" are syntax checked by covoit (addresses,
   host names, URLs): any string may be good or bad. */
static struct {
    char key[64];
    int kind;
    double lo, hi;
} documented[64];
static size_t ndocumented;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    const char *doc = getenv("COVOIT_FUZZ_API_MD"); /* another copy, to see the check fail */
    FILE *f = fopen(doc ? doc : COVOIT_SOURCE_DIR "/docs/API.md", "r");
    if (!f)
        fz_fail("cannot read docs/API.md");
    char line[2048];
    while (fgets(line, sizeof line, f) && ndocumented < sizeof documented / sizeof *documented) {
        char key[64], type[64];
        double lo, hi;
        /* the option(s), then the key and the type columns */
        const char *c2 = strchr(line + 1, '|');
        const char *c3 = c2 ? strchr(c2 + 1, '|') : NULL;
        if (strncmp(line, "| `--", 5) || !c3 || sscanf(c2, "| `%63[a-z_]` |", key) != 1 ||
            sscanf(c3, "| %63[^|]", type) != 1)
            continue;
        int kind;
        if (sscanf(type, "integer %lf\xe2\x80\x93%lf", &lo, &hi) == 2)
            kind = K_INT;
        else if (sscanf(type, "number %lf\xe2\x80\x93%lf", &lo, &hi) == 2)
            kind = K_NUM;
        else if (!strncmp(type, "string", 6))
            kind =
                strcmp(key, "listen") && strcmp(key, "operator") && strcmp(key, "public_url") && strcmp(key, "tile_url")
                    ? K_STR
                    : K_ANY_STR;
        else if (!strncmp(type, "`true` / `false`", 16))
            kind = K_BOOL;
        else
            fz_fail("docs/API.md: setting '%s' has a type this target does not know: %s", key, type);
        size_t i = ndocumented++;
        snprintf(documented[i].key, sizeof documented[i].key, "%s", key);
        documented[i].kind = kind;
        documented[i].lo = kind == K_INT || kind == K_NUM ? lo : 0;
        documented[i].hi = kind == K_INT || kind == K_NUM ? hi : 0;
    }
    fclose(f);
    if (getenv("COVOIT_FUZZ_VERBOSE"))
        for (size_t i = 0; i < ndocumented; i++)
            fprintf(stderr, "documented: %s kind %d %g..%g\n", documented[i].key, documented[i].kind, documented[i].lo,
                    documented[i].hi);
    if (ndocumented < 10)
        fz_fail("docs/API.md: the settings table (Configuration) was not found");
    return 0;
}

enum { BAD, GOOD, UNSURE };

/* What the documentation says of key = val. */
static int judge(const char *key, json_t *val)
{
    for (size_t i = 0; i < ndocumented; i++) {
        if (strcmp(documented[i].key, key))
            continue;
        double lo = documented[i].lo, hi = documented[i].hi;
        switch (documented[i].kind) {
        case K_STR: /* the table says "string"; covoit also wants it non-empty */
            return !json_is_string(val) ? BAD : json_string_length(val) > 0 ? GOOD : UNSURE;
        case K_ANY_STR:
            return json_is_string(val) ? UNSURE : BAD;
        case K_INT:
            return json_is_integer(val) && json_integer_value(val) >= lo && json_integer_value(val) <= hi ? GOOD : BAD;
        case K_NUM:
            return json_is_number(val) && json_number_value(val) >= lo && json_number_value(val) <= hi ? GOOD : BAD;
        default:
            return json_is_boolean(val) ? GOOD : BAD;
        }
    }
    return UNSURE;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[512];
    fz_path(path, sizeof path, "covoit.json");
    fz_write_file(path, data, size);
    int rc = cmd_serve_check_config(path);
    char text[301];
    snprintf(text, sizeof text, "%.*s", (int)(size < 300 ? size : 300), (const char *)data);
    if (rc != 0 && rc != -1)
        fz_fail("cmd_serve_check_config returned %d", rc);
    json_t *doc = json_load_file(path, JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_object(doc)) {
        if (rc == 0)
            fz_fail("accepted a file that is not a JSON object: %s", text);
        json_decref(doc);
        return 0;
    }
    int all_good = 1;
    const char *key;
    json_t *val;
    json_object_foreach(doc, key, val)
    {
        int j = judge(key, val);
        if (j == BAD && rc == 0)
            fz_fail("accepted '%s' of the wrong type or out of range: %s", key, text);
        if (j != GOOD)
            all_good = 0;
    }
    if (all_good && rc != 0)
        fz_fail("refused a file of documented keys with good values: %s", text);
    json_decref(doc);
    return 0;
}
