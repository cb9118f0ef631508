#!/usr/bin/env python3
# SPDX-License-Identifier: AGPL-3.0-or-later
# bench/failover_load.py — the booking load of bench/failover.sh: worker threads that publish an offer and a
# request, book the one on the other and accept the booking, over and over, through two covoit servers in turn.
# A step that fails is retried (a 503 asks for it: the database is failing over) until it passes; every answer
# and every acknowledged acceptance is recorded. At the end it reads the time the primary's node died from a file
# the script wrote, and prints, as JSON: the time until writes succeeded again, the requests that failed meanwhile
# by status (and whether each 5xx was a 503 with a JSON body), and the ids of the bookings whose acceptance was
# acknowledged (the script checks them against the new primary).
# usage: failover_load.py PORT1 PORT2 SECONDS KILLED_AT_FILE OUT_JSON [WORKERS]
import json
import sys
import threading
import time
import urllib.error
import urllib.request

port1, port2, seconds, killed_file, out = sys.argv[1:6]
workers = int(sys.argv[6]) if len(sys.argv) > 6 else 4
ports = [int(port1), int(port2)]
deadline = time.time() + float(seconds)
tomorrow = time.strftime("%Y-%m-%d", time.gmtime(time.time() + 86400))

lock = threading.Lock()
events = []   # (time, status, ok, clear): every answer
accepted = []  # (booking id, time) of every acceptance acknowledged (200)


def call(port, method, path, body=None):
    """(status, document) of one request; status 0 when no answer came."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=15) as r:
            return r.status, json.loads(r.read() or b"null"), r.headers
    except urllib.error.HTTPError as e:
        raw = e.read()
        try:
            doc = json.loads(raw)
        except ValueError:
            doc = None
        return e.code, doc, e.headers
    except OSError:
        return 0, None, None


def step(port, method, path, body, want):
    """Runs one write until it passes (retrying what failed); its document, or None past the deadline."""
    while time.time() < deadline + 30:
        status, doc, headers = call(port, method, path, body)
        ok = status == want
        clear = ok or (status == 503 and isinstance(doc, dict) and doc.get("code") == "Unavailable"
                       and headers is not None and headers.get("Retry-After") is not None)
        with lock:
            events.append((time.time(), status, ok, clear))
        if ok:
            return doc
        if status == 409:  # refused for a reason (e.g. a step that passed before its answer was lost): given up
            return None
        time.sleep(0.1)
    return None


def worker(k):
    n = 0
    while time.time() < deadline:
        port = ports[(k + n) % 2]
        n += 1
        who = f"w{k}-{n}"
        o = step(port, "POST", "/v1/offers",
                 {"from": [7.4275, 43.7396], "to": [7.4160, 43.7290], "depart": f"{tomorrow}T08:00:00Z",
                  "margin_min": 30, "seats": 3, "owner": f"driver-{who}"}, 201)
        q = step(port, "POST", "/v1/requests",
                 {"from": [7.422055, 43.737749], "to": [7.416246, 43.73148], "depart": f"{tomorrow}T08:05:00Z",
                  "margin_min": 30, "owner": f"passenger-{who}"}, 201)
        if not o or not q:
            continue
        b = step(port, "POST", "/v1/bookings", {"offer_id": o["offer"]["id"], "request_id": q["request"]["id"]}, 201)
        if not b:
            continue
        bid = b["booking"]["id"]
        if step(port, "POST", f"/v1/bookings/{bid}/accept", None, 200) is not None:
            with lock:
                accepted.append((bid, time.time()))


threads = [threading.Thread(target=worker, args=(k,)) for k in range(workers)]
t0 = time.time()
for t in threads:
    t.start()
for t in threads:
    t.join()
with open(killed_file) as f:
    killed = float(f.read().strip()) / 1000.0
after = sorted(e for e in events if e[0] >= killed)
back = next((e[0] for e in after if e[2]), None)
failed = [e for e in events if not e[2] and e[1] != 409]
by_status = {}
for e in failed:
    by_status[str(e[1])] = by_status.get(str(e[1]), 0) + 1
json.dump({
    "seconds": time.time() - t0,
    "requests": len(events),
    "writes_ok": sum(1 for e in events if e[2]),
    "back_after_ms": None if back is None else round(1000 * (back - killed)),
    "failed": len(failed),
    "failed_by_status": by_status,
    "failed_unclear": sum(1 for e in failed if not e[3]),
    "accepted": [a[0] for a in accepted],
    "accepted_before_kill": sum(1 for a in accepted if a[1] < killed),
}, open(out, "w"))
