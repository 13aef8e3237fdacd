-- wrk script of scripts/load.sh: the request's method and body come from
-- the environment (headers are wrk's -H).
--   LOAD_METHOD       GET (default) or POST
--   LOAD_BODY         the body; {n} in it becomes a number unique to the
--                     request (so no cache answers it)
--   LOAD_BODY_FILE    a file whose lines are cycled through, each put in
--   LOAD_BODY_FORMAT  in place of %s (default "%s")
local nthreads = 0

function setup(thread)
	nthreads = nthreads + 1
	thread:set("tid", nthreads)
end

local method, body, format, lines, idx, counter

function init(args)
	method = os.getenv("LOAD_METHOD") or "GET"
	body = os.getenv("LOAD_BODY") or ""
	format = os.getenv("LOAD_BODY_FORMAT") or "%s"
	local file = os.getenv("LOAD_BODY_FILE") or ""
	if file ~= "" then
		lines = {}
		for l in io.lines(file) do
			lines[#lines + 1] = l
		end
	end
	-- Threads start at different lines and counters.
	idx = (tid or 1) * 7919
	counter = (tid or 1) * 1000000000
end

function request()
	local b = nil
	if lines then
		idx = idx % #lines + 1
		b = format:gsub("%%s", function() return lines[idx] end)
	elseif body ~= "" then
		counter = counter + 1
		b = body:gsub("{n}", tostring(counter))
	end
	return wrk.format(method, nil, nil, b)
end
