// Package runmode forwards to the module's run mode for the inputs.
package runmode

import "github.com/tibeat/tibeat/internal/runmode"

// Once reports whether tibeat runs with --once.
func Once() bool { return runmode.Once() }

// SetOnce overrides --once in tests.
func SetOnce(v bool) { runmode.SetOnce(v) }
