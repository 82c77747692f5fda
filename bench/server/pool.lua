-- wrk script of scripts/bench-server.sh: requests taken from a pool file, one request per line.
--
--   wrk -s pool.lua URL -- POOL_FILE MODE
--
-- MODE "form": each line is an x-www-form-urlencoded body POSTed to URL's path.
-- MODE "get": each line is a path, sent as a plain GET.
-- MODE "bearer": each line is "PATH<TAB>ACCESS_TOKEN", sent as a GET with "Authorization: Bearer".
-- Thread t of T takes lines t, t+T, t+2T, … so single-use credentials (authorization codes) are never sent twice
-- while the pool lasts; past its end the pool wraps (a spent code then counts as a non-2xx answer).
-- BENCH_DELAY_MS > 0 makes every connection wait that long before each request (the half-load runs).
-- done() prints one "BENCH key=value …" line (latencies in µs) that the script parses.
--
-- wrk shares the two cores with the server, so what it spends per request is taken from the server's rate.
-- Each request is built once, by concatenating a head made in init() with the line, and kept for the next
-- time the pool comes round to it (pools of up to KEEP lines; longer pools, the single-use codes, are built
-- each time). wrk.format() built a header table and formatted every line of it on every request: 8.5–9.8 µs
-- of wrk's CPU per POST against 7.5–7.7 µs built this way, the same as a plain GET (BENCHMARKS.md, 12-07).

local threads = {}
local counter = 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

local KEEP = 65536

function init(args)
  pool = {}
  for line in io.lines(args[1]) do
    if #line > 0 then
      pool[#pool + 1] = line
    end
  end
  if #pool == 0 then
    error("empty pool file " .. args[1])
  end
  mode = args[2] or "form"
  if mode ~= "form" and mode ~= "get" and mode ~= "bearer" then
    error("unknown mode " .. mode .. " (form, get or bearer)")
  end
  step = tonumber(args[3] or "1")
  index = id
  size = #pool
  keep = size <= KEEP
  built = {}
  -- wrk.init() has put the URL's host in wrk.headers before calling this.
  host = "\r\nHost: " .. wrk.headers["Host"]
  form_head = "POST " .. wrk.path .. " HTTP/1.1" .. host
    .. "\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: "
end

local function build(line)
  if mode == "get" then
    return "GET " .. line .. " HTTP/1.1" .. host .. "\r\n\r\n"
  end
  if mode == "bearer" then
    local path, token = line:match("^([^\t]+)\t(.+)$")
    return "GET " .. path .. " HTTP/1.1" .. host .. "\r\nAuthorization: Bearer " .. token .. "\r\n\r\n"
  end
  return form_head .. #line .. "\r\n\r\n" .. line
end

function request()
  local i = (index % size) + 1
  index = index + step
  local r = built[i]
  if r == nil then
    r = build(pool[i])
    if keep then
      built[i] = r
    end
  end
  return r
end

local delay_ms = tonumber(os.getenv("BENCH_DELAY_MS") or "0")
if delay_ms > 0 then
  function delay()
    return delay_ms
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCH requests=%d duration_us=%d rps=%.1f p50_us=%d p90_us=%d p99_us=%d mean_us=%.0f non2xx=%d sockerr=%d\n",
    summary.requests, summary.duration, summary.requests / (summary.duration / 1e6),
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.mean,
    e.status, e.connect + e.read + e.write + e.timeout))
end
