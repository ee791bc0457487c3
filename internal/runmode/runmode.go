// Package runmode carries the process-wide run mode that the beater and the
// inputs consult: whether tibeat was started with --once.
package runmode

import "flag"

// once is registered on the standard flag set so that the root command can
// expose it as --once on `tibeat run`, as Filebeat does.
var once = flag.Bool("once", false, "Run every input to the end of the data it has now, wait until the output has acknowledged every event, then exit")

// Once reports whether inputs should stop at the end of the data they can
// see now instead of polling for more.
func Once() bool { return *once }

// SetOnce overrides the flag; tests use it to run an input in --once mode.
func SetOnce(v bool) { *once = v }
