-- wrk script: POST /api/send-message with 100 users in turn (keyed posts).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local counter = 0
request = function()
  counter = counter + 1
  return wrk.format(nil, "/api/send-message", nil,
    '{"user_id":"bench' .. (counter % 100) .. '","content":"benchmark post number ' .. counter .. '"}')
end
