-- wrk script: a fresh voter on every request (a per-thread prefix given as the first script
-- argument, and a counter), the option alternating between cat and dog. Further arguments are poll
-- ids: the requests then go round them (each poll gets both options) instead of to the URL's
-- path, so that under poll affinity at the ingress they reach every replica. At the end it prints one
-- line: RESULT <201 answers> <their rate /s> <p50 ms> <p99 ms> <non-2xx answers> <socket errors>.
-- Used by scripts/vote-throughput.sh and by the warm-up of scripts/compare.sh.
local n = 0
local prefix
local paths = {}
local threads = 0
-- setup runs in the main state once per thread; each thread's own state then knows its number.
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end
function init(args)
  prefix = args[1] .. "-" .. tostring(tid)
  for i = 2, #args do
    paths[#paths + 1] = "/api/polls/" .. args[i] .. "/votes"
  end
end
function request()
  n = n + 1
  local option = (n % 2 == 0) and "cat" or "dog"
  local path = nil
  if #paths > 0 then
    path = paths[math.floor(n / 2) % #paths + 1]
  end
  return wrk.format("POST", path, {["Content-Type"] = "application/json"},
    '{"voter":"' .. prefix .. '-' .. n .. '","option":"' .. option .. '"}')
end
function done(summary, latency, requests)
  local ok = summary.requests - summary.errors.status
  io.write(string.format("RESULT %d %.1f %.1f %.1f %d %d\n", ok,
    ok / (summary.duration / 1e6), latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
