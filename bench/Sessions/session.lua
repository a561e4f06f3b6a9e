-- wrk script: one session per connection. Run wrk with as many threads as connections (-t N -c N), so each
-- thread (its own Lua state) drives exactly one connection. run.sh logs every session in beforehand (POST
-- /api/counter with curl, one cookie per line of $SESSION_COOKIES); thread i sends cookie i on every request.
-- Deliberately no request()/response() callbacks: with them wrk builds a Lua table of the headers and body of every
-- response, CPU that on a small machine is taken from the app under test and would blur the comparison. wrk
-- itself reports "Non-2xx or 3xx responses" if any request fails.
-- usage: wrk -t16 -c16 -d10s -s session.lua http://127.0.0.1:PORT -- /bench/read
local count = 0

function setup(thread)
  count = count + 1
  thread:set("index", count)
end

function init(args)
  local file = assert(io.open(assert(os.getenv("SESSION_COOKIES"), "SESSION_COOKIES is not set"), "r"))
  local cookies = {}
  for line in file:lines() do
    if line ~= "" then table.insert(cookies, line) end
  end
  file:close()
  local cookie = assert(cookies[index], "fewer cookies than threads")
  wrk.path = args[1] or "/bench/read"
  wrk.headers["Cookie"] = cookie
end
