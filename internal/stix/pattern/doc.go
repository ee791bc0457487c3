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
// Parse checks syntax only. The further checks of stix2-patterns, on hash
// values and on repeated qualifiers, are left to the caller.
//
// A rejected pattern yields a *SyntaxError carrying the byte offset of the
// failing token, what the grammar expected there and what was found.
package pattern
