#!/usr/bin/env python3
# SPDX-License-Identifier: AGPL-3.0-or-later
"""bench/wrk/helper.py: the parts of bench/server.sh that are easier in Python (standard library only).

  helper.py gen URL DIR --bbox MINLON,MINLAT,MAXLON,MAXLAT [--pairs N] [--searches N] [--seed N]
      Draws the requests of the benchmark against a running server and checks each one once (the warm-up): writes
      DIR/route.txt, route_full.txt, search.txt, mixed.txt (one request a line, for requests.lua) and DIR/gen.json.
  helper.py metrics URL FILE
      Saves GET /metrics (Prometheus text) to FILE.
  helper.py report DIR OUT
      Reads what server.sh left in DIR (manifest.json, the wrk outputs, /proc status copies, metrics, server
      logs, soak samples), prints the table on stdout and writes the JSON to OUT. Exit status 1 when a cell had a
      non-2xx answer or a socket error it should not have.

See bench/README.md for what is measured.
"""
import datetime
import http.client
import json
import math
import os
import random
import re
import sys
import time
import urllib.parse


# --- HTTP, one keep-alive connection ---

class Client:
    def __init__(self, url):
        u = urllib.parse.urlsplit(url)
        self.host, self.port = u.hostname, u.port
        self.c = http.client.HTTPConnection(self.host, self.port, timeout=60)

    def call(self, method, path, body=None):
        headers = {"Content-Type": "application/json"} if body is not None else {}
        for attempt in range(2):
            try:
                self.c.request(method, path, body=body, headers=headers)
                r = self.c.getresponse()
                data = r.read()
                return r.status, data
            except (http.client.HTTPException, OSError):
                self.c.close()
                self.c = http.client.HTTPConnection(self.host, self.port, timeout=60)
                if attempt:
                    raise
        raise RuntimeError("unreachable")


def haversine_m(a, b):
    lon1, lat1, lon2, lat2 = map(math.radians, (a[0], a[1], b[0], b[1]))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6371008.8 * math.asin(math.sqrt(h))


def point_along(coords, frac):
    """The point at fraction frac of the polyline's length."""
    seg = [haversine_m(coords[i], coords[i + 1]) for i in range(len(coords) - 1)]
    total = sum(seg)
    want, acc = frac * total, 0.0
    for i, s in enumerate(seg):
        if acc + s >= want and s > 0:
            t = (want - acc) / s
            return [coords[i][0] + t * (coords[i + 1][0] - coords[i][0]),
                    coords[i][1] + t * (coords[i + 1][1] - coords[i][1])]
        acc += s
    return list(coords[-1])


def jitter(p, rng, metres):
    dlat = rng.uniform(-metres, metres) / 111320.0
    dlon = rng.uniform(-metres, metres) / (111320.0 * math.cos(math.radians(p[1])))
    return [p[0] + dlon, p[1] + dlat]


def fmt_pt(p):
    return "%.6f,%.6f" % (p[0], p[1])


def route_path(a, b, full):
    q = "overview=full&geometries=polyline" if full else "overview=false"
    return "/route/v1/driving/%s;%s?%s" % (fmt_pt(a), fmt_pt(b), q)


def cmd_gen(argv):
    url, out = argv[0], argv[1]
    opts = {"--bbox": None, "--pairs": "2000", "--searches": "1000", "--seed": "42"}
    i = 2
    while i < len(argv):
        if argv[i] not in opts or i + 1 >= len(argv):
            sys.exit("helper.py gen: bad option %s" % argv[i])
        opts[argv[i]] = argv[i + 1]
        i += 2
    bbox = [float(x) for x in opts["--bbox"].split(",")]
    npairs, nsearch, seed = int(opts["--pairs"]), int(opts["--searches"]), int(opts["--seed"])
    rng = random.Random(seed)
    cl = Client(url)
    t0 = time.time()
    stats = {"seed": seed, "bbox": bbox}

    # Route pairs: uniform points in the graph's box, snapped by the server (/nearest: a road within 300 m, or
    # NoSegment), paired in order; a pair kept only when the route answers 200 (no NoRoute, no NoSegment).
    snapped, drawn, nearest_fail = [], 0, 0

    def snap_one():
        nonlocal drawn, nearest_fail
        while True:
            drawn += 1
            if drawn > 200000:
                sys.exit("helper.py gen: cannot find points on the road network in the box")
            p = [rng.uniform(bbox[0], bbox[2]), rng.uniform(bbox[1], bbox[3])]
            st, data = cl.call("GET", "/nearest/v1/driving/" + fmt_pt(p))
            if st == 200:
                return json.loads(data)["waypoints"][0]["location"]
            nearest_fail += 1

    pairs, route_fail, route_codes = [], 0, {}
    route_dist = []
    while len(pairs) < npairs:
        a, b = snap_one(), snap_one()
        st, data = cl.call("GET", route_path(a, b, False))
        if st != 200:
            route_fail += 1
            code = json.loads(data).get("code", str(st))
            route_codes[code] = route_codes.get(code, 0) + 1
            continue
        pairs.append((a, b))
        route_dist.append(json.loads(data)["routes"][0]["distance"])
        snapped.extend([a, b])
    # the overview=full variant of every pair is checked too
    full_fail = sum(1 for a, b in pairs if cl.call("GET", route_path(a, b, True))[0] != 200)
    if full_fail:
        sys.exit("helper.py gen: %d pairs answer 200 with overview=false but not with overview=full" % full_fail)
    route_dist.sort()
    stats["route"] = {"pairs": len(pairs), "points_drawn": drawn, "nearest_nosegment": nearest_fail,
                      "pairs_discarded": route_fail, "discarded_codes": route_codes,
                      "distance_km": {"p50": round(route_dist[len(route_dist) // 2] / 1000, 2),
                                      "mean": round(sum(route_dist) / len(route_dist) / 1000, 2),
                                      "max": round(route_dist[-1] / 1000, 2)}}

    # Searches: half along a demo offer (pickup at 20-40 % and drop-off at 60-80 % of the offer's route, moved
    # by up to 30 m, wished departure = the offer's + 0-10 min), half between two random network points at
    # least 2 km apart with the departure of a random demo offer +-10 min: all inside the offers' time window.
    st, data = cl.call("GET", "/v1/offers?owner=demo")
    if st != 200:
        sys.exit("helper.py gen: GET /v1/offers?owner=demo answered %d" % st)
    offers = [o for o in json.loads(data)["offers"] if o["schedule"]["type"] == "punctual"]
    if not offers:
        sys.exit("helper.py gen: no demo offer in the database (start the server with --demo-trips)")
    searches, kinds, matches = [], [], []
    refused = {}
    attempts = 0
    while len(searches) < nsearch:
        attempts += 1
        if attempts > nsearch * 20:
            sys.exit("helper.py gen: too many searches refused: %s" % refused)
        along = len(searches) % 2 == 0
        o = rng.choice(offers)
        dep = datetime.datetime.fromisoformat(o["schedule"]["depart"])
        if along:
            st, data = cl.call("GET", "/route/v1/driving/%s;%s?overview=full&geometries=geojson"
                               % (fmt_pt(o["from"]), fmt_pt(o["to"])))
            if st != 200:
                refused["offer_route_%d" % st] = refused.get("offer_route_%d" % st, 0) + 1
                continue
            coords = json.loads(data)["routes"][0]["geometry"]["coordinates"]
            p = jitter(point_along(coords, rng.uniform(0.2, 0.4)), rng, 30)
            q = jitter(point_along(coords, rng.uniform(0.6, 0.8)), rng, 30)
            dep += datetime.timedelta(minutes=rng.randint(0, 10))
        else:
            p, q = rng.choice(snapped), rng.choice(snapped)
            if haversine_m(p, q) < 2000:
                continue
            dep += datetime.timedelta(minutes=rng.randint(-10, 10))
        body = json.dumps({"from": [round(p[0], 6), round(p[1], 6)], "to": [round(q[0], 6), round(q[1], 6)],
                           "depart": dep.isoformat(), "margin_min": 15}, separators=(",", ":"))
        st, data = cl.call("POST", "/v1/search", body)
        if st != 200:
            code = json.loads(data).get("code", str(st))
            refused[code] = refused.get(code, 0) + 1
            continue
        searches.append(body)
        kinds.append("along" if along else "random")
        matches.append(len(json.loads(data)["matches"]))

    def mstats(sel):
        v = sorted(m for m, k in zip(matches, kinds) if sel(k))
        return {"n": len(v), "mean_matches": round(sum(v) / len(v), 2) if v else 0,
                "with_a_match": round(sum(1 for m in v if m) / len(v), 3) if v else 0,
                "p50_matches": v[len(v) // 2] if v else 0, "capped_at_100": sum(1 for m in v if m >= 100)}

    deps = sorted(o["schedule"]["depart"] for o in offers)
    stats["search"] = {"requests": len(searches), "demo_offers": len(offers), "refused_in_warmup": refused,
                       "offers_depart_first": deps[0], "offers_depart_last": deps[-1],
                       "all": mstats(lambda k: True), "along": mstats(lambda k: k == "along"),
                       "random": mstats(lambda k: k == "random")}
    stats["gen_s"] = round(time.time() - t0, 1)

    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "route.txt"), "w") as f:
        for a, b in pairs:
            f.write("GET %s\n" % route_path(a, b, False))
    with open(os.path.join(out, "route_full.txt"), "w") as f:
        for a, b in pairs:
            f.write("GET %s\n" % route_path(a, b, True))
    with open(os.path.join(out, "search.txt"), "w") as f:
        for b in searches:
            f.write("POST /v1/search %s\n" % b)
    # the soak's mix: per search, 8 routes without geometry and 2 with
    with open(os.path.join(out, "mixed.txt"), "w") as f:
        k = 0
        for s in searches:
            for j in range(10):
                a, b = pairs[k % len(pairs)]
                k += 1
                f.write("GET %s\n" % route_path(a, b, j >= 8))
            f.write("POST /v1/search %s\n" % s)
    with open(os.path.join(out, "gen.json"), "w") as f:
        json.dump(stats, f, indent=1)
    print(json.dumps(stats))


def cmd_metrics(argv):
    st, data = Client(argv[0]).call("GET", "/metrics")
    if st != 200:
        sys.exit("helper.py metrics: GET /metrics answered %d" % st)
    with open(argv[1], "wb") as f:
        f.write(data)


# --- report ---

HIST_RE = re.compile(r'^covoit_http_request_duration_seconds_(bucket|sum|count)\{endpoint="(\w+)"(?:,le="([^"]+)")?\} (\S+)$')
REQ_RE = re.compile(r'^covoit_http_requests_total\{endpoint="(\w+)",status="(\d+)"\} (\d+)$')


def parse_metrics(path):
    h, req = {}, {}
    if not os.path.exists(path):
        return None
    for line in open(path):
        m = HIST_RE.match(line.strip())
        if m:
            kind, fam, le, v = m.groups()
            d = h.setdefault(fam, {"buckets": [], "sum": 0.0, "count": 0})
            if kind == "bucket":
                d["buckets"].append((float("inf") if le == "+Inf" else float(le), int(v)))
            elif kind == "sum":
                d["sum"] = float(v)
            else:
                d["count"] = int(v)
            continue
        m = REQ_RE.match(line.strip())
        if m:
            req.setdefault(m.group(1), {})[m.group(2)] = int(m.group(3))
    return {"hist": h, "requests": req}


def metrics_delta(before, after, fam):
    """The server's own view of one cell, from the /metrics histogram: count, mean and the bucket bounds that
    hold the median and the 99th percentile (the buckets start at 0.5 ms, so they only bound fast answers)."""
    if not before or not after or fam not in after["hist"]:
        return None
    a, b = after["hist"][fam], before["hist"].get(fam, {"buckets": [], "sum": 0.0, "count": 0})
    bb = dict(b["buckets"])
    cum = [(le, v - bb.get(le, 0)) for le, v in a["buckets"]]
    n = a["count"] - b["count"]
    res = {"count": n, "mean_ms": round((a["sum"] - b["sum"]) / n * 1e3, 4) if n else None}
    for name, p in (("p50_le_ms", 0.5), ("p99_le_ms", 0.99)):
        res[name] = None
        for le, c in cum:
            if n and c >= p * n:
                res[name] = "inf" if le == float("inf") else le * 1e3
                break
    sa, sb = after["requests"].get(fam, {}), before["requests"].get(fam, {})
    res["statuses"] = {s: v - sb.get(s, 0) for s, v in sa.items() if v - sb.get(s, 0)}
    return res


def parse_wrk(path):
    res = None
    for line in open(path):
        if line.startswith("WRK_RESULT "):
            res = json.loads(line[len("WRK_RESULT "):])
    return res


def parse_status(path):
    d = {}
    if not os.path.exists(path):
        return None
    for line in open(path):
        k, _, v = line.partition(":")
        if k in ("VmRSS", "VmHWM", "RssAnon", "RssFile", "VmSize", "Threads"):
            d[k] = int(v.split()[0])
    return d


def parse_cpu(path, hz, secs):
    """Cores used during a run: by the server, by wrk, by everything else on the machine."""
    if not os.path.exists(path):
        return None
    v = open(path).read().split()
    total, busy, server = int(v[0]), int(v[1]), int(v[2])
    res = {"server_cores": round(server / hz / secs, 2), "machine_busy_pct": round(100.0 * busy / total, 1)}
    if len(v) >= 5:
        w = float(v[3]) + float(v[4])
        res["wrk_cores"] = round(w / secs, 2)
        res["other_cores"] = round((busy - server - w * hz) / hz / secs, 2)
    else:
        res["other_and_wrk_cores"] = round((busy - server) / hz / secs, 2)
    return res


def worker_split(d, name, hz, secs):
    """CPU cores used by each MHD worker thread of the server during the run, busiest first."""
    def load(path):
        r = {}
        if os.path.exists(path):
            for line in open(path):
                v = line.split()
                if len(v) == 3 and "MHD-worker" in v[1]:
                    r[v[0]] = int(v[2])
        return r
    b, a = load(os.path.join(d, name + ".threads_before")), load(os.path.join(d, name + ".threads_after"))
    if not a:
        return None
    return sorted((round((a[t] - b.get(t, 0)) / hz / secs, 2) for t in a), reverse=True)


def pct(sorted_v, p):
    if not sorted_v:
        return None
    k = max(1, math.ceil(p * len(sorted_v)))
    return sorted_v[k - 1]


LOG_PATH_RE = re.compile(r'(?:^| )path=("?)([^ "]+)\1')
LOG_STATUS_RE = re.compile(r'(?:^| )status=(\d+)')
LOG_DUR_RE = re.compile(r'(?:^| )dur_ms=([0-9.]+)')


def log_durations(path, start, end):
    """dur_ms of every request logged in bytes [start, end) of the server's log, by endpoint, 2xx only; and the
    count of other statuses."""
    out, bad = {}, 0
    with open(path, "rb") as f:
        f.seek(start)
        chunk = f.read(end - start).decode("utf-8", "replace")
    for line in chunk.splitlines():
        m, s, d = LOG_PATH_RE.search(line), LOG_STATUS_RE.search(line), LOG_DUR_RE.search(line)
        if not (m and s and d):
            continue
        p = m.group(2)
        fam = "route" if p.startswith("/route/v1") else "search" if p.startswith("/v1/search") else "other"
        if not s.group(1).startswith("2"):
            bad += 1
            continue
        out.setdefault(fam, []).append(float(d.group(1)))
    return out, bad


def fmt_ms(us):
    return "%.2f" % (us / 1000.0) if us is not None else "-"


def cmd_report(argv):
    d, out = argv[0], argv[1]
    man = json.load(open(os.path.join(d, "manifest.json")))
    gen = json.load(open(os.path.join(d, "gen.json")))
    failures = []
    cells = []
    for c in man["cells"]:
        w = parse_wrk(os.path.join(d, c["name"] + ".wrk"))
        mb = parse_status(os.path.join(d, c["name"] + ".status_before"))
        ma = parse_status(os.path.join(d, c["name"] + ".status_after"))
        fam = "route" if c["endpoint"].startswith("route") else "v1_search"
        srv = metrics_delta(parse_metrics(os.path.join(d, c["name"] + ".metrics_before")),
                            parse_metrics(os.path.join(d, c["name"] + ".metrics_after")), fam)
        cell = dict(c)
        if w is None:
            cell["error"] = "no WRK_RESULT line (wrk failed?)"
            failures.append("%s: wrk gave no result" % c["name"])
        else:
            secs = w["duration_us"] / 1e6
            errs = w["errors"]
            sock = errs["connect"] + errs["read"] + errs["write"] + errs["timeout"]
            cell.update({"requests": w["requests"], "seconds": round(secs, 2),
                         "req_per_s": round(w["requests"] / secs, 1),
                         "bytes_per_response": round(w["bytes"] / w["requests"], 1) if w["requests"] else None,
                         "latency_ms": {k: round(v / 1000.0, 3) for k, v in w["latency_us"].items()},
                         "non_2xx": errs["status"], "socket_errors": {k: errs[k] for k in
                                                                      ("connect", "read", "write", "timeout")}})
            if not c.get("expect_errors"):
                if errs["status"]:
                    failures.append("%s: %d answers with status >= 400" % (c["name"], errs["status"]))
                if sock:
                    failures.append("%s: socket errors %s" % (c["name"], cell["socket_errors"]))
                if srv and set(srv["statuses"]) - {"200"}:
                    failures.append("%s: the server counted statuses %s" % (c["name"], srv["statuses"]))
        cell["server_metrics"] = srv
        if w is not None:
            cell["cpu"] = parse_cpu(os.path.join(d, c["name"] + ".cpu"), man["environment"]["clk_tck"],
                                    w["duration_us"] / 1e6)
            cell["worker_cores"] = worker_split(d, c["name"], man["environment"]["clk_tck"], w["duration_us"] / 1e6)
            cell["contended"] = bool(cell["cpu"] and cell["cpu"].get("other_cores", 0) > 0.3)
        cell["rss_kib"] = {"before": mb, "after": ma}
        cells.append(cell)

    # server-side latency from the log lines of the non-quiet run: per run, and pooled over the runs of the same
    # endpoint and connection count
    server_side = []
    groups = {}
    for r in man.get("logged_runs", []):
        durs, bad = log_durations(os.path.join(d, "server_logged.log"), r["start"], r["end"])
        w = parse_wrk(os.path.join(d, r["name"] + ".wrk"))
        key = "route" if r["endpoint"].startswith("route") else "search"
        v = sorted(durs.get(key, []))
        run = {"name": r["name"], "logged_requests": len(v), "p50_ms": pct(v, 0.5), "non_2xx_logged": bad}
        if w:
            run["client_req_per_s"] = round(w["requests"] / (w["duration_us"] / 1e6), 1)
            run["client_p50_ms"] = round(w["latency_us"]["p50"] / 1000.0, 3)
            run["cpu"] = parse_cpu(os.path.join(d, r["name"] + ".cpu"), man["environment"]["clk_tck"],
                                   w["duration_us"] / 1e6)
        if bad:
            failures.append("%s: %d non-2xx answers in the log" % (r["name"], bad))
        g = groups.get((r["endpoint"], r["conns"]))
        if g is None:
            g = groups[(r["endpoint"], r["conns"])] = {"endpoint": r["endpoint"], "conns": r["conns"],
                                                       "keepalive": r["keepalive"], "runs": [], "_v": []}
            server_side.append(g)
        g["runs"].append(run)
        g["_v"].extend(v)
    for g in server_side:
        v = sorted(g.pop("_v"))
        g.update({"logged_requests": len(v), "p50_ms": pct(v, 0.5), "p90_ms": pct(v, 0.9), "p99_ms": pct(v, 0.99),
                  "mean_ms": round(sum(v) / len(v), 4) if v else None, "max_ms": v[-1] if v else None})

    # soak
    soak = None
    if man.get("soak"):
        s = man["soak"]
        samples = []
        for line in open(os.path.join(d, "soak_samples.tsv")):
            t, rss, anon, hwm = line.split()
            samples.append({"t_s": int(t), "VmRSS_kib": int(rss), "RssAnon_kib": int(anon), "VmHWM_kib": int(hwm)})
        ref = None
        for x in samples:
            if x["t_s"] >= 120:
                ref = x
                break
        last = samples[-1] if samples else None
        soak = {"minutes": s["minutes"], "load": s["load"], "samples": samples,
                "ref_sample_t_s": ref["t_s"] if ref else None, "last_sample_t_s": last["t_s"] if last else None}
        if ref and last:
            soak["growth_kib"] = {"VmRSS": last["VmRSS_kib"] - ref["VmRSS_kib"],
                                  "RssAnon": last["RssAnon_kib"] - ref["RssAnon_kib"]}
            soak["growth_pct_VmRSS"] = round(100.0 * soak["growth_kib"]["VmRSS"] / ref["VmRSS_kib"], 2)
        soak["wrk"] = []
        for name in s["wrk"]:
            w = parse_wrk(os.path.join(d, name + ".wrk"))
            if w:
                e = w["errors"]
                soak["wrk"].append({"name": name, "requests": w["requests"],
                                    "req_per_s": round(w["requests"] / (w["duration_us"] / 1e6), 1),
                                    "p50_ms": round(w["latency_us"]["p50"] / 1000, 3),
                                    "p99_ms": round(w["latency_us"]["p99"] / 1000, 3), "non_2xx": e["status"],
                                    "socket_errors": {k: e[k] for k in ("connect", "read", "write", "timeout")}})
                if e["status"] or e["connect"] + e["read"] + e["write"] + e["timeout"]:
                    failures.append("soak %s: errors %s" % (name, e))
            else:
                failures.append("soak %s: wrk gave no result" % name)
        soak["cpu"] = parse_cpu(os.path.join(d, "soak.cpu"), man["environment"]["clk_tck"], s["minutes"] * 60)
        soak["metrics"] = {}
        for fam in ("route", "v1_search"):
            soak["metrics"][fam] = metrics_delta(parse_metrics(os.path.join(d, "soak.metrics_before")),
                                                 parse_metrics(os.path.join(d, "soak.metrics_after")), fam)

    phases = {}
    for p in man.get("phases", []):
        phases[p] = {"before": parse_status(os.path.join(d, "phase_%s.status_before" % p)),
                     "after": parse_status(os.path.join(d, "phase_%s.status_after" % p))}

    # targets
    def cell_of(endpoint, conns, ka):
        for c in cells:
            if c["endpoint"] == endpoint and c["conns"] == conns and c["keepalive"] == ka and not c.get("diagnostic"):
                return c
        return None

    targets = []
    r1 = [e for e in server_side if e["endpoint"] == "route" and e["p50_ms"] is not None]
    if r1:
        worst = max(e["p50_ms"] for e in r1)
        means = ["%d conn: %.3f ms" % (c["conns"], c["server_metrics"]["mean_ms"]) for c in cells
                 if c["endpoint"] == "route" and c["keepalive"] and not c.get("diagnostic")
                 and c.get("server_metrics") and c["server_metrics"].get("mean_ms") is not None]
        targets.append({"target": "route p50 under 0.1 ms server-side", "value_ms": worst,
                        "measured_as": "largest pooled p50 of the logged runs (%s; p50 of each run: %s); "
                        "for comparison, the server's mean in the quiet keep-alive cells: %s" % (
                            ", ".join("%d conn: %.3f ms" % (e["conns"], e["p50_ms"]) for e in r1),
                            ", ".join("%d conn: %s" % (e["conns"], "/".join("%.2f" % x["p50_ms"] for x in e["runs"]
                                                                            if x["p50_ms"] is not None))
                                      for e in r1), ", ".join(means)),
                        "met": worst < 0.1})
    c = cell_of("route", 16, True)
    if c and "req_per_s" in c:
        targets.append({"target": "at least 10,000 route requests/s at 16 keep-alive connections",
                        "value": c["req_per_s"], "met": c["req_per_s"] >= 10000})
    ms = [x for x in cells if x["endpoint"] == "search" and "req_per_s" in x and not x.get("diagnostic")]
    if ms:
        best = max(ms, key=lambda x: x["req_per_s"])
        targets.append({"target": "at least 1,000 match requests/s with %d active offers" % man["offers"],
                        "value": best["req_per_s"],
                        "measured_as": "best cell: %d conn %s" % (best["conns"], "keep-alive" if best["keepalive"]
                                                                  else "close"),
                        "met": best["req_per_s"] >= 1000})
    if soak and "growth_kib" in soak:
        g = soak["growth_kib"]["VmRSS"]
        targets.append({"target": "no growth of memory over a %d-minute run" % soak["minutes"],
                        "value_kib": g, "measured_as": "VmRSS at the last sample minus VmRSS at t=%ds; met when "
                        "under 1 MiB (+-1 MiB is allocator noise)" % soak["ref_sample_t_s"],
                        "met": g < 1024})

    res = {"benchmark": "server", "environment": man["environment"], "method": man["method"],
           "requests": gen, "cells": cells, "server_side_latency": server_side, "memory_phases": phases,
           "soak": soak, "targets": targets, "failures": failures}
    with open(out, "w") as f:
        json.dump(res, f, indent=1)
        f.write("\n")

    # the table
    env = man["environment"]
    print("covoit HTTP load, %s, commit %s, %s (%d cores), server --threads %d, wrk -t%d, %d s a cell"
          % (env["date"], env["commit"], env["cpu"], env["cores"], env["server_threads"], env["wrk_threads"],
             env["duration_s"]))
    print("wrk and the server share the machine's %d cores; latencies are wrk's (client side, loopback)." % env["cores"])
    print()
    hdr = "%-10s %5s %-5s %9s %8s %8s %8s %6s %7s %8s %14s %10s %12s" % (
        "endpoint", "conns", "k-a", "req/s", "p50 ms", "p99 ms", "max ms", "non2xx", "sockerr",
        "srv ms", "cores s/w/oth", "workers", "RSS MiB b/a")
    print(hdr)
    print("-" * len(hdr))
    contended = []
    for c in cells:
        if "req_per_s" not in c:
            print("%-10s %5d %-5s  FAILED" % (c["endpoint"], c["conns"], "on" if c["keepalive"] else "off"))
            continue
        rb = c["rss_kib"]["before"] or {}
        ra = c["rss_kib"]["after"] or {}
        srv = c["server_metrics"] or {}
        cpu = c.get("cpu") or {}
        print("%-10s %5d %-5s %9.0f %8.3f %8.3f %8.1f %6d %7d %8s %14s %10s %12s%s" % (
            c["endpoint"], c["conns"], "on" if c["keepalive"] else "off", c["req_per_s"], c["latency_ms"]["p50"],
            c["latency_ms"]["p99"], c["latency_ms"]["max"], c["non_2xx"], sum(c["socket_errors"].values()),
            "%.3f" % srv["mean_ms"] if srv.get("mean_ms") is not None else "-",
            "%.2f/%.2f/%.2f" % (cpu.get("server_cores", 0), cpu.get("wrk_cores", 0), cpu.get("other_cores", 0)),
            "/".join("%.2f" % x for x in c.get("worker_cores") or []),
            "%.1f/%.1f" % (rb.get("VmRSS", 0) / 1024, ra.get("VmRSS", 0) / 1024),
            "  (" + c["note"] + ")" if c.get("note") else "  *" if cpu.get("other_cores", 0) > 0.3 else ""))
        if cpu.get("other_cores", 0) > 0.3 and not c.get("note"):
            contended.append(c["name"])
    print("p50/p99/max: wrk's latency (client side). srv ms: the server's mean time per request over the cell "
          "(/metrics sum/count).\ncores s/w/oth: CPU cores used by the server / wrk / the rest of the machine "
          "during the cell.\nworkers: cores used by each MHD worker thread of the server, busiest first. RSS: server VmRSS "
          "before/after the cell.")
    if contended:
        print("* other processes used more than 0.3 core during the cell (after %d attempts at most): "
              "its figures are low" % (man["environment"].get("retries", 0) + 1))
    print()
    print("server-side (from the log lines of a separate non-quiet run, exact, 0.01 ms resolution; runs pooled):")
    for e in server_side:
        print("  %-7s %3d conn %-10s  %6d requests  p50 %.3f ms  p90 %.3f ms  p99 %.3f ms  mean %.4f ms"
              "  (p50 per run: %s; other cores: %s)" % (
                  e["endpoint"], e["conns"], "keep-alive" if e["keepalive"] else "close", e["logged_requests"],
                  e["p50_ms"] or 0, e["p90_ms"] or 0, e["p99_ms"] or 0, e["mean_ms"] or 0,
                  " ".join("%.2f" % (x["p50_ms"] or 0) for x in e["runs"]),
                  " ".join("%.2f" % ((x.get("cpu") or {}).get("other_cores", 0)) for x in e["runs"])))
    print()
    print("memory (server VmRSS / RssAnon / VmHWM, MiB):")
    for p, v in phases.items():
        b, a = v["before"] or {}, v["after"] or {}
        print("  %-8s before %.1f / %.1f / %.1f   after %.1f / %.1f / %.1f" % (
            p, b.get("VmRSS", 0) / 1024, b.get("RssAnon", 0) / 1024, b.get("VmHWM", 0) / 1024,
            a.get("VmRSS", 0) / 1024, a.get("RssAnon", 0) / 1024, a.get("VmHWM", 0) / 1024))
    if soak:
        print()
        print("soak: %d min, %s" % (soak["minutes"], soak["load"]))
        print("  " + "  ".join("%ds:%.1f" % (x["t_s"], x["VmRSS_kib"] / 1024) for x in soak["samples"]) + "  (VmRSS MiB)")
        if "growth_kib" in soak:
            print("  growth from t=%ds to t=%ds: VmRSS %+d KiB (%+.2f %%), RssAnon %+d KiB" % (
                soak["ref_sample_t_s"], soak["last_sample_t_s"], soak["growth_kib"]["VmRSS"],
                soak["growth_pct_VmRSS"], soak["growth_kib"]["RssAnon"]))
        for w in soak["wrk"]:
            print("  %-14s %9d requests  %8.0f req/s  p50 %.3f ms  p99 %.3f ms  non2xx %d  socket errors %s" % (
                w["name"], w["requests"], w["req_per_s"], w["p50_ms"], w["p99_ms"], w["non_2xx"],
                w["socket_errors"]))
    print()
    print("targets:")
    for t in targets:
        v = t.get("value", t.get("value_ms", t.get("value_kib")))
        print("  %-4s %s: %s%s" % ("MET" if t["met"] else "MISS", t["target"], v,
                                   " (" + t["measured_as"] + ")" if t.get("measured_as") else ""))
    if failures:
        print()
        print("FAILURES:")
        for f in failures:
            print("  " + f)
    print()
    print("JSON: %s" % out)
    return 1 if failures else 0


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    cmd, argv = sys.argv[1], sys.argv[2:]
    if cmd == "gen" and len(argv) >= 2:
        cmd_gen(argv)
    elif cmd == "metrics" and len(argv) == 2:
        cmd_metrics(argv)
    elif cmd == "report" and len(argv) == 2:
        sys.exit(cmd_report(argv))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
