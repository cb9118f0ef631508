-- SPDX-License-Identifier: AGPL-3.0-or-later
-- bench/wrk/requests.lua: wrk script for bench/server.sh.
--   wrk ... -s bench/wrk/requests.lua URL -- FILE [close]
-- FILE holds one request a line, "METHOD PATH" or "METHOD PATH BODY" (a JSON body, sent as application/json).
-- Every wrk thread reads the whole file, formats every request once, and cycles through them, each thread from its
-- own offset. With "close", every request carries "Connection: close" (keep-alive off: one connection a request).
-- done() prints one line "WRK_RESULT {json}": requests, bytes, duration, socket errors, non-2xx/3xx count
-- (errors.status: statuses above 399) and the latency distribution in microseconds, as wrk recorded it.

local threads_made = 0
local reqs = {}
local idx = 0

function setup(thread)
   thread:set("thread_no", threads_made)
   threads_made = threads_made + 1
end

function init(args)
   local file = args[1]
   if not file then
      error("requests.lua: give the request file after --")
   end
   local close = args[2] == "close"
   for line in io.lines(file) do
      local method, path, body = line:match("^(%u+) (%S+) ?(.*)$")
      if method then
         local headers = {}
         if close then
            headers["Connection"] = "close"
         end
         if body == "" then
            body = nil
         else
            headers["Content-Type"] = "application/json"
         end
         reqs[#reqs + 1] = wrk.format(method, path, headers, body)
      end
   end
   if #reqs == 0 then
      error("requests.lua: no request in " .. file)
   end
   -- threads start at different places in the list, so that they do not send the same requests in step
   idx = ((thread_no or 0) * 7919) % #reqs
end

function request()
   idx = idx % #reqs + 1
   return reqs[idx]
end

function done(summary, latency, requests)
   local e = summary.errors
   io.write(string.format(
      'WRK_RESULT {"requests":%d,"duration_us":%d,"bytes":%d,' ..
      '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
      '"latency_us":{"min":%d,"mean":%.1f,"stdev":%.1f,"max":%d,"p50":%d,"p90":%d,"p99":%d,"p999":%d}}\n',
      summary.requests, summary.duration, summary.bytes,
      e.connect, e.read, e.write, e.status, e.timeout,
      latency.min, latency.mean, latency.stdev, latency.max,
      latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9)))
end
