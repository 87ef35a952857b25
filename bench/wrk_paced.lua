-- Fixed request rate for Debian's wrk 4, which has no -R (that is wrk2): every thread sends
-- on its own schedule of RATE / THREADS requests per second, slot after slot, and each
-- connection that is free waits for the next slot (wrk's delay() hook). Slots missed while
-- the server is slow are sent at once, so a slow server still gets the offered load.
-- wrk measures latency from writing a request to reading its response (service time, not
-- corrected for coordinated omission: wrk2's -R does that, this does not).
--
--   RATE=1000 THREADS=2 wrk -t2 -c16 -d10s --latency -s bench/wrk_paced.lua URL
local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } trace_timespec;
  int clock_gettime(int clk_id, trace_timespec *tp);
]]
local ts = ffi.new("trace_timespec")
local function now_ms()
  ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
end

local rate = tonumber(os.getenv("RATE") or "1000")
local threads = tonumber(os.getenv("THREADS") or "2")
local interval = threads * 1000 / rate -- ms between two slots of one thread
local next_slot = nil

wrk.headers["Accept"] = os.getenv("ACCEPT") or "application/json"

function delay()
  local t = now_ms()
  if next_slot == nil then next_slot = t end
  next_slot = next_slot + interval
  local d = next_slot - t
  if d < 0 then return 0 end
  return d
end
