"""Compares tibeat's pattern verdicts with the reference validator's and
sorts every disagreement into an allowed difference or a failure."""

import json
import re
import subprocess

from oracle import CRASHED, VALID, error_rules, reference_verdict, reference_verdicts

# The differences that are deliberate, each with the reason. A disagreement
# that fits none of them fails the test.
ALLOWED = {
    "stix20-start-stop": "Parse accepts START '...' STOP '...' with plain strings, the STIX 2.0 form; "
                         "the STIX 2.1 grammar wants t'...'. The pattern with those operands written as "
                         "timestamps is valid for the reference.",
    "int64-range": "Parse rejects integers outside the int64 range and WITHIN values beyond float64, "
                   "which the grammar does not bound.",
    "hash-set": "The reference checks an IN set on a hashes path as one text, such as "
                "('d41d...','900150...'), which is never a digest; pattern.Validate checks each member.",
    "md6-prefix": "The reference's MD6 expression, ^[a-fA-F0-9]{32}|[a-fA-F0-9]{40}|..., lacks a group, so "
                  "it accepts any text that starts with 32 hex digits; pattern.Validate wants a whole digest "
                  "of 32, 40, 56, 64, 96 or 128 hex digits.",
    "reference-crash": "run_validator raised an exception (a negative list index, or a list index "
                       "right after hashes); the verdict of the grammar alone stands in for it.",
}


def run_patterncheck(binary, sources):
    lines = "".join(json.dumps(source) + "\n" for source in sources)
    proc = subprocess.run([str(binary)], input=lines.encode(), stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, check=True, timeout=600)
    verdicts = [json.loads(line) for line in proc.stdout.decode().splitlines()]
    assert len(verdicts) == len(sources), proc.stderr.decode()
    return verdicts


def _number_range(ours):
    return not ours["parsed"] and (
        "between -9223372036854775808 and 9223372036854775807" in ours["error"]
        or "a number below 1.8e308" in ours["error"])


def _set_hash_errors_only(errors):
    hash_errors = [e for e in errors if "is not a valid" in e]
    return hash_errors and all(e.startswith("FAIL: '(") for e in hash_errors)


def _md6_prefix_only(violations):
    hash_violations = [v for v in violations if v.startswith("hash:")]
    return hash_violations and all(
        v.endswith("is not a valid MD6 hash") and re.match(r"hash: '[0-9a-fA-F]{32}", v) for v in hash_violations)


def classify(source, ours, reference, reference_of):
    """Returns None when the two agree, the name of an ALLOWED difference, or
    a description of an unexplained disagreement. reference_of runs the
    reference on another pattern."""
    ours_valid = ours["parsed"] and not ours.get("violations")
    if ours.get("stix20_start_stop"):
        # The reference rejects the plain strings, so judge the STIX 2.1 form
        # instead: a disagreement left there is another one.
        result = classify(ours["stix21_form"], ours["stix21"], reference_of(ours["stix21_form"]), reference_of)
        return result or "stix20-start-stop"

    if reference["verdict"] == CRASHED:
        if ours["parsed"] == reference["grammar_accepts"]:
            return "reference-crash"
        if _number_range(ours) and reference["grammar_accepts"]:
            return "int64-range"
        return f"tibeat parsed={ours['parsed']}, the reference crashed and its grammar says {reference['grammar_accepts']}"

    reference_valid = reference["verdict"] == VALID
    if _number_range(ours) and reference_valid:
        return "int64-range"
    if ours["parsed"] and not reference_valid:
        # When the grammar passed on both sides, the failed checks must be
        # the same ones.
        ours_rules = {v.split(":", 1)[0] for v in ours.get("violations", [])}
        reference_rules = error_rules(reference["errors"])
        if "grammar" in reference_rules:
            return (f"tibeat accepts the syntax ({ours.get('violations')}), "
                    f"the reference rejects it ({reference['errors']})")
        if ours_rules == reference_rules:
            return None
        if ours_rules | {"hash"} == reference_rules and _set_hash_errors_only(reference["errors"]):
            return "hash-set"
        if ours_rules == reference_rules | {"hash"} and _md6_prefix_only(ours["violations"]):
            return "md6-prefix"
        return f"tibeat fails {sorted(ours_rules)}, the reference fails {sorted(reference_rules)}: {reference['errors']}"
    if not ours_valid and reference_valid and _md6_prefix_only(ours.get("violations", [])):
        return "md6-prefix"
    if ours_valid != reference_valid:
        return (f"tibeat {'accepts' if ours_valid else 'rejects'} ({ours.get('error') or ours.get('violations')}), "
                f"the reference {'accepts' if reference_valid else 'rejects'} ({reference['errors']})")

    if reference_valid and ours.get("comparisons", {}) != reference["comparisons"]:
        return f"comparisons differ: tibeat {ours.get('comparisons')}, the reference {reference['comparisons']}"
    return None


def compare_all(binary, sources, processes=2):
    """Returns the verdict pairs and, per pattern, its classification."""
    ours = run_patterncheck(binary, sources)
    references = reference_verdicts(sources, processes)
    extra = {}

    def reference_of(source):
        if source not in extra:
            extra[source] = reference_verdict(source)
        return extra[source]

    results = [classify(s, o, r, reference_of) for s, o, r in zip(sources, ours, references)]
    return ours, references, results
