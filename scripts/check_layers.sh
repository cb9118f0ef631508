#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# scripts/check_layers.sh — the layering rules of docs/ARCHITECTURE.md, checked on the includes of the source tree.
# Data flows one way, osm → routing → matcher → web → cli, with util under all, batch (offline batch
# matching) beside web, above matcher, below cli, and places (the place index: built from what osm reads, above
# routing, queried by web and cli): a module includes its own headers
# and those of the modules below it, never above; a header named *_int.h belongs to its module alone; JSON
# (jansson) and HTTP (libmicrohttpd) stay in web/ and cli/, PostgreSQL (libpq) in matcher/, SQLite in matcher/
# and places/ (and the tools that read a database: cli/). Prints each broken rule with the line that breaks it; exit 1 if any.
set -euo pipefail
cd "$(dirname "$0")/.."
allowed() { # module → the project modules it may include
    case "$1" in
    util) echo "util" ;;
    osm) echo "util osm routing/road_class.h" ;;
    routing) echo "util osm routing" ;;
    matcher) echo "util routing matcher" ;;
    places) echo "util osm routing places" ;;
    tiles) echo "util tiles" ;;
    feeds) echo "util routing matcher places feeds" ;;
    web) echo "util routing matcher places tiles feeds web" ;;
    batch) echo "util routing matcher batch" ;;
    cli) echo "util osm routing matcher places tiles feeds web batch cli" ;;
    esac
}
bad=0
for m in util osm routing matcher places tiles feeds web batch cli; do
    ok=$(allowed "$m")
    while IFS= read -r hit; do
        file=${hit%%:*}
        inc=$(sed -E 's/.*#[[:space:]]*include[[:space:]]+"([^"]+)".*/\1/' <<<"${hit#*:*:}")
        dir=${inc%%/*}
        [ "$dir" = "$inc" ] && { echo "$hit: a project header without its module (one include root: \"module/name.h\")"; bad=1; continue; }
        pass=0
        for a in $ok; do
            [ "$a" = "$dir" ] || [ "$a" = "$inc" ] && pass=1
        done
        [ $pass = 1 ] || { echo "$hit: $m/ may not include $dir/ (data flows osm → routing → matcher → web → cli)"; bad=1; }
        case "$inc" in
        */*_int.h) [ "$dir" = "$m" ] || { echo "$hit: $inc is private to $dir/"; bad=1; } ;;
        esac
    done < <(grep -nE '^[[:space:]]*#[[:space:]]*include[[:space:]]+"' $(git ls-files "$m/*.c" "$m/*.h" "$m/*.cpp") /dev/null || true)
done
for lib in 'jansson.h:web batch cli' 'microhttpd.h:web' 'sqlite3.h:matcher places tiles cli' 'libpq-fe.h:matcher'; do
    hdr=${lib%%:*}
    where=${lib#*:}
    while IFS= read -r hit; do
        m=${hit%%/*}
        case " $where " in *" $m "*) ;; *) echo "$hit: <$hdr> stays in ${where// /\/, }/"; bad=1 ;; esac
    done < <(grep -nE "#[[:space:]]*include[[:space:]]+<$hdr>" $(git ls-files 'util/*' 'osm/*' 'routing/*' 'matcher/*' 'places/*' 'tiles/*' 'web/*.c' 'web/*.h' 'batch/*' 'cli/*') /dev/null || true)
done
[ $bad = 0 ] && echo "layers: every include of util/ osm/ routing/ matcher/ places/ tiles/ feeds/ web/ batch/ cli/ follows the rules"
exit $bad
