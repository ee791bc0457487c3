package httpclient

import "testing"

func TestScrubHidesEchoedCredentials(t *testing.T) {
	auth := AuthConfig{Basic: &BasicAuth{User: "analyst", Password: "s3cret-pass"}}
	echoed := `{"title": "Unauthorized", "description": "bad credentials analyst:s3cret-pass (Basic YW5hbHlzdDpzM2NyZXQtcGFzcw==)"}`

	got := Scrub(echoed, auth.Secrets())

	want := `{"title": "Unauthorized", "description": "bad credentials analyst:***** (Basic *****)"}`
	if got != want {
		t.Errorf("Scrub = %s, want %s", got, want)
	}
}

func TestSecretsSkipsVeryShortValues(t *testing.T) {
	auth := AuthConfig{Token: &TokenAuth{Value: "ab"}}

	if got := auth.Secrets(); len(got) != 0 {
		t.Errorf("Secrets = %q, want none: a two-character value would mangle every message", got)
	}
}
