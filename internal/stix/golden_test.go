package stix

import (
	"path/filepath"
	"testing"
)

// The expected fields below are written from each object's pattern and
// timestamps, the STIX 2.1 specification and the ECS threat field set.
// Expiration dates are modified plus the default 90 days.
var goldenCases = []struct {
	name   string
	file   string
	id     string
	want   map[string]any
	absent []string
}{
	{
		name: "amnesty domain indicator",
		file: "ndjson/amnesty-investigations.ndjson",
		id:   "indicator--05b7c427-1452-437e-a19e-32590edf60c3",
		want: map[string]any{
			"@timestamp":                   "2024-01-26T21:28:21.013288Z",
			"event.kind":                   "enrichment",
			"event.category":               list("threat"),
			"event.type":                   list("indicator"),
			"threat.indicator.id":          list("indicator--05b7c427-1452-437e-a19e-32590edf60c3"),
			"threat.indicator.type":        list("domain-name"),
			"threat.indicator.name":        "weather4free.com",
			"threat.indicator.url.domain":  list("weather4free.com"),
			"threat.indicator.first_seen":  "2024-01-26T21:28:21.013288Z",
			"threat.indicator.last_seen":   "2024-01-26T21:28:21.013288Z",
			"threat.indicator.modified_at": "2024-01-26T21:28:21.013288Z",
			"related.hosts":                list("weather4free.com"),
			"stix.pattern":                 "[domain-name:value='weather4free.com']",
			"stix.observables.path":        "domain-name:value",
			"stix.ioc_expiration_date":     "2024-04-25T21:28:21.013288Z",
			"stix.ioc_expiration_reason":   "default",
		},
		absent: []string{
			"threat.indicator.url.original", "threat.indicator.ip", "threat.indicator.confidence",
			"threat.indicator.marking", "threat.indicator.description", "tags",
		},
	},
	{
		name: "unit42 STIX 2.0 file hash indicator",
		file: "ndjson/unit42-playbooks-indicators.ndjson",
		id:   "indicator--1cfd37c5-1f3d-4c6a-8d6f-9eb93f283f2e",
		want: map[string]any{
			"@timestamp":                        "2024-02-08T23:59:59.001Z",
			"threat.indicator.type":             list("file"),
			"threat.indicator.name":             "3cb8174becb3c89318ed01ccd76e71cbeb8bc9e0fcbce8e110d40cd71af20fa2",
			"threat.indicator.file.hash.sha256": list("3cb8174becb3c89318ed01ccd76e71cbeb8bc9e0fcbce8e110d40cd71af20fa2"),
			"threat.indicator.description":      "Zip archive used for TA577 Pikabot infection.",
			"threat.indicator.first_seen":       "2024-02-08T17:24:29.001Z",
			"threat.indicator.last_seen":        "2024-02-08T23:59:59.001Z",
			"related.hash":                      list("3cb8174becb3c89318ed01ccd76e71cbeb8bc9e0fcbce8e110d40cd71af20fa2"),
			"tags":                              list("malicious-activity"),
			"stix.name":                         "Qft.zip",
			"stix.ioc_expiration_date":          "2024-05-08T23:59:59.001Z",
			"stix.ioc_expiration_reason":        "default",
		},
		absent: []string{"threat.indicator.file.name", "threat.indicator.file.hash.md5", "related.hosts"},
	},
	{
		name: "unit42 registry key indicator",
		file: "ndjson/unit42-playbooks-indicators.ndjson",
		id:   "indicator--d1a396be-fb40-4cc2-900f-63b9075c10d3",
		want: map[string]any{
			"threat.indicator.type":          list("windows-registry-key"),
			"threat.indicator.registry.hive": list("HKCU"),
			"threat.indicator.registry.key":  list(`SOFTWARE\Microsoft\Windows\CurrentVersion\Run\update`),
			"threat.indicator.registry.path": list(`HKCU\SOFTWARE\Microsoft\Windows\CurrentVersion\Run\update`),
			"threat.indicator.name":          `HKCU\SOFTWARE\Microsoft\Windows\CurrentVersion\Run\update`,
			"stix.ioc_expiration_date":       "2019-11-21T16:45:01.713Z",
		},
	},
	{
		name: "OASIS e-mail subject indicator",
		file: "oasis-examples/cti-stix2-json-schemas/malicious-email-indicator-with-attachment.json",
		id:   "indicator--8cf9236f-1b96-493d-98be-0c1c1e8b62d7",
		want: map[string]any{
			"threat.indicator.first_seen": "2014-10-31T15:52:13.127931Z",
			"threat.indicator.last_seen":  "2014-10-31T15:52:13.127Z",
			"stix.observables.type":       "email-message",
			"stix.observables.path":       "email-message:subject",
			"stix.observables.operator":   "MATCHES",
			"stix.observables.value":      "^[IMPORTANT] Please Review Before",
			"stix.observables.negated":    false,
			"stix.name":                   "Malicious E-mail",
		},
		// MATCHES describes a set of subjects, not one value, and an empty
		// description is not worth a field.
		absent: []string{
			"threat.indicator.type", "threat.indicator.email", "threat.indicator.name",
			"threat.indicator.description", "related",
		},
	},
	{
		name: "OASIS C2 address indicator",
		file: "oasis-examples/cti-stix2-json-schemas/indicator-for-c2-ip-address.json",
		id:   "indicator--33fe3b22-0201-47cf-85d0-97c02164528d",
		want: map[string]any{
			"threat.indicator.type":        list("ipv4-addr"),
			"threat.indicator.ip":          list("10.0.0.0"),
			"threat.indicator.description": "Test description C2 channel.",
			"threat.indicator.first_seen":  "2014-05-08T09:00:00.000000Z",
			"related.ip":                   list("10.0.0.0"),
		},
	},
	{
		name: "MISP e-mail message indicator",
		file: "misp-stix/mapping-examples/external_stix21_to_misp_objects/email__Indicator.json",
		id:   "indicator--d4e5f6a7-b8c9-4d0e-9f2a-3b4c5d6e7f80",
		want: map[string]any{
			"threat.indicator.type":          list("email-addr"),
			"threat.indicator.email.address": list("jdoe@example.com", "bob@example.com", "mary@example.com"),
			"threat.indicator.name":          "jdoe@example.com",
			"threat.indicator.first_seen":    "2024-10-25T16:22:00.000Z",
			"stix.observables.path": list(
				"email-message:date", "email-message:subject", "email-message:from_ref.value",
				"email-message:to_refs[*].value", "email-message:cc_refs[*].value",
				"email-message:additional_header_fields.'X-Mailer'",
				"email-message:body_multipart[0].content_type", "email-message:body_multipart[0].body",
			),
		},
		absent: []string{"threat.indicator.ip", "related"},
	},
}

func TestConvertRealObjects(t *testing.T) {
	for _, tc := range goldenCases {
		t.Run(tc.name, func(t *testing.T) {
			obj := findObject(t, filepath.Join(repoRoot, "tests", "data", "stix", tc.file), tc.id)
			doc := mustConvert(t, obj)
			if !doc.Indicator {
				t.Error("Indicator = false, want true")
			}
			if len(doc.Warnings) > 0 {
				t.Errorf("unexpected warnings %v", doc.Warnings)
			}
			for field, want := range tc.want {
				checkField(t, doc, field, want)
			}
			for _, field := range tc.absent {
				checkAbsent(t, doc, field)
			}
		})
	}
}
