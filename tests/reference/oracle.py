"""The OASIS reference validator, stix2-patterns, as the oracle for tibeat's
pattern parser.

reference_verdict runs stix2patterns.validator.run_validator for STIX 2.1
and, for accepted patterns, Pattern.inspect(). Both run in worker processes
because the ANTLR runtime is pure Python.
"""

import multiprocessing

VALID = "valid"
INVALID = "invalid"
# run_validator raised an exception instead of returning a verdict.
CRASHED = "crashed"


def _grammar_accepts(source):
    """Whether the STIX 2.1 ANTLR grammar alone accepts source, without the
    checks run_validator adds after parsing."""
    from antlr4 import CommonTokenStream, InputStream
    from stix2patterns.exceptions import STIXPatternErrorListener
    from stix2patterns.v21.grammars.STIXPatternLexer import STIXPatternLexer
    from stix2patterns.v21.grammars.STIXPatternParser import STIXPatternParser

    lexer = STIXPatternLexer(InputStream(source))
    lexer.removeErrorListeners()
    parser = STIXPatternParser(CommonTokenStream(lexer))
    parser.removeErrorListeners()
    listener = STIXPatternErrorListener()
    parser.addErrorListener(listener)
    parser.pattern()
    return not listener.err_strings


def _comparisons(source):
    """Pattern.inspect().comparisons with [*] as None and operators as the
    parser names them: the inspector keeps == and <> as written."""
    from stix2patterns.inspector import INDEX_STAR
    from stix2patterns.v21.pattern import Pattern

    operators = {"==": "=", "<>": "!=", "NOT ==": "NOT =", "NOT <>": "NOT !="}
    result = {}
    for object_type, tuples in Pattern(source).inspect().comparisons.items():
        result[object_type] = [
            [[None if step is INDEX_STAR else step for step in path], operators.get(op, op), value]
            for path, op, value in tuples
        ]
    return result


def reference_verdict(source):
    """Returns a dict: verdict (VALID, INVALID or CRASHED), errors, the
    grammar-only verdict when the validator crashed, and comparisons when
    the pattern is valid."""
    from stix2patterns.validator import run_validator

    try:
        errors = run_validator(source, "2.1")
    except Exception as e:  # noqa: BLE001 - any exception is the reference's own failure
        return {"verdict": CRASHED, "errors": [f"{type(e).__name__}: {e}"],
                "grammar_accepts": _grammar_accepts(source) if source else False}
    if errors:
        return {"verdict": INVALID, "errors": errors}
    return {"verdict": VALID, "errors": [], "comparisons": _comparisons(source)}


def reference_verdicts(sources, processes=2):
    with multiprocessing.get_context("fork").Pool(processes) as pool:
        return pool.map(reference_verdict, sources, chunksize=200)


def error_rules(errors):
    """Names the check behind each run_validator message with the rule names
    of tibeat's pattern.Validate, or "grammar" for a syntax error."""
    rules = set()
    for message in errors:
        if "missing square brackets" in message:
            rules.add("brackets")
        elif "Duplicate qualifier type" in message:
            rules.add("qualifier")
        elif "hash" in message and "is not a valid" in message:
            rules.add("hash")
        else:
            rules.add("grammar")
    return rules
