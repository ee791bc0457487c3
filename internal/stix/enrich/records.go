package enrich

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/tibeat/tibeat/internal/stix"
)

// contextTypes are the object types whose link to an indicator becomes
// part of the indicator's document.
var contextTypes = map[string]bool{
	"malware":        true,
	"tool":           true,
	"threat-actor":   true,
	"intrusion-set":  true,
	"campaign":       true,
	"attack-pattern": true,
}

// linkTypes are the relationship types that tie an indicator to its
// context, in either direction.
var linkTypes = map[string]bool{
	"indicates":  true,
	"based-on":   true,
	"related-to": true,
}

// objectRecord is the indexed form of one version of a context object.
type objectRecord struct {
	ID        string    `json:"id"`
	Type      string    `json:"type"`
	Modified  time.Time `json:"modified"`
	Revoked   bool      `json:"revoked,omitempty"`
	Name      string    `json:"name,omitempty"`
	AttackID  string    `json:"attack_id,omitempty"`
	Reference string    `json:"reference,omitempty"`
	Aliases   []string  `json:"aliases,omitempty"`
	Platforms []string  `json:"platforms,omitempty"`
	Phases    []string  `json:"phases,omitempty"` // mitre-attack kill chain phase names
}

// relationRecord is the indexed form of one version of a relationship.
type relationRecord struct {
	ID       string    `json:"id"`
	Type     string    `json:"relationship_type"`
	Source   string    `json:"source_ref"`
	Target   string    `json:"target_ref"`
	Modified time.Time `json:"modified"`
	Revoked  bool      `json:"revoked,omitempty"`
}

// indicatorRecord is the newest version of an indicator, kept so that it
// can be published again when context arrives after it.
type indicatorRecord struct {
	ID       string    `json:"id"`
	Modified time.Time `json:"modified"`
	Revoked  bool      `json:"revoked,omitempty"`
	Input    string    `json:"input,omitempty"`
	// Markings are the ids of marking definitions the indicator refers to
	// that are not predefined TLP markings.
	Markings []string `json:"markings,omitempty"`
	// Refs are the object_refs of a STIX 2.1 observed-data object kept so
	// that it can be published as an indicator again.
	Refs []string `json:"object_refs,omitempty"`
	// Digest is the fingerprint of the context that the document with the
	// highest revision carried, and Revision counts how often that context
	// changed from none, which the first document of a version without
	// context has.
	Digest   string `json:"context_digest,omitempty"`
	Revision int    `json:"revision,omitempty"`
	// Source holds the fields the input set on the first document, such as
	// log.file.path or url.original, as a JSON object.
	Source json.RawMessage `json:"source,omitempty"`
	// Raw is the object's JSON text on one line, stored as JSON rather
	// than as an escaped string to keep the journal small. An index with a
	// journal keeps it only there: Raw is nil in memory and textAt locates
	// it, so that memory does not grow with the indicators' text.
	Raw json.RawMessage `json:"raw"`

	// textAt is the offset of the text in the journal, or -1 while only
	// Raw or a pending entry holds it.
	textAt int64
	// textLen is the length of the text, which counts against
	// Limits.IndicatorBytes wherever the text is kept.
	textLen int
	// textSum is a hash of the text. It distinguishes a version read
	// again from a changed one without reading the text back.
	textSum uint64
	// removed is set once a newer version replaced the record or the
	// limits evicted it.
	removed bool
}

// markingRecord is a marking-definition that carries a TLP level.
type markingRecord struct {
	ID       string    `json:"id"`
	Modified time.Time `json:"modified"`
	Level    string    `json:"level"`
	Version  string    `json:"version,omitempty"`
}

func stringOf(obj map[string]any, key string) string {
	s, _ := obj[key].(string)
	return s
}

func stringsOf(obj map[string]any, keys ...string) []string {
	var out []string
	for _, key := range keys {
		list, _ := obj[key].([]any)
		for _, v := range list {
			if s, ok := v.(string); ok && s != "" && !contains(out, s) {
				out = append(out, s)
			}
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// versionOf returns the modified time of an object, or created for objects
// without one. Objects without either sort before every dated version.
func versionOf(obj map[string]any) time.Time {
	for _, key := range []string{"modified", "created"} {
		if t, err := time.Parse(time.RFC3339Nano, stringOf(obj, key)); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}

func newObjectRecord(obj map[string]any, objectType, id string) *objectRecord {
	r := &objectRecord{
		ID:        id,
		Type:      objectType,
		Modified:  versionOf(obj),
		Name:      stringOf(obj, "name"),
		Aliases:   stringsOf(obj, "aliases", "x_mitre_aliases"),
		Platforms: stringsOf(obj, "x_mitre_platforms"),
	}
	r.Revoked, _ = obj["revoked"].(bool)
	references, _ := obj["external_references"].([]any)
	for _, item := range references {
		reference, _ := item.(map[string]any)
		if stringOf(reference, "source_name") == "mitre-attack" && stringOf(reference, "external_id") != "" {
			r.AttackID = stringOf(reference, "external_id")
			r.Reference = stringOf(reference, "url")
			break
		}
	}
	phases, _ := obj["kill_chain_phases"].([]any)
	for _, item := range phases {
		phase, _ := item.(map[string]any)
		if stringOf(phase, "kill_chain_name") == "mitre-attack" && stringOf(phase, "phase_name") != "" {
			r.Phases = append(r.Phases, stringOf(phase, "phase_name"))
		}
	}
	return r
}

// enterpriseTactics are the tactics of the MITRE ATT&CK Enterprise matrix,
// keyed by the phase_name that kill_chain_phases uses for them.
var enterpriseTactics = map[string]stix.Tactic{
	"reconnaissance":       {ID: "TA0043", Name: "Reconnaissance"},
	"resource-development": {ID: "TA0042", Name: "Resource Development"},
	"initial-access":       {ID: "TA0001", Name: "Initial Access"},
	"execution":            {ID: "TA0002", Name: "Execution"},
	"persistence":          {ID: "TA0003", Name: "Persistence"},
	"privilege-escalation": {ID: "TA0004", Name: "Privilege Escalation"},
	"defense-evasion":      {ID: "TA0005", Name: "Defense Evasion"},
	"credential-access":    {ID: "TA0006", Name: "Credential Access"},
	"discovery":            {ID: "TA0007", Name: "Discovery"},
	"lateral-movement":     {ID: "TA0008", Name: "Lateral Movement"},
	"collection":           {ID: "TA0009", Name: "Collection"},
	"command-and-control":  {ID: "TA0011", Name: "Command and Control"},
	"exfiltration":         {ID: "TA0010", Name: "Exfiltration"},
	"impact":               {ID: "TA0040", Name: "Impact"},
}

// tacticOf maps a phase name to an ATT&CK tactic. A phase outside the
// Enterprise matrix keeps its name as written and gets no id.
func tacticOf(phase string) stix.Tactic {
	if t, ok := enterpriseTactics[phase]; ok {
		t.Reference = "https://attack.mitre.org/tactics/" + t.ID + "/"
		return t
	}
	return stix.Tactic{Name: phase}
}

func softwareType(objectType string) string {
	if objectType == "tool" {
		return "Tool"
	}
	return "Malware"
}

// isSubtechnique reports whether an ATT&CK id names a sub-technique, such
// as T1566.002.
func isSubtechnique(attackID string) (parent string, ok bool) {
	parent, _, ok = strings.Cut(attackID, ".")
	return parent, ok
}
