package stix

import (
	"strings"
	"time"
)

// ContextSource provides the context of an indicator from other objects of
// the feed: the objects that relationships link it to, its newest version,
// and the TLP level of marking definitions the feed defined itself. The
// enrich package implements it.
type ContextSource interface {
	// IndicatorContext returns the context of the indicator with the given
	// id, or nil when nothing is known.
	IndicatorContext(indicatorID string) *IndicatorContext
	// MarkingTLP returns the TLP level of a marking-definition that the
	// feed sent, for ids that are not the predefined TLP markings.
	MarkingTLP(markingID string) (TLP, bool)
}

// IndicatorContext is the context of one indicator.
type IndicatorContext struct {
	Software   []Software
	Groups     []Group
	Techniques []Technique
	Campaigns  []Campaign
	// Revoked is the modified time of the newest known version of the
	// indicator when that version is revoked. A document of an older
	// version then expires at that time too.
	Revoked    time.Time
	HasRevoked bool
}

// Software is a malware or tool object, for threat.software.*.
type Software struct {
	// ID is the MITRE ATT&CK id, such as S0367, when the object has one.
	ID        string
	Name      string
	Type      string // "Malware" or "Tool", the ECS expected values
	Aliases   []string
	Platforms []string
}

// Group is an intrusion-set or threat-actor object, for threat.group.*.
type Group struct {
	ID      string // MITRE ATT&CK id, such as G0007
	Name    string
	Aliases []string
}

// Technique is an attack-pattern object, for threat.technique.* and
// threat.tactic.*.
type Technique struct {
	// ID is the ATT&CK technique id: T1566, or T1566.002 for a
	// sub-technique.
	ID, Name, Reference string
	// ParentName and ParentReference describe the parent technique of a
	// sub-technique when the feed sent it.
	ParentName, ParentReference string
	Tactics                     []Tactic
}

// Tactic is an ATT&CK tactic from a kill_chain_phases entry.
type Tactic struct {
	ID, Name, Reference string
}

// Campaign is a campaign object. ECS has no campaign field, so it goes to
// stix.campaign.*.
type Campaign struct {
	ID, Name string
}

// TLP is the ECS form of a Traffic Light Protocol marking.
type TLP struct {
	Level   string // threat.indicator.marking.tlp, such as AMBER
	Version string // threat.indicator.marking.tlp_version: 1.0, 2.0, or empty when unknown
}

// tlp20Extension is the id of the OASIS TLP 2.0 marking extension.
const tlp20Extension = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"

// MarkingDefinitionTLP reads the TLP level of a marking-definition object:
// definition_type "tlp" with definition.tlp (TLP 1.0, as STIX 2.0 and 2.1
// define it), the TLP 2.0 extension's tlp_2_0 property, or a name of the
// form "TLP:AMBER". ok is false for statement markings and other
// definitions. A level that exists in one TLP version only (WHITE, CLEAR,
// AMBER+STRICT) sets the version when the definition does not.
func MarkingDefinitionTLP(obj map[string]any) (TLP, bool) {
	if extensions, ok := obj["extensions"].(map[string]any); ok {
		if extension, ok := extensions[tlp20Extension].(map[string]any); ok {
			if level, ok := extension["tlp_2_0"].(string); ok && level != "" {
				return TLP{Level: strings.ToUpper(level), Version: "2.0"}, true
			}
		}
	}
	if definitionType, _ := obj["definition_type"].(string); strings.EqualFold(definitionType, "tlp") {
		if definition, ok := obj["definition"].(map[string]any); ok {
			if level, ok := definition["tlp"].(string); ok && level != "" {
				return TLP{Level: strings.ToUpper(level), Version: "1.0"}, true
			}
		}
	}
	name, _ := obj["name"].(string)
	level, found := strings.CutPrefix(strings.ToUpper(strings.TrimSpace(name)), "TLP:")
	if !found {
		return TLP{}, false
	}
	level = strings.TrimSpace(level)
	switch level {
	case "WHITE":
		return TLP{Level: level, Version: "1.0"}, true
	case "CLEAR", "AMBER+STRICT":
		return TLP{Level: level, Version: "2.0"}, true
	case "GREEN", "AMBER", "RED":
		return TLP{Level: level}, true
	}
	return TLP{}, false
}

// tlpRanks orders the TLP levels from least to most restrictive.
var tlpRanks = map[string]int{"WHITE": 0, "CLEAR": 0, "GREEN": 1, "AMBER": 2, "AMBER+STRICT": 3, "RED": 4}

// writeContext adds the fields of an indicator's context to threat and to
// the stix object map.
func writeContext(ctx *IndicatorContext, threat, obj map[string]any) {
	if len(ctx.Software) > 0 {
		software := newFieldLists()
		for _, s := range ctx.Software {
			software.add("id", s.ID)
			software.add("name", s.Name)
			software.add("type", s.Type)
			software.add("alias", s.Aliases...)
			software.add("platforms", s.Platforms...)
		}
		threat["software"] = software.m
	}
	if len(ctx.Groups) > 0 {
		group := newFieldLists()
		for _, g := range ctx.Groups {
			group.add("id", g.ID)
			group.add("name", g.Name)
			group.add("alias", g.Aliases...)
		}
		threat["group"] = group.m
	}
	if len(ctx.Techniques) > 0 {
		technique, subtechnique, tactic := newFieldLists(), newFieldLists(), newFieldLists()
		for _, t := range ctx.Techniques {
			parent, _, isSub := strings.Cut(t.ID, ".")
			if isSub {
				subtechnique.add("id", t.ID)
				subtechnique.add("name", t.Name)
				subtechnique.add("reference", t.Reference)
				technique.add("id", parent)
				technique.add("name", t.ParentName)
				technique.add("reference", t.ParentReference)
			} else {
				technique.add("id", t.ID)
				technique.add("name", t.Name)
				technique.add("reference", t.Reference)
			}
			for _, ta := range t.Tactics {
				tactic.add("id", ta.ID)
				tactic.add("name", ta.Name)
				tactic.add("reference", ta.Reference)
			}
		}
		if len(subtechnique.m) > 0 {
			technique.m["subtechnique"] = subtechnique.m
		}
		if len(technique.m) > 0 {
			threat["technique"] = technique.m
		}
		if len(tactic.m) > 0 {
			threat["tactic"] = tactic.m
		}
	}
	if len(ctx.Campaigns) > 0 {
		campaign := newFieldLists()
		for _, c := range ctx.Campaigns {
			campaign.add("id", c.ID)
			campaign.add("name", c.Name)
		}
		obj["campaign"] = campaign.m
	}
}

// fieldLists builds a map of string lists without duplicates or empty
// values, the form of the multi-valued ECS keyword fields.
type fieldLists struct{ m map[string]any }

func newFieldLists() fieldLists { return fieldLists{m: map[string]any{}} }

func (f fieldLists) add(key string, values ...string) {
	for _, v := range values {
		if v == "" {
			continue
		}
		list, _ := f.m[key].([]string)
		f.m[key] = appendUnique(list, v)
	}
}
