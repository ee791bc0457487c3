// Package pattern parses STIX 2.1 patterns, the language of an indicator's
// pattern property when pattern_type is "stix", into a syntax tree.
//
// Parse follows the ANTLR grammar STIXPattern.g4 published by OASIS
// (oasis-open/cti-stix2-json-schemas) rule by rule. Keywords are upper-case
// only, true and false lower-case only, and strings know no escapes but \'
// and \\. Parse departs from the grammar in four places:
//   - It accepts START '...' STOP '...' with plain strings, the STIX 2.0
//     form, besides t'...' timestamps.
//   - It accepts NOT EXISTS, as the reference parser stix2-patterns 2.1.2
//     does.
//   - It rejects integers outside the int64 range.
//   - It rejects patterns nested more than 1000 levels deep, counting
//     parentheses and brackets.
//
// Parse checks syntax only. Validate adds the checks that the reference
// validator, stix2-patterns 2.1.2, runs after parsing: the pattern starts
// with '[', no qualifier kind repeats on one observation, and hash values
// are digests of their algorithm. The system test
// tests/system/test_reference_patterns.py runs more than 20,000 patterns
// through both and finds the same verdicts and the same comparisons
// (Pattern.inspect) except for these differences:
//   - the STIX 2.0 START/STOP form and the int64 bound above;
//   - an IN set on a hashes path, whose members Validate checks one by one
//     while the reference tests the set's whole text and so rejects it;
//   - MD6 values, which Validate wants as whole digests while the
//     reference accepts any text that starts with 32 hex digits;
//   - patterns on which the reference raises an exception instead of
//     returning a verdict: a negative list index, or a list index right
//     after hashes.
//
// A rejected pattern yields a *SyntaxError carrying the byte offset of the
// failing token, what the grammar expected there and what was found.
package pattern
