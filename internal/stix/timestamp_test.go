package stix

import "testing"

func TestParseTimestamp(t *testing.T) {
	cases := []struct {
		in       string
		want     string // ECS form
		zoneless bool
	}{
		{"2024-05-01T12:00:00Z", "2024-05-01T12:00:00.000Z", false},
		{"2024-05-01T12:00:00.5Z", "2024-05-01T12:00:00.500Z", false},
		{"2024-05-01T12:00:00.123Z", "2024-05-01T12:00:00.123Z", false},
		{"2024-05-01T12:00:00.123456Z", "2024-05-01T12:00:00.123456Z", false},
		{"2024-05-01T12:00:00.123456789Z", "2024-05-01T12:00:00.123456789Z", false},
		{"2024-05-01T12:00:00.1234567891Z", "2024-05-01T12:00:00.123456789Z", false},
		{"2024-05-01T14:00:00+02:00", "2024-05-01T12:00:00.000Z", false},
		{"2024-05-01T12:00:00.000-05:00", "2024-05-01T17:00:00.000Z", false},
		{"2024-05-01T00:30:00+01:00", "2024-04-30T23:30:00.000Z", false},
		{"2024-05-01t12:00:00z", "2024-05-01T12:00:00.000Z", false},
		{"2024-05-01 12:00:00Z", "2024-05-01T12:00:00.000Z", false},
		{"2024-05-01 12:00:00", "2024-05-01T12:00:00.000Z", true},
		{"2024-05-01T12:00:00", "2024-05-01T12:00:00.000Z", true},
		{"2024-02-29T00:00:00Z", "2024-02-29T00:00:00.000Z", false},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			ts, zoneless, err := parseTimestamp(tc.in)
			if err != nil {
				t.Fatalf("error %v", err)
			}
			if got := ts.String(); got != tc.want {
				t.Errorf("String() = %s, want %s", got, tc.want)
			}
			if zoneless != tc.zoneless {
				t.Errorf("zoneless = %v, want %v", zoneless, tc.zoneless)
			}
		})
	}
}

func TestParseTimestampRejects(t *testing.T) {
	for _, in := range []string{
		"", "yesterday", "2024-05-01", "2024-05-01T12:00Z", "2024-13-01T00:00:00Z",
		"2023-02-29T00:00:00Z", "2024-05-01T24:00:00Z", "2024-05-01T12:00:00.Z",
		"2024-05-01T12:00:00+0200", "2024-05-01T12:00:00 Z", "2024-05-01X12:00:00Z",
		"２０２４-05-01T12:00:00Z",
	} {
		if _, _, err := parseTimestamp(in); err == nil {
			t.Errorf("%q: no error, want one", in)
		}
	}
}
