package stix

import (
	"github.com/elastic/beats/v7/libbeat/beat"
	"github.com/elastic/elastic-agent-libs/mapstr"

	"github.com/tibeat/tibeat/internal/stix/enrich"
)

// rawKey is the event field where decode_stix leaves the object's JSON text
// for stix_to_ecs when a Context is set, and where a republished indicator
// arrives. stix_to_ecs removes it, so no document carries it.
const rawKey = "_stix_raw"

// Context connects the processors of every input to one context index.
type Context struct {
	Index *enrich.Index
	// Republish receives the ids of indicators stored in Index whose context
	// changed after they were published. It must not block for long,
	// because it runs inside the pipeline client's Publish.
	Republish func(indicatorIDs []string)
}

// WithContext returns a copy of cfg whose processors record every object
// in ctx.Index, enrich indicators from it, and report the indicators to
// publish again. input is the id of the input the processors serve; a
// republished indicator goes through that input's processors again.
func (c Config) WithContext(ctx *Context, input string) Config {
	c.context = ctx
	c.input = input
	return c
}

// republishedKey marks an event that decode_stix read from rawKey, so that
// stix_to_ecs neither counts nor logs it a second time.
const republishedKey = "_stix_republished"

// RepublishEvent returns the event that publishes a stored indicator again.
// The input's decode_stix reads it whatever its field setting.
func RepublishEvent(raw []byte) beat.Event {
	return beat.Event{Fields: mapstr.M{rawKey: string(raw)}}
}
