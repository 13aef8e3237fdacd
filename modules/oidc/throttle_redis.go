package oidc

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// redisSignInCounter keeps the sign-in protection counters in Redis (when
// GATEHOUSE_REDIS_URL is set). Each update is one atomic command or script;
// every key expires on its own, so nothing needs cleaning up.
type redisSignInCounter struct {
	rdb    redis.UniversalClient
	prefix string
	policy throttlePolicy
}

func newRedisSignInCounter(rdb redis.UniversalClient, prefix string, p throttlePolicy) *redisSignInCounter {
	if prefix == "" {
		prefix = "gatehouse:signin:"
	}
	return &redisSignInCounter{rdb: rdb, prefix: prefix, policy: p.withDefaults()}
}

func (c *redisSignInCounter) hitSource(ctx context.Context, source string, now time.Time) (time.Duration, error) {
	win := int64(c.policy.SourceWindow / time.Second)
	start := now.Unix() - now.Unix()%win
	key := c.prefix + "src:" + source + ":" + strconv.FormatInt(start, 10)
	pipe := c.rdb.TxPipeline()
	incr := pipe.Incr(ctx, key)
	pipe.Expire(ctx, key, 2*c.policy.SourceWindow)
	if _, err := pipe.Exec(ctx); err != nil {
		return 0, fmt.Errorf("oidc: count sign-in attempt: %w", err)
	}
	if incr.Val() > int64(c.policy.SourceLimit) {
		return time.Unix(start+win, 0).Sub(now), nil
	}
	return 0, nil
}

func (c *redisSignInCounter) lockedFor(ctx context.Context, login string, now time.Time) (time.Duration, error) {
	until, err := c.rdb.HGet(ctx, c.prefix+"login:"+login, "until").Int64()
	if err == redis.Nil {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("oidc: read sign-in lock: %w", err)
	}
	if until <= now.Unix() {
		return 0, nil
	}
	return time.Unix(until, 0).Sub(now), nil
}

// redisFailScript counts a failure and locks at the threshold, atomically.
// KEYS[1] the identifier's hash; ARGV: now, forget-before, lock-after,
// first lock (s), max lock (s), key TTL (s). Returns the lock's length in
// seconds, 0 when this failure did not lock.
var redisFailScript = redis.NewScript(`
local k = KEYS[1]
local now = tonumber(ARGV[1])
local f = tonumber(redis.call('HGET', k, 'failures') or '0')
local l = tonumber(redis.call('HGET', k, 'locks') or '0')
local last = tonumber(redis.call('HGET', k, 'last') or '0')
if last < tonumber(ARGV[2]) then f = 0; l = 0 end
f = f + 1
local locked = 0
if f >= tonumber(ARGV[3]) then
  f = 0
  l = l + 1
  locked = tonumber(ARGV[4])
  local i = 1
  while i < l and locked < tonumber(ARGV[5]) do locked = locked * 2; i = i + 1 end
  if locked > tonumber(ARGV[5]) then locked = tonumber(ARGV[5]) end
  redis.call('HSET', k, 'until', now + locked)
end
redis.call('HSET', k, 'failures', f, 'locks', l, 'last', now)
redis.call('EXPIRE', k, tonumber(ARGV[6]))
return locked
`)

func (c *redisSignInCounter) fail(ctx context.Context, login string, now time.Time) (time.Duration, error) {
	ttl := int64((c.policy.ForgetAfter + c.policy.MaxLock) / time.Second)
	secs, err := redisFailScript.Run(ctx, c.rdb, []string{c.prefix + "login:" + login},
		now.Unix(), now.Add(-c.policy.ForgetAfter).Unix(), c.policy.LockAfter,
		int64(c.policy.FirstLock/time.Second), int64(c.policy.MaxLock/time.Second), ttl).Int64()
	if err != nil {
		return 0, fmt.Errorf("oidc: count sign-in failure: %w", err)
	}
	return time.Duration(secs) * time.Second, nil
}

func (c *redisSignInCounter) succeed(ctx context.Context, login string) error {
	if err := c.rdb.Del(ctx, c.prefix+"login:"+login).Err(); err != nil {
		return fmt.Errorf("oidc: reset sign-in failures: %w", err)
	}
	return nil
}
