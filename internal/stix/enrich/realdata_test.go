package enrich

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tibeat/tibeat/internal/stix"
)

// unit42Objects returns the objects of a Unit 42 playbook, a STIX 2.0
// bundle, each with its JSON text.
func unit42Objects(t testing.TB, name string) (objects []map[string]any, texts [][]byte) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "..", "tests", "data", "stix", "unit42-playbooks", name))
	if err != nil {
		t.Fatal(err)
	}
	var bundle struct {
		Objects []json.RawMessage `json:"objects"`
	}
	if err := json.Unmarshal(data, &bundle); err != nil {
		t.Fatal(err)
	}
	for _, raw := range bundle.Objects {
		var obj map[string]any
		if err := json.Unmarshal(raw, &obj); err != nil {
			t.Fatal(err)
		}
		objects = append(objects, obj)
		texts = append(texts, raw)
	}
	return objects, texts
}

// The Emotet playbook lists its indicators before the relationships that
// tie them to a campaign and to ATT&CK techniques. The values below are
// those of the objects in the file, mapped to ECS.
func TestContextUnit42Playbook(t *testing.T) {
	objects, texts := unit42Objects(t, "emotet.json")
	x := New(DefaultLimits)
	republish := map[string]bool{}
	for i, obj := range objects {
		for _, id := range x.Observe(obj, texts[i], "unit42") {
			republish[id] = true
		}
	}

	const id = "indicator--001384cf-cfa9-46a2-b998-267a4b73c9b4"
	if !republish[id] {
		t.Errorf("%s was not reported for republishing", id)
	}
	indicators := 0
	for _, obj := range objects {
		if obj["type"] == "indicator" {
			indicators++
		}
	}
	if len(republish) != indicators {
		t.Errorf("%d indicators to republish, want all %d: every one has a relationship", len(republish), indicators)
	}

	doc := convertIndicator(t, x, id)
	checkFields(t, doc, map[string]any{
		"threat.technique.id":               []string{"T1105"},
		"threat.technique.name":             []string{"T1105: Ingress Tool Transfer"},
		"threat.technique.reference":        []string{"https://attack.mitre.org/techniques/T1105"},
		"threat.tactic.id":                  []string{"TA0011"},
		"threat.tactic.name":                []string{"Command and Control"},
		"stix.campaign.name":                []string{"Emotet Malware"},
		"threat.indicator.file.hash.sha256": []string{"04ccedb0e3981cccfb869d4b69f7e8b5bf299f371aebd784362d37ceed70d183"},
	})
	if doc.ID != convertText(t, New(DefaultLimits), string(texts[indexOf(objects, id)])).ID {
		t.Error("the enriched document has another _id than the first one")
	}
}

func indexOf(objects []map[string]any, id string) int {
	for i, obj := range objects {
		if obj["id"] == id {
			return i
		}
	}
	return -1
}

// BenchmarkConvertContext measures Convert of the Unit 42 playbooks'
// indicators without a context source and with the index of every object
// of the playbooks, which links each indicator to a campaign and an
// ATT&CK technique. "observe+convert" adds Index.Observe, as the
// stix_to_ecs processor runs it.
func BenchmarkConvertContext(b *testing.B) {
	entries, err := os.ReadDir(filepath.Join("..", "..", "..", "tests", "data", "stix", "unit42-playbooks"))
	if err != nil {
		b.Fatal(err)
	}
	x := New(DefaultLimits)
	var indicators [][]byte
	for _, entry := range entries {
		if filepath.Ext(entry.Name()) != ".json" {
			continue
		}
		objects, texts := unit42Objects(b, entry.Name())
		for i, obj := range objects {
			x.Observe(obj, texts[i], "unit42")
			if obj["type"] == "indicator" {
				indicators = append(indicators, texts[i])
			}
		}
	}
	run := func(name string, opts *stix.Options, observe bool) {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				text := indicators[i%len(indicators)]
				var obj map[string]any
				if err := json.Unmarshal(text, &obj); err != nil {
					b.Fatal(err)
				}
				if observe {
					x.Observe(obj, text, "unit42")
				}
				if _, err := stix.Convert(obj, opts); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	run("decode+convert", &stix.Options{}, false)
	run("decode+convert-with-context", &stix.Options{Context: x}, false)
	run("decode+observe+convert-with-context", &stix.Options{Context: x}, true)

	// On a shared machine the load changes between sub-benchmarks, so this
	// one runs both forms on the same object back to back and reports the
	// ratio of their times, which such changes affect much less.
	b.Run("interleaved", func(b *testing.B) {
		var without, with time.Duration
		withContext := &stix.Options{Context: x}
		for i := 0; b.Loop(); i++ {
			text := indicators[i%len(indicators)]
			start := time.Now()
			var plain map[string]any
			if err := json.Unmarshal(text, &plain); err != nil {
				b.Fatal(err)
			}
			if _, err := stix.Convert(plain, &stix.Options{}); err != nil {
				b.Fatal(err)
			}
			middle := time.Now()
			var enriched map[string]any
			if err := json.Unmarshal(text, &enriched); err != nil {
				b.Fatal(err)
			}
			x.Observe(enriched, text, "unit42")
			if _, err := stix.Convert(enriched, withContext); err != nil {
				b.Fatal(err)
			}
			end := time.Now()
			without += middle.Sub(start)
			with += end.Sub(middle)
		}
		b.ReportMetric(float64(without.Nanoseconds())/float64(b.N), "plain-ns/object")
		b.ReportMetric(float64(with.Nanoseconds())/float64(b.N), "context-ns/object")
		b.ReportMetric(float64(with)/float64(without), "context/plain")
	})
}
