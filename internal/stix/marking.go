package stix

// tlpMarking is the ECS form of one TLP marking definition. The values are
// stored as interfaces so that putting them into a document map does not
// allocate.
type tlpMarking struct {
	level   any // string for threat.indicator.marking.tlp
	version any // string for threat.indicator.marking.tlp_version
	// rank orders the levels from least to most restrictive so that an
	// object with several TLP markings gets the strictest one.
	rank int
}

// tlpMarkings maps the fixed marking-definition ids of TLP to ECS values.
//
// TLP 1.0: the four marking definitions predefined by STIX 2.1 section
// 7.2.1.4 (STIX 2.0 uses the same ids), as published in
// oasis-open/cti-python-stix2, file stix2/v21/common.py (TLP_WHITE,
// TLP_GREEN, TLP_AMBER, TLP_RED).
//
// TLP 2.0: the five marking definitions of the OASIS TLP 2.0 extension,
// extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d, as published
// in oasis-open/cti-stix-common-objects, file
// extension-definition-specifications/tlp-2.0/marking-definition.json.
//
// The level names are the values ECS lists for threat.indicator.marking.tlp:
// WHITE, CLEAR, GREEN, AMBER, AMBER+STRICT and RED.
var tlpMarkings = map[string]tlpMarking{
	"marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9": {"WHITE", "1.0", 0},
	"marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da": {"GREEN", "1.0", 1},
	"marking-definition--f88d31f6-486f-44da-b317-01333bde0b82": {"AMBER", "1.0", 2},
	"marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed": {"RED", "1.0", 4},

	"marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487": {"CLEAR", "2.0", 0},
	"marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb": {"GREEN", "2.0", 1},
	"marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421": {"AMBER", "2.0", 2},
	"marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003": {"AMBER+STRICT", "2.0", 3},
	"marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1": {"RED", "2.0", 4},
}

// findTLP returns the most restrictive TLP marking among the object's
// object_marking_refs and granular_markings[].marking_ref. Granular markings
// cover only parts of the object, but the ECS field has no place for parts,
// so they count for the whole document: that errs on the restrictive side.
// Ids other than the predefined TLP markings are looked up in source, which
// indexes the marking-definition objects of the feed. Statement markings and
// unknown ids give no TLP and stay in stix.object_marking_refs.
func findTLP(obj map[string]any, source ContextSource) (tlpMarking, bool) {
	var best tlpMarking
	found := false
	consider := func(ref any) {
		id, ok := ref.(string)
		if !ok {
			return
		}
		m, ok := tlpMarkings[id]
		if !ok && source != nil {
			var tlp TLP
			if tlp, ok = source.MarkingTLP(id); ok {
				m = tlpMarking{level: tlp.Level, version: tlp.Version, rank: tlpRanks[tlp.Level]}
			}
		}
		if ok && (!found || m.rank > best.rank) {
			best, found = m, true
		}
	}

	if refs, ok := obj["object_marking_refs"].([]any); ok {
		for _, ref := range refs {
			consider(ref)
		}
	}
	if markings, ok := obj["granular_markings"].([]any); ok {
		for _, g := range markings {
			if m, ok := g.(map[string]any); ok {
				consider(m["marking_ref"])
			}
		}
	}
	return best, found
}

// PredefinedTLP returns the TLP level of one of the fixed TLP 1.0 and
// TLP 2.0 marking-definition ids.
func PredefinedTLP(id string) (TLP, bool) {
	m, ok := tlpMarkings[id]
	if !ok {
		return TLP{}, false
	}
	return TLP{Level: m.level.(string), Version: m.version.(string)}, true
}
