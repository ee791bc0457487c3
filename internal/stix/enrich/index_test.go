package enrich

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/tibeat/tibeat/internal/stix"
)

const (
	indicatorID = "indicator--5f8b4c61-6e3e-4b4c-9d6a-1f1c2a7e0a01"
	malwareID   = "malware--3a5e2b1c-8d7f-4e6a-9b0c-1d2e3f4a5b01"
)

func object(t testing.TB, text string) map[string]any {
	t.Helper()
	var obj map[string]any
	if err := json.Unmarshal([]byte(text), &obj); err != nil {
		t.Fatalf("decode %s: %v", text, err)
	}
	return obj
}

func indicatorJSON(modified string, extra string) string {
	return `{"type":"indicator","spec_version":"2.1","id":"` + indicatorID + `","created":"2024-01-01T00:00:00.000Z",` +
		`"modified":"` + modified + `","pattern":"[ipv4-addr:value = '198.51.100.7']","pattern_type":"stix",` +
		`"valid_from":"2024-01-01T00:00:00.000Z"` + extra + `}`
}

func relationshipJSON(id, relationshipType, source, target, modified string, extra string) string {
	return `{"type":"relationship","spec_version":"2.1","id":"` + id + `","created":"2024-01-01T00:00:00.000Z",` +
		`"modified":"` + modified + `","relationship_type":"` + relationshipType + `","source_ref":"` + source +
		`","target_ref":"` + target + `"` + extra + `}`
}

// feed observes each object's JSON text, as the converter does, and
// returns the indicators reported for republishing.
func feed(t testing.TB, x *Index, texts ...string) []string {
	t.Helper()
	var affected []string
	for _, text := range texts {
		affected = append(affected, x.Observe(object(t, text), []byte(text), "input-a")...)
	}
	return affected
}

// convertIndicator converts the indicator stored in x with x as context.
func convertIndicator(t testing.TB, x *Index, id string) *stix.Document {
	t.Helper()
	raw, _, _, ok := x.Stored(id)
	if !ok {
		t.Fatalf("indicator %s is not stored", id)
	}
	return convertText(t, x, string(raw))
}

func convertText(t testing.TB, x *Index, text string) *stix.Document {
	t.Helper()
	doc, err := stix.Convert(object(t, text), &stix.Options{Context: x})
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// field looks a dotted field up in the document's nested maps.
func field(doc *stix.Document, path string) any {
	var node any = doc.Fields
	for _, key := range strings.Split(path, ".") {
		m, ok := node.(map[string]any)
		if !ok {
			return nil
		}
		node = m[key]
	}
	return node
}

func checkFields(t *testing.T, doc *stix.Document, want map[string]any) {
	t.Helper()
	for path, value := range want {
		if got := field(doc, path); !reflect.DeepEqual(got, value) {
			t.Errorf("%s = %#v, want %#v", path, got, value)
		}
	}
}

// contextObjects are one object of each context type, with the fields the
// STIX 2.1 specification gives them and ATT&CK references as MITRE's
// ATT&CK data writes them. want is what ECS threat.* or stix.campaign gets.
var contextObjects = []struct {
	name string
	json string
	want map[string]any
}{
	{
		name: "malware",
		json: `{"type":"malware","spec_version":"2.1","id":"` + malwareID + `","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z",
			"name":"Emotet","is_family":true,"aliases":["Geodo"],"x_mitre_platforms":["Windows"],
			"external_references":[{"source_name":"mitre-attack","external_id":"S0367","url":"https://attack.mitre.org/software/S0367"}]}`,
		want: map[string]any{
			"threat.software.id": []string{"S0367"}, "threat.software.name": []string{"Emotet"},
			"threat.software.type": []string{"Malware"}, "threat.software.alias": []string{"Geodo"},
			"threat.software.platforms": []string{"Windows"},
		},
	},
	{
		name: "tool",
		json: `{"type":"tool","spec_version":"2.1","id":"tool--3a5e2b1c-8d7f-4e6a-9b0c-1d2e3f4a5b02","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z",
			"name":"Cobalt Strike","external_references":[{"source_name":"mitre-attack","external_id":"S0154"}]}`,
		want: map[string]any{
			"threat.software.id": []string{"S0154"}, "threat.software.name": []string{"Cobalt Strike"},
			"threat.software.type": []string{"Tool"},
		},
	},
	{
		name: "threat-actor",
		json: `{"type":"threat-actor","spec_version":"2.1","id":"threat-actor--3a5e2b1c-8d7f-4e6a-9b0c-1d2e3f4a5b03","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z",
			"name":"Evil Corp","aliases":["Indrik Spider"]}`,
		want: map[string]any{"threat.group.name": []string{"Evil Corp"}, "threat.group.alias": []string{"Indrik Spider"}},
	},
	{
		name: "intrusion-set",
		json: `{"type":"intrusion-set","spec_version":"2.1","id":"intrusion-set--3a5e2b1c-8d7f-4e6a-9b0c-1d2e3f4a5b04","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z",
			"name":"APT28","aliases":["Fancy Bear","Sofacy"],"external_references":[{"source_name":"mitre-attack","external_id":"G0007"}]}`,
		want: map[string]any{
			"threat.group.id": []string{"G0007"}, "threat.group.name": []string{"APT28"},
			"threat.group.alias": []string{"Fancy Bear", "Sofacy"},
		},
	},
	{
		name: "campaign",
		json: `{"type":"campaign","spec_version":"2.1","id":"campaign--3a5e2b1c-8d7f-4e6a-9b0c-1d2e3f4a5b05","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z",
			"name":"Operation Example"}`,
		want: map[string]any{
			"stix.campaign.id":   []string{"campaign--3a5e2b1c-8d7f-4e6a-9b0c-1d2e3f4a5b05"},
			"stix.campaign.name": []string{"Operation Example"},
		},
	},
	{
		name: "attack-pattern",
		json: `{"type":"attack-pattern","spec_version":"2.1","id":"attack-pattern--3a5e2b1c-8d7f-4e6a-9b0c-1d2e3f4a5b06","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z",
			"name":"Ingress Tool Transfer","kill_chain_phases":[{"kill_chain_name":"mitre-attack","phase_name":"command-and-control"}],
			"external_references":[{"source_name":"mitre-attack","external_id":"T1105","url":"https://attack.mitre.org/techniques/T1105"}]}`,
		want: map[string]any{
			"threat.technique.id": []string{"T1105"}, "threat.technique.name": []string{"Ingress Tool Transfer"},
			"threat.technique.reference": []string{"https://attack.mitre.org/techniques/T1105"},
			"threat.tactic.id":           []string{"TA0011"}, "threat.tactic.name": []string{"Command and Control"},
			"threat.tactic.reference": []string{"https://attack.mitre.org/tactics/TA0011/"},
		},
	},
}

func objectID(t testing.TB, text string) string {
	return object(t, text)["id"].(string)
}

// Every context type and every link type, in both arrival orders: context
// first gives the fields at the first conversion; the indicator first is
// reported for republishing when the context arrives, and its conversion
// then gives the same fields.
func TestContextEachKindBothOrders(t *testing.T) {
	for _, kind := range contextObjects {
		for _, link := range []string{"indicates", "based-on", "related-to"} {
			relationship := relationshipJSON("relationship--"+fmt.Sprintf("%08d", len(kind.name))+"-0000-4000-8000-000000000001",
				link, indicatorID, objectID(t, kind.json), "2024-01-01T00:00:00.000Z", "")
			t.Run(kind.name+" "+link+" before", func(t *testing.T) {
				x := New(DefaultLimits)
				if affected := feed(t, x, kind.json, relationship, indicatorJSON("2024-01-01T00:00:00.000Z", "")); len(affected) > 0 {
					t.Errorf("affected = %v before the indicator arrived", affected)
				}
				checkFields(t, convertIndicator(t, x, indicatorID), kind.want)
			})
			t.Run(kind.name+" "+link+" after", func(t *testing.T) {
				x := New(DefaultLimits)
				feed(t, x, indicatorJSON("2024-01-01T00:00:00.000Z", ""))
				if affected := feed(t, x, relationship, kind.json); !slices.Contains(affected, indicatorID) {
					t.Errorf("affected = %v, want the indicator", affected)
				}
				checkFields(t, convertIndicator(t, x, indicatorID), kind.want)
			})
		}
	}
}

func TestContextReverseDirection(t *testing.T) {
	x := New(DefaultLimits)
	feed(t, x, indicatorJSON("2024-01-01T00:00:00.000Z", ""), contextObjects[0].json,
		relationshipJSON("relationship--00000000-0000-4000-8000-000000000002", "related-to", malwareID, indicatorID, "2024-01-01T00:00:00.000Z", ""))

	checkFields(t, convertIndicator(t, x, indicatorID), contextObjects[0].want)
}

func TestContextIgnoresOtherRelationships(t *testing.T) {
	x := New(DefaultLimits)
	affected := feed(t, x, indicatorJSON("2024-01-01T00:00:00.000Z", ""), contextObjects[0].json,
		relationshipJSON("relationship--00000000-0000-4000-8000-000000000003", "uses", indicatorID, malwareID, "2024-01-01T00:00:00.000Z", ""))

	if len(affected) > 0 {
		t.Errorf("affected = %v, want none for a uses relationship", affected)
	}
	if doc := convertIndicator(t, x, indicatorID); field(doc, "threat.software") != nil {
		t.Errorf("threat.software = %v, want none", field(doc, "threat.software"))
	}
}

func TestContextSubtechnique(t *testing.T) {
	parent := `{"type":"attack-pattern","spec_version":"2.1","id":"attack-pattern--00000000-0000-4000-8000-0000000000a1","modified":"2024-01-01T00:00:00.000Z",
		"name":"Phishing","external_references":[{"source_name":"mitre-attack","external_id":"T1566","url":"https://attack.mitre.org/techniques/T1566"}]}`
	child := `{"type":"attack-pattern","spec_version":"2.1","id":"attack-pattern--00000000-0000-4000-8000-0000000000a2","modified":"2024-01-01T00:00:00.000Z",
		"name":"Spearphishing Link","kill_chain_phases":[{"kill_chain_name":"mitre-attack","phase_name":"initial-access"}],
		"external_references":[{"source_name":"mitre-attack","external_id":"T1566.002","url":"https://attack.mitre.org/techniques/T1566/002"}]}`
	x := New(DefaultLimits)
	feed(t, x, parent, child, indicatorJSON("2024-01-01T00:00:00.000Z", ""),
		relationshipJSON("relationship--00000000-0000-4000-8000-0000000000a3", "indicates", indicatorID, objectID(t, child), "2024-01-01T00:00:00.000Z", ""))

	checkFields(t, convertIndicator(t, x, indicatorID), map[string]any{
		"threat.technique.id":                     []string{"T1566"},
		"threat.technique.name":                   []string{"Phishing"},
		"threat.technique.reference":              []string{"https://attack.mitre.org/techniques/T1566"},
		"threat.technique.subtechnique.id":        []string{"T1566.002"},
		"threat.technique.subtechnique.name":      []string{"Spearphishing Link"},
		"threat.technique.subtechnique.reference": []string{"https://attack.mitre.org/techniques/T1566/002"},
		"threat.tactic.id":                        []string{"TA0001"},
		"threat.tactic.name":                      []string{"Initial Access"},
	})
}

func TestContextNewestVersionWins(t *testing.T) {
	newer := strings.Replace(strings.Replace(contextObjects[0].json, `"modified":"2024-01-01T00:00:00.000Z"`, `"modified":"2024-03-01T00:00:00.000Z"`, 1), `"Emotet"`, `"Emotet v2"`, 1)
	relationship := relationshipJSON("relationship--00000000-0000-4000-8000-000000000004", "indicates", indicatorID, malwareID, "2024-01-01T00:00:00.000Z", "")
	x := New(DefaultLimits)

	feed(t, x, indicatorJSON("2024-01-01T00:00:00.000Z", ""), relationship, newer)
	if affected := feed(t, x, contextObjects[0].json); len(affected) > 0 {
		t.Errorf("an older malware version reported %v for republishing", affected)
	}

	checkFields(t, convertIndicator(t, x, indicatorID), map[string]any{"threat.software.name": []string{"Emotet v2"}})
}

func TestContextRevokedRelationship(t *testing.T) {
	relationship := relationshipJSON("relationship--00000000-0000-4000-8000-000000000005", "indicates", indicatorID, malwareID, "2024-01-01T00:00:00.000Z", "")
	revoked := relationshipJSON("relationship--00000000-0000-4000-8000-000000000005", "indicates", indicatorID, malwareID, "2024-02-01T00:00:00.000Z", `,"revoked":true`)
	x := New(DefaultLimits)

	feed(t, x, indicatorJSON("2024-01-01T00:00:00.000Z", ""), contextObjects[0].json, revoked, relationship)

	if doc := convertIndicator(t, x, indicatorID); field(doc, "threat.software") != nil {
		t.Errorf("threat.software = %v after the relationship was revoked", field(doc, "threat.software"))
	}
}

// A revoked version expires the indicator, even when an older version
// arrives after it: the older version's document expires at the
// revocation.
func TestContextRevokedVersionExpiresOlder(t *testing.T) {
	x := New(DefaultLimits)
	revoked := indicatorJSON("2024-02-01T00:00:00.000Z", `,"revoked":true`)
	older := indicatorJSON("2024-01-01T00:00:00.000Z", "")

	feed(t, x, revoked, older)

	doc := convertText(t, x, older)
	checkFields(t, doc, map[string]any{
		"stix.ioc_expiration_reason": "revoked",
		"stix.ioc_expiration_date":   "2024-02-01T00:00:00.000Z",
	})
	if raw, _, _, _ := x.Stored(indicatorID); string(raw) != revoked {
		t.Errorf("stored version %s, want the revoked newer one", raw)
	}
	unrelated := convertText(t, New(DefaultLimits), older)
	checkFields(t, unrelated, map[string]any{"stix.ioc_expiration_reason": "default"})
}

func TestContextMarkingDefinitions(t *testing.T) {
	tests := []struct {
		name    string
		marking string
		tlp     any
		version any
	}{
		{"TLP 1.0 definition", `"definition_type":"tlp","definition":{"tlp":"amber"}`, "AMBER", "1.0"},
		{"TLP 2.0 extension", `"name":"TLP:AMBER+STRICT","extensions":{"extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d":{"extension_type":"property-extension","tlp_2_0":"amber+strict"}}`, "AMBER+STRICT", "2.0"},
		{"name only", `"name":"TLP:AMBER","definition_type":"x-custom","definition":{}`, "AMBER", nil},
		{"statement", `"definition_type":"statement","definition":{"statement":"Copyright 2024, Example Corp"}`, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			markingID := "marking-definition--00000000-0000-4000-8000-0000000000b1"
			marking := `{"type":"marking-definition","spec_version":"2.1","id":"` + markingID + `","created":"2024-01-01T00:00:00.000Z",` + tt.marking + `}`
			x := New(DefaultLimits)

			feed(t, x, indicatorJSON("2024-01-01T00:00:00.000Z", `,"object_marking_refs":["`+markingID+`"]`))
			affected := feed(t, x, marking)

			if tt.tlp != nil && !slices.Contains(affected, indicatorID) {
				t.Errorf("affected = %v, want the indicator that refers to the marking", affected)
			}
			doc := convertIndicator(t, x, indicatorID)
			checkFields(t, doc, map[string]any{
				"threat.indicator.marking.tlp":         tt.tlp,
				"threat.indicator.marking.tlp_version": tt.version,
				"stix.object_marking_refs":             []any{markingID},
			})
		})
	}
}

func TestContextLimits(t *testing.T) {
	x := New(Limits{Objects: 2, Relationships: 2, Indicators: 2, IndicatorBytes: 1 << 20})
	for i := range 5 {
		feed(t, x,
			fmt.Sprintf(`{"type":"malware","id":"malware--00000000-0000-4000-8000-%012d","modified":"2024-01-01T00:00:00Z","name":"m%d"}`, i, i),
			relationshipJSON(fmt.Sprintf("relationship--00000000-0000-4000-8000-%012d", i), "indicates",
				fmt.Sprintf("indicator--00000000-0000-4000-8000-%012d", i), fmt.Sprintf("malware--00000000-0000-4000-8000-%012d", i), "2024-01-01T00:00:00Z", ""),
			strings.Replace(indicatorJSON("2024-01-01T00:00:00.000Z", ""), indicatorID, fmt.Sprintf("indicator--00000000-0000-4000-8000-%012d", i), 1))
	}

	stats := x.Stats()
	if stats.Objects != 2 || stats.Relationships != 2 || stats.Indicators != 2 {
		t.Errorf("stats = %+v, want 2 of each kind", stats)
	}
	if len(x.links) != 4 {
		t.Errorf("%d linked ids, want 4: the ends of the two relationships left", len(x.links))
	}
	if x.IndicatorContext("indicator--00000000-0000-4000-8000-000000000004") == nil {
		t.Error("the newest indicator lost its context")
	}
	if x.IndicatorContext("indicator--00000000-0000-4000-8000-000000000000") != nil {
		t.Error("the evicted relationship still gives context")
	}
}

// The index survives a restart: the second run republishes an indicator of
// the first when its context arrives, and converts it with that context.
func TestContextAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	first, err := Open(dir, DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	feed(t, first, indicatorJSON("2024-01-01T00:00:00.000Z", ""), contextObjects[3].json)
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}

	second, err := Open(dir, DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	affected := feed(t, second, relationshipJSON("relationship--00000000-0000-4000-8000-000000000006", "indicates",
		indicatorID, objectID(t, contextObjects[3].json), "2024-01-01T00:00:00.000Z", ""))

	if !slices.Contains(affected, indicatorID) {
		t.Fatalf("affected = %v, want the indicator read before the restart", affected)
	}
	if _, input, _, _ := second.Stored(indicatorID); input != "input-a" {
		t.Errorf("input = %q, want the input that read the indicator", input)
	}
	checkFields(t, convertIndicator(t, second, indicatorID), contextObjects[3].want)
}

func TestContextJournalCompacts(t *testing.T) {
	dir := t.TempDir()
	x, err := Open(dir, DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	// The same indicator version over and over: one live entry.
	text := indicatorJSON("2024-01-01T00:00:00.000Z", "")
	for range 5000 {
		feed(t, x, text)
	}
	if err := x.Close(); err != nil {
		t.Fatal(err)
	}

	reopened, err := Open(dir, DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	defer reopened.Close()
	if size := reopened.log.written; size > int64(len(text))*4 {
		t.Errorf("journal holds %d bytes after reopening, want about one entry of %d", size, len(text))
	}
	if stats := reopened.Stats(); stats.Indicators != 1 {
		t.Errorf("stats = %+v, want one indicator", stats)
	}
}
