// Command patterncheck reads STIX patterns, one JSON string a line on
// standard input, and writes for each one a JSON line with tibeat's verdict
// and the comparisons it found, in the shape of the reference inspector
// (stix2-patterns' Pattern.inspect().comparisons). The system test
// tests/system/test_reference_patterns.py compares these lines with the
// reference validator.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"

	"github.com/tibeat/tibeat/internal/stix/pattern"
)

// verdict is one output line.
type verdict struct {
	// Parsed is true when pattern.Parse accepted the pattern.
	Parsed bool `json:"parsed"`
	// Error is the syntax error when Parsed is false.
	Error string `json:"error,omitempty"`
	// Violations lists the pattern.Validate findings as "rule: message".
	Violations []string `json:"violations,omitempty"`
	// STIX20StartStop is true when a START/STOP qualifier has a plain
	// string operand, the STIX 2.0 form.
	STIX20StartStop bool `json:"stix20_start_stop,omitempty"`
	// STIX21Form is the pattern rendered with each of those operands
	// replaced by t'2000-01-01T00:00:00Z', set only when STIX20StartStop is.
	// Parse takes any string there, so the reference's verdict on this form
	// tells whether the rest of the pattern is valid STIX 2.1. STIX21 is
	// the verdict on that form.
	STIX21Form string   `json:"stix21_form,omitempty"`
	STIX21     *verdict `json:"stix21,omitempty"`
	// Comparisons maps each object type to its comparisons in source
	// order, each [path, operator, literal]. A path is a list of property
	// names, list indexes and null for [*]. EXISTS tests are left out, as
	// the reference inspector leaves them out.
	Comparisons map[string][][]any `json:"comparisons,omitempty"`
}

func main() {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(nil, 64<<20)
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	encoder := json.NewEncoder(out)
	for line := 1; in.Scan(); line++ {
		var source string
		if err := json.Unmarshal(in.Bytes(), &source); err != nil {
			fmt.Fprintf(os.Stderr, "patterncheck: line %d is not a JSON string: %v\n", line, err)
			os.Exit(2)
		}
		if err := encoder.Encode(check(source)); err != nil {
			fmt.Fprintf(os.Stderr, "patterncheck: %v\n", err)
			os.Exit(1)
		}
	}
	if err := in.Err(); err != nil {
		fmt.Fprintf(os.Stderr, "patterncheck: reading standard input: %v\n", err)
		os.Exit(1)
	}
}

func check(source string) verdict {
	p, err := pattern.Parse(source)
	if err != nil {
		return verdict{Error: err.Error()}
	}
	v := verdict{Parsed: true, Comparisons: map[string][][]any{}}
	for _, e := range pattern.Validate(source, p) {
		v.Violations = append(v.Violations, e.Rule+": "+e.Message)
	}
	for _, c := range p.Comparisons() {
		if c.Operator == pattern.OpExists {
			continue
		}
		operator := string(c.Operator)
		if c.Negated {
			operator = "NOT " + operator
		}
		steps := make([]any, len(c.Path.Steps))
		for i, s := range c.Path.Steps {
			switch {
			case s.IsIndex && s.AnyIndex:
				steps[i] = nil
			case s.IsIndex:
				steps[i] = s.Index
			default:
				steps[i] = s.Property
			}
		}
		t := c.Path.ObjectType
		v.Comparisons[t] = append(v.Comparisons[t], []any{steps, operator, pattern.LiteralText(c.Value)})
	}
	if rewriteStartStop(p.Expr) {
		v.STIX20StartStop = true
		v.STIX21Form = p.String()
		rewritten := check(v.STIX21Form)
		v.STIX21 = &rewritten
	}
	return v
}

// rewriteStartStop replaces the plain string operands of START and STOP by
// a fixed timestamp literal and reports whether there were any.
func rewriteStartStop(e pattern.ObservationExpr) bool {
	switch e := e.(type) {
	case *pattern.CompoundObservation:
		left := rewriteStartStop(e.Left)
		return rewriteStartStop(e.Right) || left
	case *pattern.QualifiedObservation:
		found := rewriteStartStop(e.Expr)
		q := &e.Qualifier
		for _, v := range []*pattern.Value{&q.Start, &q.Stop} {
			if q.Kind == pattern.QualifierStartStop && v.Kind == pattern.KindString {
				*v = pattern.Value{Kind: pattern.KindTimestamp, Text: "2000-01-01T00:00:00Z"}
				found = true
			}
		}
		return found
	}
	return false
}
