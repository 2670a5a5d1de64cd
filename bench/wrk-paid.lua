-- wrk script for bench/load.mjs's x402 rows and soak. Run with as many threads as connections (-t N -c N), so each
-- thread drives exactly one connection and has at most one request in flight.
--   args: <payments> <seconds> <rate>
--   payments: a file prefix; thread i reads <payments><i>, one PAYMENT-SIGNATURE per line, a slice no other thread
--     has. Every request carries the next one, never one already sent (a reused payment is a refused replay); "-"
--     sends wrk's own request (its -H headers) every time, as the credits soak does.
--   seconds: the thread stops after this long. It stops only right after an answer (its payments spent or its time
--     up), so no paid request is left unanswered; it then prints WRK-DONE for bench/load.mjs, which ends wrk early.
--   rate: requests per second for this thread, 0 for as fast as it answers (the soak's rate limiter: each request is
--     scheduled at start + k / rate, so a late answer is caught up rather than lowering the rate).
-- Latencies are timed here (request written to answer read, this thread's one connection) and kept for 200s only,
-- with the second of the run each fell in; done() prints one WRK-JSON line with the totals, percentiles (µs) over
-- the 200s, each second's 200s and its latencies' p99 (for the soak's per-minute figures), and the span from the
-- first request to the last answer over all threads.
local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } wrk_paid_timespec;
  int clock_gettime(int clock, wrk_paid_timespec *tp);
]]
local ts = ffi.new("wrk_paid_timespec")
local function now_us()
  ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC, the same clock in every thread
  return tonumber(ts.tv_sec) * 1000000 + math.floor(tonumber(ts.tv_nsec) / 1000)
end

local threads = {}

function setup(thread)
  thread:set("index", #threads)
  table.insert(threads, thread)
end

function init(args)
  -- Each paid request is formatted here, before the run, so the run itself only hands them out.
  payments = nil
  if args[1] ~= "-" then
    payments = {}
    local headers = {}
    for k, v in pairs(wrk.headers) do headers[k] = v end
    for line in io.lines(args[1] .. index) do
      headers["PAYMENT-SIGNATURE"] = line
      payments[#payments + 1] = wrk.format(nil, nil, headers)
    end
  end
  seconds = tonumber(args[2])
  rate = tonumber(args[3] or "0")
  statuses, latencies, at = {}, {}, {}
  sent, answered = 0, 0
  first, last, sentAt = 0, 0, 0
  static = wrk.format()
end

function request()
  sent = sent + 1
  sentAt = now_us()
  if payments == nil then return static end
  return payments[sent]
end

function delay()
  if rate <= 0 then return 0 end
  local due = first + math.floor(answered * 1000000 / rate)
  local wait = due - now_us()
  return wait > 0 and math.floor(wait / 1000) or 0
end

function response(status, headers, body)
  last = now_us()
  -- The run starts at the first request written, not at wrk's own trial call of request() before the loop starts.
  if answered == 0 then first = sentAt end
  answered = answered + 1
  statuses[status] = (statuses[status] or 0) + 1
  if status == 200 then
    latencies[#latencies + 1] = last - sentAt
    at[#at + 1] = math.floor((last - first) / 1000000)
  end
  if (payments ~= nil and sent >= #payments) or last - first >= seconds * 1000000 then
    io.write("WRK-DONE\n")
    io.flush()
    wrk.thread:stop()
  end
end

local function percentile(sorted, p)
  if #sorted == 0 then return 0 end
  return sorted[math.min(#sorted, math.floor(p * #sorted) + 1)]
end

function done(summary, latency, requests)
  local counts, all, perSecond = {}, {}, {}
  local sent, answered, first, last = 0, 0, nil, 0
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("statuses")) do counts[status] = (counts[status] or 0) + n end
    local lat, at = thread:get("latencies"), thread:get("at")
    local offset = thread:get("first")
    if offset > 0 and (first == nil or offset < first) then first = offset end
    for i = 1, #lat do all[#all + 1] = lat[i] end
    sent = sent + thread:get("sent")
    answered = answered + thread:get("answered")
    if thread:get("last") > last then last = thread:get("last") end
  end
  -- Each second's 200s, by the second of the whole run (threads start within a few ms of each other).
  local lastSecond = -1
  for _, thread in ipairs(threads) do
    local lat, at, offset = thread:get("latencies"), thread:get("at"), thread:get("first")
    local shift = math.floor((offset - (first or offset)) / 1000000)
    for i = 1, #lat do
      local s = at[i] + shift
      perSecond[s] = perSecond[s] or {}
      table.insert(perSecond[s], lat[i])
      if s > lastSecond then lastSecond = s end
    end
  end
  table.sort(all)
  local parts, seconds = {}, {}
  for status, n in pairs(counts) do table.insert(parts, string.format('"%d":%d', status, n)) end
  for s = 0, lastSecond do
    local list = perSecond[s] or {}
    table.sort(list)
    table.insert(seconds, string.format("[%d,%d]", #list, percentile(list, 0.99)))
  end
  local e = summary.errors
  io.write(string.format(
    'WRK-JSON {"requests":%d,"sent":%d,"elapsedUs":%d,"statuses":{%s},"errors":{"connect":%d,"read":%d,"write":%d,"timeout":%d},' ..
    '"p50":%d,"p95":%d,"p99":%d,"seconds":[%s]}\n',
    answered, sent, first and (last - first) or 0, table.concat(parts, ","), e.connect, e.read, e.write, e.timeout,
    percentile(all, 0.5), percentile(all, 0.95), percentile(all, 0.99), table.concat(seconds, ",")))
end
