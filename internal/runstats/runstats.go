// Package runstats keeps the error counters of each input for the whole
// process. libbeat removes an input source's metrics registry when the
// source stops, before `tibeat run --once` prints its summary, so the
// summary reads these counters instead.
package runstats

import (
	"sort"
	"sync"

	"github.com/elastic/elastic-agent-libs/monitoring"
)

var (
	mu       sync.Mutex
	counters = map[key]*monitoring.Uint{}
)

type key struct{ input, name string }

// ErrorCounter returns the process-wide counter name of the input with id
// inputID, and also publishes it in reg (when not nil) so that the
// monitoring endpoint shows the same value under the input.
func ErrorCounter(reg *monitoring.Registry, inputID, name string) *monitoring.Uint {
	mu.Lock()
	c, ok := counters[key{inputID, name}]
	if !ok {
		c = &monitoring.Uint{}
		counters[key{inputID, name}] = c
	}
	mu.Unlock()
	if reg != nil && reg.Get(name) == nil {
		reg.Add(name, c, monitoring.Full)
	}
	return c
}

// Count is one non-zero error counter of one input.
type Count struct {
	Input, Name string
	Value       uint64
}

// Errors lists the non-zero counters, sorted by input id and name.
func Errors() []Count {
	mu.Lock()
	defer mu.Unlock()
	var out []Count
	for k, c := range counters {
		if v := c.Get(); v > 0 {
			out = append(out, Count{k.input, k.name, v})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Input != out[j].Input {
			return out[i].Input < out[j].Input
		}
		return out[i].Name < out[j].Name
	})
	return out
}
