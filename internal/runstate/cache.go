package runstate

import (
	"context"
	"sync"
	"time"
)

// Cache holds the open run id for TTL so the transformer does not read
// DynamoDB on every invocation. A rotation therefore reaches records at
// most TTL late; the README's "Run ids" section accounts for that delay.
type Cache struct {
	Store *Store
	TTL   time.Duration

	mu      sync.Mutex
	id      string
	fetched time.Time
}

// RunID returns the open run id, read again once the cached one is older than TTL.
func (c *Cache) RunID(ctx context.Context) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.Store.now()
	if c.id != "" && now.Sub(c.fetched) < c.TTL {
		return c.id, nil
	}
	run, err := c.Store.Current(ctx)
	if err != nil {
		return "", err
	}
	c.id, c.fetched = run.ID, now
	return c.id, nil
}
