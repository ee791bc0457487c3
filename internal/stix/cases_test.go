package stix

import (
	"errors"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// caseExpectations is the part of a case's expected.json that describes
// documents.
type caseExpectations struct {
	Clock     string `json:"clock"`
	Documents []struct {
		STIXID string         `json:"stix.id"`
		Expect map[string]any `json:"expect"`
		Absent []string       `json:"absent"`
	} `json:"documents"`
	AllDocuments struct {
		Absent []string `json:"absent"`
	} `json:"all_documents"`
}

// convertAll converts objects and indexes the documents by STIX id. Objects
// that fail to convert are returned with their error.
func convertAll(t *testing.T, objects []map[string]any) (map[string]*Document, []error) {
	t.Helper()
	docs := make(map[string]*Document)
	var errs []error
	for _, obj := range objects {
		id, _ := obj["id"].(string)
		doc, err := Convert(obj, nil)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		docs[id] = doc
	}
	return docs, errs
}

// checkCase asserts every expect and absent entry of expected.json.
// extraField resolves fields that are not document fields, such as
// B23's "active".
func checkCase(t *testing.T, docs map[string]*Document, expected caseExpectations,
	extraField func(doc *Document, field string) (any, bool)) {
	t.Helper()
	if len(expected.Documents) == 0 {
		t.Fatal("expected.json lists no documents")
	}
	for _, want := range expected.Documents {
		t.Run(want.STIXID, func(t *testing.T) {
			doc, ok := docs[want.STIXID]
			if !ok {
				t.Fatalf("no document for %s", want.STIXID)
			}
			for field, value := range want.Expect {
				if extraField != nil {
					if got, handled := extraField(doc, field); handled {
						if got != value {
							t.Errorf("%s = %v, want %v", field, got, value)
						}
						continue
					}
				}
				checkField(t, doc, field, value)
			}
			for _, field := range want.Absent {
				checkAbsent(t, doc, field)
			}
		})
	}
	for id, doc := range docs {
		for _, field := range expected.AllDocuments.Absent {
			if got, ok := lookupField(doc, field); ok {
				t.Errorf("%s: %s = %v, want the field absent on every document", id, field, got)
			}
		}
	}
}

func runBundleCase(t *testing.T, name, bundle string) map[string]*Document {
	t.Helper()
	var expected caseExpectations
	loadJSON(t, filepath.Join(casePath(name), "expected.json"), &expected)
	docs, errs := convertAll(t, loadObjects(t, filepath.Join(casePath(name), bundle)))
	for _, err := range errs {
		t.Errorf("Convert: %v", err)
	}
	checkCase(t, docs, expected, nil)
	return docs
}

func TestCaseHashKeySpellings(t *testing.T) {
	docs := runBundleCase(t, "B17", "bundle.json")
	if len(docs) != 9 {
		t.Errorf("got %d documents, want all 9 indicators", len(docs))
	}
	for id, doc := range docs {
		if len(doc.Warnings) > 0 {
			t.Errorf("%s: unexpected warnings %v", id, doc.Warnings)
		}
	}
}

func TestCaseQualifiers(t *testing.T) {
	objects := loadObjects(t, filepath.Join(casePath("B19"), "bundle.json"))
	patterns := make(map[string]any, len(objects))
	for _, obj := range objects {
		patterns[obj["id"].(string)] = obj["pattern"]
	}
	docs := runBundleCase(t, "B19", "bundle.json")
	for id, doc := range docs {
		if hasWarning(doc, "pattern", "") {
			t.Errorf("%s: pattern warning %v; both qualifier spellings must parse", id, doc.Warnings)
		}
		checkField(t, doc, "stix.pattern", patterns[id])
	}
}

func TestCaseNonSTIXPatternTypes(t *testing.T) {
	docs := runBundleCase(t, "B20", "bundle.json")
	for id, doc := range docs {
		if len(doc.Warnings) > 0 {
			t.Errorf("%s: warnings %v, want none (metrics.pattern_parse_errors is 0)", id, doc.Warnings)
		}
	}
}

func TestCaseURLs(t *testing.T) {
	docs := runBundleCase(t, "B22", "bundle.json")
	if len(docs) != 4 {
		t.Errorf("got %d documents, want 4 (all indexed)", len(docs))
	}
	defanged := docs["indicator--3c4d5e6f-7a8b-4c9d-8e0f-1a2b3c4d5e01"]
	if !hasWarning(defanged, "url:value", "hxxp://b22.example[.]com/payload.bin") {
		t.Errorf("defanged URL: warnings %v, want one naming the URL", defanged.Warnings)
	}
	checkAbsent(t, defanged, "threat.indicator.url.full")
}

func TestCaseExpiration(t *testing.T) {
	var expected caseExpectations
	loadJSON(t, filepath.Join(casePath("B23"), "expected.json"), &expected)
	clock, err := time.Parse(time.RFC3339, expected.Clock)
	if err != nil {
		t.Fatalf("clock: %v", err)
	}
	docs, errs := convertAll(t, loadObjects(t, filepath.Join(casePath("B23"), "bundle.json")))
	for _, err := range errs {
		t.Errorf("Convert: %v", err)
	}

	// "active" is not a field: the case defines it as not revoked and not
	// yet expired at the case's clock.
	active := func(doc *Document, field string) (any, bool) {
		if field != "active" {
			return nil, false
		}
		stix := doc.Fields["stix"].(map[string]any)
		revoked, _ := stix["revoked"].(bool)
		date, _ := stix["ioc_expiration_date"].(string)
		expires, err := time.Parse(time.RFC3339Nano, date)
		if err != nil {
			t.Errorf("ioc_expiration_date %q: %v", date, err)
			return nil, true
		}
		return !revoked && expires.After(clock), true
	}
	checkCase(t, docs, expected, active)

	for id, doc := range docs {
		if _, ok := lookupField(doc, "threat.indicator.ip"); !ok {
			t.Errorf("%s: threat.indicator.ip is absent, want it on all five documents", id)
		}
	}
	equal := docs["indicator--5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a04"]
	if !hasWarning(equal, "valid_until", "not later than valid_from") {
		t.Errorf("valid_until equal to valid_from: warnings %v, want a valid_until warning", equal.Warnings)
	}
}

func TestCaseDocumentsOfBadFiles(t *testing.T) {
	var expected caseExpectations
	loadJSON(t, filepath.Join(casePath("B26"), "expected.json"), &expected)
	var objects []map[string]any
	for _, file := range []string{"bad-bundle-id.json", "bundle-with-spec-version.json", "plain-array.json"} {
		objects = append(objects, loadObjects(t, filepath.Join(casePath("B26"), file))...)
	}
	docs, errs := convertAll(t, objects)
	checkCase(t, docs, expected, nil)

	// The one object without an id is the only failure, and it is reported
	// with ErrMissingID so that the reader can count it.
	if len(errs) != 1 || !errors.Is(errs[0], ErrMissingID) {
		t.Errorf("errors = %v, want exactly one wrapping ErrMissingID", errs)
	}
	if doc := docs["x-example-thing--b4c5d6e7-f8a9-4b0c-9d1e-3f4a5b6c7d26"]; doc == nil || len(doc.Warnings) > 0 {
		t.Errorf("custom object: document %v, want one without warnings", doc)
	}
}

func TestCaseTimestampVariants(t *testing.T) {
	docs := runBundleCase(t, "B27", "timestamps-bundle.json")
	zoneless := docs["indicator--b1c2d3e4-f5a6-4b7c-8d9e-0f1a2b3c4d07"]
	for _, field := range []string{"created", "modified", "valid_from"} {
		if !hasWarning(zoneless, field, "no time zone") {
			t.Errorf("%s: warnings %v, want one naming the field", field, zoneless.Warnings)
		}
	}
	// Read as UTC, the space-separated form is the same instant as the
	// first object's.
	checkField(t, zoneless, "@timestamp", "2024-05-01T12:00:00.000Z")
	checkField(t, zoneless, "threat.indicator.first_seen", "2024-05-01T12:00:00.000Z")
	checkField(t, zoneless, "stix.created", "2024-05-01 12:00:00")
}

func TestCaseDocumentIDs(t *testing.T) {
	var exchanges struct {
		Exchanges []struct {
			Step     int `json:"step"`
			Response struct {
				Body struct {
					Objects []map[string]any `json:"objects"`
				} `json:"body"`
			} `json:"response"`
		} `json:"exchanges"`
	}
	loadJSON(t, filepath.Join(casePath("B08"), "exchanges.json"), &exchanges)
	var expected struct {
		DistinctIDs int `json:"distinct_ids"`
		IDRules     []struct {
			SameID      []string `json:"same_id"`
			DifferentID []string `json:"different_id"`
			Why         string   `json:"why"`
		} `json:"id_rules"`
		Index struct {
			LatestState map[string]map[string]any `json:"latest_state"`
		} `json:"index_after_all_polls"`
	}
	loadJSON(t, filepath.Join(casePath("B08"), "expected.json"), &expected)

	ids := make(map[string]string) // "stepN:stix id" -> Document.ID
	latest := make(map[string]*Document)
	distinct := make(map[string]bool)
	for _, exchange := range exchanges.Exchanges {
		for _, obj := range exchange.Response.Body.Objects {
			stixID := obj["id"].(string)
			doc := mustConvert(t, obj)
			ids["step"+strconv.Itoa(exchange.Step)+":"+stixID] = doc.ID
			latest[stixID] = doc
			distinct[doc.ID] = true
		}
	}

	for _, rule := range expected.IDRules {
		if len(rule.SameID) == 2 {
			a, b := ids[rule.SameID[0]], ids[rule.SameID[1]]
			if a == "" || a != b {
				t.Errorf("%s and %s: _id %q and %q, want the same (%s)", rule.SameID[0], rule.SameID[1], a, b, rule.Why)
			}
		}
		if len(rule.DifferentID) == 2 {
			a, b := ids[rule.DifferentID[0]], ids[rule.DifferentID[1]]
			if a == "" || a == b {
				t.Errorf("%s and %s: _id %q and %q, want different (%s)", rule.DifferentID[0], rule.DifferentID[1], a, b, rule.Why)
			}
		}
	}
	if len(distinct) != expected.DistinctIDs {
		t.Errorf("%d distinct _id values, want %d", len(distinct), expected.DistinctIDs)
	}
	for stixID, fields := range expected.Index.LatestState {
		for field, want := range fields {
			checkField(t, latest[stixID], field, want)
		}
	}
}
