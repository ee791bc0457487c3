package inputtest

import (
	"strings"
	"testing"
)

// ExpectError fails t unless err matches want: with want empty, err must be
// nil, and otherwise err's message must contain want.
func ExpectError(t testing.TB, err error, want string) {
	t.Helper()
	if want == "" {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("error %v, expected one containing %q", err, want)
	}
}
