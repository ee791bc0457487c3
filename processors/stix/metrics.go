package stix

import (
	"sort"
	"sync"

	"github.com/elastic/elastic-agent-libs/monitoring"
)

// Metrics counts what the STIX processors saw, across all inputs. They are
// served under "stix" by libbeat's monitoring endpoint and feed the summary
// that `tibeat run --once` prints.
type Metrics struct {
	Objects        *monitoring.Uint // STIX objects decoded
	Indicators     *monitoring.Uint // indicator objects converted
	DecodeErrors   *monitoring.Uint // events whose JSON did not decode
	ObjectErrors   *monitoring.Uint // objects skipped: no type or no id
	PatternErrors  *monitoring.Uint // indicator patterns that did not parse
	Warnings       *monitoring.Uint // values kept under stix.* but not mapped
	Restricted     *monitoring.Uint // non-indicator objects dropped by restrict_to_indicators
	Republished    *monitoring.Uint // indicators published again because their context changed; the beater counts them
	indicatorTypes *monitoring.Registry

	mu    sync.Mutex
	types map[string]*monitoring.Uint
}

var (
	metricsOnce sync.Once
	metrics     *Metrics
)

// GlobalMetrics returns the process-wide STIX metrics.
func GlobalMetrics() *Metrics {
	metricsOnce.Do(func() {
		reg := monitoring.Default.GetOrCreateRegistry("stix")
		metrics = &Metrics{
			Objects:        monitoring.NewUint(reg, "objects"),
			Indicators:     monitoring.NewUint(reg, "indicators"),
			DecodeErrors:   monitoring.NewUint(reg, "decode_errors"),
			ObjectErrors:   monitoring.NewUint(reg, "object_errors"),
			PatternErrors:  monitoring.NewUint(reg, "pattern_errors"),
			Warnings:       monitoring.NewUint(reg, "conversion_warnings"),
			Restricted:     monitoring.NewUint(reg, "restricted"),
			Republished:    monitoring.NewUint(reg, "republished"),
			indicatorTypes: reg.GetOrCreateRegistry("indicator_types"),
			types:          map[string]*monitoring.Uint{},
		}
	})
	return metrics
}

func (m *Metrics) countType(t string) {
	m.mu.Lock()
	c, ok := m.types[t]
	if !ok {
		c = monitoring.NewUint(m.indicatorTypes, t)
		m.types[t] = c
	}
	m.mu.Unlock()
	c.Inc()
}

// TypeCount is the number of indicators seen for one threat.indicator.type.
type TypeCount struct {
	Type  string
	Count uint64
}

// IndicatorTypes returns the indicator count per threat.indicator.type,
// sorted by type. An indicator with several types counts once for each.
func (m *Metrics) IndicatorTypes() []TypeCount {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]TypeCount, 0, len(m.types))
	for t, c := range m.types {
		out = append(out, TypeCount{t, c.Get()})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Type < out[j].Type })
	return out
}
