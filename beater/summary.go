package beater

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/elastic/elastic-agent-libs/logp"
	"github.com/elastic/elastic-agent-libs/monitoring"

	"github.com/tibeat/tibeat/internal/runstats"
	stixproc "github.com/tibeat/tibeat/processors/stix"
)

func snapshot(reg *monitoring.Registry) map[string]int64 {
	return monitoring.CollectFlatSnapshot(reg, monitoring.Full, false).Ints
}

// printSummary reports what a --once run did, on standard error so that it
// does not mix with documents written by output.console.
// published counts the events the output acknowledged and unacknowledged
// those it had not when the run was stopped, which the next run sends
// again.
func printSummary(log *logp.Logger, took time.Duration, published, unacknowledged uint64, runners []*runner) {
	m := stixproc.GlobalMetrics()
	inputErrors := map[string]uint64{}
	for _, c := range runstats.Errors() {
		inputErrors[c.Input+" "+c.Name] = c.Value
	}
	for _, r := range runners {
		for k, n := range r.metrics {
			name := r.id + " " + k
			if _, counted := inputErrors[name]; !counted && strings.HasSuffix(k, "errors") && n > 0 {
				inputErrors[name] = uint64(n)
			}
		}
	}

	var b strings.Builder
	w := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(&b, "tibeat: run finished in %s\n", took.Round(time.Millisecond))
	fmt.Fprintf(w, "  objects read\t%d\t\n", m.Objects.Get())
	fmt.Fprintf(w, "  documents published\t%d\t\n", published)
	if unacknowledged == 0 {
		fmt.Fprintf(w, "    of which indicators sent again with later context\t%d\t\n", m.Republished.Get())
	} else {
		// Republished documents may be among those not acknowledged.
		fmt.Fprintf(w, "  documents not acknowledged, sent again by the next run\t%d\t\n", unacknowledged)
		fmt.Fprintf(w, "  indicators queued again with later context\t%d\t\n", m.Republished.Get())
	}
	fmt.Fprintf(w, "  indicators\t%d\t\n", m.Indicators.Get())
	for _, tc := range m.IndicatorTypes() {
		fmt.Fprintf(w, "    %s\t%d\t\n", tc.Type, tc.Count)
	}
	fmt.Fprintf(w, "  invalid JSON\t%d\t\n", m.DecodeErrors.Get())
	fmt.Fprintf(w, "  objects without type or id\t%d\t\n", m.ObjectErrors.Get())
	fmt.Fprintf(w, "  patterns that did not parse\t%d\t\n", m.PatternErrors.Get())
	fmt.Fprintf(w, "  values kept unmapped\t%d\t\n", m.Warnings.Get())
	keys := make([]string, 0, len(inputErrors))
	for k := range inputErrors {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(w, "  input %s\t%d\t\n", k, inputErrors[k])
	}
	w.Flush()

	os.Stderr.WriteString(b.String())
	log.Infow("run summary",
		"objects_read", m.Objects.Get(),
		"documents_published", published,
		"documents_unacknowledged", unacknowledged,
		"republished", m.Republished.Get(),
		"indicators", m.Indicators.Get(),
		"decode_errors", m.DecodeErrors.Get(),
		"object_errors", m.ObjectErrors.Get(),
		"pattern_errors", m.PatternErrors.Get(),
		"input_errors", inputErrors)
}
