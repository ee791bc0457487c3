package stix

import (
	"maps"
	"path/filepath"
	"reflect"
	"testing"
)

var observablesOn = &Options{ObservablesAsIndicators: true}

func convertWith(t *testing.T, obj map[string]any, opts *Options) *Document {
	t.Helper()
	doc, err := Convert(obj, opts)
	if err != nil {
		t.Fatalf("Convert: %v", err)
	}
	return doc
}

// observableValues returns threat.indicator without the fields that come
// from the object's own identity and times, plus related.
func observableValues(t *testing.T, doc *Document) (map[string]any, any) {
	t.Helper()
	threat, _ := doc.Fields["threat"].(map[string]any)
	indicator, ok := threat["indicator"].(map[string]any)
	if !ok {
		t.Fatalf("no threat.indicator in %v", doc.Fields)
	}
	values := maps.Clone(indicator)
	for _, key := range []string{"id", "first_seen", "last_seen", "modified_at", "marking", "description", "confidence", "reference"} {
		delete(values, key)
	}
	return values, doc.Fields["related"]
}

func dataFile(name string) string { return filepath.Join(repoRoot, "tests", "data", "stix", name) }

// Each cyber-observable object must give the threat.indicator fields of a
// pattern that compares each of its properties with =. The want fields are
// the ECS threat.indicator fields for the object's values.
func TestObservablesAsIndicators(t *testing.T) {
	tests := []struct {
		name    string
		object  map[string]any
		pattern string
		want    map[string]any
	}{
		{
			name:    "ipv4-addr",
			object:  findObject(t, dataFile("oasis-examples/cti-stix2-json-schemas/infrastructure.json"), "ipv4-addr--1e4ffad7-0b88-41d4-ba4d-77d27490b956"),
			pattern: "[ipv4-addr:value = '198.51.100.3']",
			want:    map[string]any{"threat.indicator.type": list("ipv4-addr"), "threat.indicator.ip": list("198.51.100.3"), "related.ip": list("198.51.100.3")},
		},
		{
			name:    "ipv6-addr",
			object:  decodeObject(t, `{"type":"ipv6-addr","spec_version":"2.1","id":"ipv6-addr--1e61d36c-a16c-53b7-a80f-2a00161c96b1","value":"2001:db8::1"}`),
			pattern: "[ipv6-addr:value = '2001:db8::1']",
			want:    map[string]any{"threat.indicator.type": list("ipv6-addr"), "threat.indicator.ip": list("2001:db8::1")},
		},
		{
			name:    "domain-name",
			object:  findObject(t, dataFile("oasis-examples/cti-stix2-json-schemas/infrastructure.json"), "domain-name--ecb120bf-2694-4902-a737-62b74539a41b"),
			pattern: "[domain-name:value = 'example.com']",
			want:    map[string]any{"threat.indicator.type": list("domain-name"), "threat.indicator.url.domain": list("example.com"), "related.hosts": list("example.com")},
		},
		{
			name:    "url",
			object:  decodeObject(t, `{"type":"url","spec_version":"2.1","id":"url--91ae0a21-c7ae-4c7f-b84b-b84a7ce53d1f","value":"https://c2.example.net:8443/gate.php?id=1"}`),
			pattern: "[url:value = 'https://c2.example.net:8443/gate.php?id=1']",
			want: map[string]any{
				"threat.indicator.type": list("url"), "threat.indicator.url.full": list("https://c2.example.net:8443/gate.php?id=1"),
				"threat.indicator.url.domain": list("c2.example.net"), "threat.indicator.url.port": list(int64(8443)),
				"threat.indicator.url.extension": list("php"),
			},
		},
		{
			name:    "file",
			object:  findObject(t, dataFile("oasis-examples/cti-documentation/sighting-of-observed-data.json"), "file--364fe3e5-b1f4-5ba3-b951-ee5983b3538d"),
			pattern: "[file:hashes.MD5 = '1717b7fff97d37a1e1a0029d83492de1' AND file:hashes.'SHA-1' = 'c79a326f8411e9488bdc3779753e1e3489aaedea' AND file:name = 'resume.pdf' AND file:size = 83968]",
			want: map[string]any{
				"threat.indicator.type": list("file"), "threat.indicator.file.hash.md5": list("1717b7fff97d37a1e1a0029d83492de1"),
				"threat.indicator.file.hash.sha1": list("c79a326f8411e9488bdc3779753e1e3489aaedea"),
				"threat.indicator.file.name":      list("resume.pdf"), "threat.indicator.file.size": list(int64(83968)),
			},
		},
		{
			name:    "email-addr",
			object:  findObject(t, dataFile("misp-stix/tests/test_objects_collection_stix21.json"), "email-addr--f5ec3603-e3d0-42d7-a372-14c1c137699b"),
			pattern: "[email-addr:value = 'donald.duck@disney.com']",
			want:    map[string]any{"threat.indicator.type": list("email-addr"), "threat.indicator.email.address": list("donald.duck@disney.com")},
		},
		{
			name:    "autonomous-system",
			object:  decodeObject(t, `{"type":"autonomous-system","spec_version":"2.1","id":"autonomous-system--2972c3a2-dda3-4de7-aca1-e96cf7ce5544","number":174,"name":"Cogent"}`),
			pattern: "[autonomous-system:number = 174 AND autonomous-system:name = 'Cogent']",
			want:    map[string]any{"threat.indicator.type": list("autonomous-system"), "threat.indicator.as.number": list(int64(174)), "threat.indicator.as.organization.name": list("Cogent")},
		},
		{
			name: "x509-certificate",
			object: decodeObject(t, `{"type":"x509-certificate","spec_version":"2.1","id":"x509-certificate--34cb1a7c-55ec-412a-8684-ba4a88d83a45",
				"hashes":{"SHA-256":"ec5aedf5ecc6bdadd4120932170d1b10f6cfa175cfda22951dfd882928ab279b"},
				"serial_number":"36:f7:d4:32:f4:ab:70:ea:d3:ce:98:6e:ea:99:93:49:32:0a:b7:06",
				"issuer":"C=US, O=Example Inc, CN=Example CA","subject":"C=US, CN=c2.example.net",
				"validity_not_before":"2016-03-12T12:00:00Z","validity_not_after":"2016-08-21T12:00:00Z",
				"signature_algorithm":"sha256WithRSAEncryption","version":"3"}`),
			pattern: "[x509-certificate:hashes.'SHA-256' = 'ec5aedf5ecc6bdadd4120932170d1b10f6cfa175cfda22951dfd882928ab279b' AND " +
				"x509-certificate:serial_number = '36:f7:d4:32:f4:ab:70:ea:d3:ce:98:6e:ea:99:93:49:32:0a:b7:06' AND " +
				"x509-certificate:issuer = 'C=US, O=Example Inc, CN=Example CA' AND x509-certificate:subject = 'C=US, CN=c2.example.net' AND " +
				"x509-certificate:validity_not_before = t'2016-03-12T12:00:00Z' AND x509-certificate:validity_not_after = t'2016-08-21T12:00:00Z' AND " +
				"x509-certificate:signature_algorithm = 'sha256WithRSAEncryption' AND x509-certificate:version = '3']",
			want: map[string]any{
				"threat.indicator.type":                     list("x509-certificate"),
				"threat.indicator.x509.issuer.common_name":  list("Example CA"),
				"threat.indicator.x509.subject.common_name": list("c2.example.net"),
				"threat.indicator.x509.not_before":          list("2016-03-12T12:00:00.000Z"),
				"threat.indicator.x509.signature_algorithm": list("sha256WithRSAEncryption"),
				"threat.indicator.x509.issuer.organization": list("Example Inc"),
				"related.hash":                                    list("ec5aedf5ecc6bdadd4120932170d1b10f6cfa175cfda22951dfd882928ab279b"),
				"threat.indicator.x509.subject.country":           list("US"),
				"threat.indicator.x509.issuer.distinguished_name": list("C=US, O=Example Inc, CN=Example CA"),
			},
		},
		{
			name: "windows-registry-key",
			object: decodeObject(t, `{"type":"windows-registry-key","spec_version":"2.1","id":"windows-registry-key--16b80d14-d574-5620-abad-10ff304b1c26",
				"key":"HKEY_LOCAL_MACHINE\\SYSTEM\\ControlSet001\\Services\\WSALG2",
				"values":[{"name":"ImagePath","data":"C:\\Windows\\wsalg2.exe","data_type":"REG_SZ"}]}`),
			pattern: `[windows-registry-key:key = 'HKEY_LOCAL_MACHINE\\SYSTEM\\ControlSet001\\Services\\WSALG2' AND ` +
				`windows-registry-key:values[0].name = 'ImagePath' AND windows-registry-key:values[0].data = 'C:\\Windows\\wsalg2.exe']`,
			want: map[string]any{
				"threat.indicator.type":                  list("windows-registry-key"),
				"threat.indicator.registry.hive":         list("HKLM"),
				"threat.indicator.registry.key":          list(`SYSTEM\ControlSet001\Services\WSALG2`),
				"threat.indicator.registry.path":         list(`HKEY_LOCAL_MACHINE\SYSTEM\ControlSet001\Services\WSALG2`),
				"threat.indicator.registry.value":        list("ImagePath"),
				"threat.indicator.registry.data.strings": list(`C:\Windows\wsalg2.exe`),
			},
		},
		{
			name:    "mac-addr",
			object:  findObject(t, dataFile("misp-stix/mapping-examples/stix21_to_misp_attributes/mac-address__Observed_Data.json"), "mac-addr--91ae0a21-c7ae-4c7f-b84b-b84a7ce53d1f"),
			pattern: "[mac-addr:value = '12:34:56:78:90:ab']",
			// ECS threat.indicator has no field for a MAC address.
			want: map[string]any{"threat.indicator.type": list("mac-addr")},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := tt.object["id"]
			doc := convertWith(t, tt.object, observablesOn)

			if !doc.Indicator {
				t.Fatal("Indicator = false, want an indicator document")
			}
			for field, want := range tt.want {
				checkField(t, doc, field, want)
			}
			checkField(t, doc, "threat.indicator.id", list(id))
			checkField(t, doc, "event.category", list("threat"))
			checkField(t, doc, "event.type", list("indicator"))
			if len(doc.Warnings) > 0 {
				t.Errorf("unexpected warnings %v", doc.Warnings)
			}

			gotIndicator, gotRelated := observableValues(t, doc)
			wantIndicator, wantRelated := observableValues(t, mustConvert(t, testIndicator(tt.pattern)))
			if !reflect.DeepEqual(gotIndicator, wantIndicator) {
				t.Errorf("threat.indicator\n got %v\nwant %v (from the pattern)", gotIndicator, wantIndicator)
			}
			if !reflect.DeepEqual(gotRelated, wantRelated) {
				t.Errorf("related\n got %v\nwant %v (from the pattern)", gotRelated, wantRelated)
			}
		})
	}
}

func TestObservablesStayObjectsByDefault(t *testing.T) {
	obj := decodeObject(t, `{"type":"ipv4-addr","spec_version":"2.1","id":"ipv4-addr--1e4ffad7-0b88-41d4-ba4d-77d27490b956","value":"198.51.100.3"}`)

	doc := mustConvert(t, obj)

	if doc.Indicator {
		t.Error("Indicator = true without ObservablesAsIndicators")
	}
	checkAbsent(t, doc, "threat")
	checkAbsent(t, doc, "event.type")
	checkField(t, doc, "stix.value", "198.51.100.3")
}

func TestObservablesOtherTypesStayObjects(t *testing.T) {
	for _, text := range []string{
		`{"type":"user-account","spec_version":"2.1","id":"user-account--0d5b424b-93b8-5cd8-ac36-306e1789d63c","user_id":"1001"}`,
		`{"type":"malware","spec_version":"2.1","id":"malware--0c7b5b88-8ff7-4a4d-aa9d-feb398cd0061","created":"2024-01-01T00:00:00Z","modified":"2024-01-01T00:00:00Z","name":"x","is_family":true}`,
	} {
		doc := convertWith(t, decodeObject(t, text), observablesOn)
		if doc.Indicator {
			t.Errorf("%s: Indicator = true, want a plain object document", text)
		}
	}
}

// STIX 2.0 observed-data embeds its objects in a dictionary. Each of them
// is read as in STIX 2.1, and the times come from first_observed,
// last_observed and modified.
func TestObservedDataEmbeddedObjects(t *testing.T) {
	obj := findObject(t, dataFile("misp-stix/tests/test_objects_collection_stix20.json"), "observed-data--5ac337df-e078-4e99-8b17-02550a00020f")

	doc := convertWith(t, obj, observablesOn)

	if !doc.Indicator {
		t.Fatal("Indicator = false, want an indicator document")
	}
	checkField(t, doc, "threat.indicator.id", list("observed-data--5ac337df-e078-4e99-8b17-02550a00020f"))
	checkField(t, doc, "threat.indicator.type", list("ipv4-addr", "domain-name"))
	checkField(t, doc, "threat.indicator.ip", list("149.13.33.14"))
	checkField(t, doc, "threat.indicator.url.domain", list("circl.lu"))
	checkField(t, doc, "threat.indicator.name", "149.13.33.14")
	checkField(t, doc, "threat.indicator.first_seen", "2020-10-25T16:22:00.000Z")
	checkField(t, doc, "threat.indicator.last_seen", "2020-10-25T16:22:00.000Z")
	checkField(t, doc, "threat.indicator.modified_at", "2020-10-25T16:22:00.000Z")
	checkField(t, doc, "related.ip", list("149.13.33.14"))
	checkField(t, doc, "related.hosts", list("circl.lu"))
	checkField(t, doc, "stix.ioc_expiration_reason", "default")
	checkField(t, doc, "stix.ioc_expiration_date", "2021-01-23T16:22:00.000Z")
	if len(doc.Warnings) > 0 {
		t.Errorf("unexpected warnings %v", doc.Warnings)
	}
}

// A STIX 2.0 file inside observed-data and the STIX 2.1 file object with
// the same properties give the same threat.indicator values.
func TestObservedDataSameAsSTIX21Object(t *testing.T) {
	observed := findObject(t, dataFile("misp-stix/tests/test_objects_collection_stix20.json"), "observed-data--5e384ae7-672c-4250-9cda-3b4da964451a")
	embedded := observed["objects"].(map[string]any)["0"].(map[string]any)
	standalone := maps.Clone(embedded)
	standalone["spec_version"] = "2.1"
	standalone["id"] = "file--5e384ae7-672c-4250-9cda-3b4da964451a"

	fromObserved, relatedObserved := observableValues(t, convertWith(t, observed, observablesOn))
	fromObject, relatedObject := observableValues(t, convertWith(t, standalone, observablesOn))

	if !reflect.DeepEqual(fromObserved, fromObject) {
		t.Errorf("threat.indicator from observed-data %v, from the file object %v", fromObserved, fromObject)
	}
	if !reflect.DeepEqual(relatedObserved, relatedObject) {
		t.Errorf("related from observed-data %v, from the file object %v", relatedObserved, relatedObject)
	}
}

func TestObservedDataWithoutKnownObjects(t *testing.T) {
	tests := map[string]string{
		"STIX 2.1 object_refs": "observed-data--cf8eaa41-6f4c-482e-89b9-9cd2d6a83cb1",
		"user-account only":    "observed-data--5b1f9378-46d4-494b-a4c1-044e0a00020f",
	}
	files := map[string]string{
		"STIX 2.1 object_refs": "oasis-examples/cti-documentation/sighting-of-observed-data.json",
		"user-account only":    "misp-stix/tests/test_objects_collection_stix20.json",
	}
	for name, id := range tests {
		t.Run(name, func(t *testing.T) {
			doc := convertWith(t, findObject(t, dataFile(files[name]), id), observablesOn)
			if doc.Indicator {
				t.Error("Indicator = true, want a plain object document")
			}
			checkAbsent(t, doc, "threat.indicator")
		})
	}
}

// observableStore is a ContextSource that also resolves object_refs.
type observableStore map[string]map[string]any

func (s observableStore) IndicatorContext(string) *IndicatorContext { return nil }
func (s observableStore) MarkingTLP(string) (TLP, bool)             { return TLP{}, false }
func (s observableStore) Observable(id string) (map[string]any, bool) {
	obj, ok := s[id]
	return obj, ok
}

// STIX 2.1 observed-data refers to its objects through object_refs. Each
// object that the source holds is mapped as the object itself would be, and
// the times come from first_observed, last_observed and modified.
func TestObservedDataObjectRefs(t *testing.T) {
	file := dataFile("oasis-examples/cti-documentation/sighting-of-observed-data.json")
	observed := findObject(t, file, "observed-data--cf8eaa41-6f4c-482e-89b9-9cd2d6a83cb1")
	store := observableStore{"file--364fe3e5-b1f4-5ba3-b951-ee5983b3538d": findObject(t, file, "file--364fe3e5-b1f4-5ba3-b951-ee5983b3538d")}

	doc := convertWith(t, observed, &Options{ObservablesAsIndicators: true, Context: store})

	if !doc.Indicator {
		t.Fatal("Indicator = false, want an indicator document")
	}
	checkField(t, doc, "threat.indicator.id", list("observed-data--cf8eaa41-6f4c-482e-89b9-9cd2d6a83cb1"))
	checkField(t, doc, "threat.indicator.type", list("file"))
	checkField(t, doc, "threat.indicator.file.hash.md5", list("1717b7fff97d37a1e1a0029d83492de1"))
	checkField(t, doc, "threat.indicator.file.hash.sha1", list("c79a326f8411e9488bdc3779753e1e3489aaedea"))
	checkField(t, doc, "threat.indicator.file.name", list("resume.pdf"))
	checkField(t, doc, "threat.indicator.file.size", list(int64(83968)))
	checkField(t, doc, "threat.indicator.first_seen", "2017-02-27T21:37:11.213Z")
	checkField(t, doc, "threat.indicator.last_seen", "2017-02-27T21:37:11.213Z")
	checkField(t, doc, "threat.indicator.modified_at", "2017-02-28T19:37:11.213Z")
	checkField(t, doc, "related.hash", list("1717b7fff97d37a1e1a0029d83492de1", "c79a326f8411e9488bdc3779753e1e3489aaedea"))
}

// object_refs keep their order, references the source does not hold and
// objects of types not read as indicators give nothing, and the values match
// those of the objects converted alone.
func TestObservedDataObjectRefsMixed(t *testing.T) {
	ip := decodeObject(t, `{"type":"ipv4-addr","spec_version":"2.1","id":"ipv4-addr--5d1c7e2a-9b3f-4a6d-8e2c-7f1a0b9c3d41","value":"198.51.100.9"}`)
	domain := decodeObject(t, `{"type":"domain-name","spec_version":"2.1","id":"domain-name--3c10e93f-798e-5a26-a0c1-08156efab7f5","value":"example.com"}`)
	user := decodeObject(t, `{"type":"user-account","spec_version":"2.1","id":"user-account--0d5b424b-93b8-5cd8-ac36-306e1789d63c","user_id":"1001"}`)
	observed := decodeObject(t, `{"type":"observed-data","spec_version":"2.1","id":"observed-data--b67d30ff-02ac-498a-92f9-32f845f448cf",
		"created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","first_observed":"2024-01-01T00:00:00Z",
		"last_observed":"2024-01-01T00:00:00Z","number_observed":1,
		"object_refs":["domain-name--3c10e93f-798e-5a26-a0c1-08156efab7f5","user-account--0d5b424b-93b8-5cd8-ac36-306e1789d63c",
		"url--00000000-0000-4000-8000-000000000000","ipv4-addr--5d1c7e2a-9b3f-4a6d-8e2c-7f1a0b9c3d41"]}`)
	store := observableStore{}
	for _, obj := range []map[string]any{ip, domain, user} {
		store[obj["id"].(string)] = maps.Clone(obj)
	}

	doc := convertWith(t, observed, &Options{ObservablesAsIndicators: true, Context: store})

	checkField(t, doc, "threat.indicator.type", list("domain-name", "ipv4-addr"))
	checkField(t, doc, "threat.indicator.url.domain", list("example.com"))
	checkField(t, doc, "threat.indicator.ip", list("198.51.100.9"))
	checkField(t, doc, "threat.indicator.name", "example.com")
	checkAbsent(t, doc, "threat.indicator.url.full")
}

func TestObservedDataObjectRefsWithoutSource(t *testing.T) {
	file := dataFile("oasis-examples/cti-documentation/sighting-of-observed-data.json")
	observed := findObject(t, file, "observed-data--cf8eaa41-6f4c-482e-89b9-9cd2d6a83cb1")

	doc := convertWith(t, observed, &Options{ObservablesAsIndicators: true, Context: observableStore{}})

	if doc.Indicator {
		t.Error("Indicator = true, want a plain object document while no referenced object has arrived")
	}
	checkAbsent(t, doc, "threat.indicator")
}
