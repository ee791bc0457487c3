"""STIX patterns for the comparison with the reference validator.

Three sources: a generator that follows the STIX 2.1 patterning grammar
(STIXPattern.g4 of oasis-open/cti-stix2-json-schemas), the random patterns
of stix2-generator, and mutations of any pattern, which make most of the
invalid ones. Every function takes a random.Random, so a seed gives the
same patterns on every run.
"""

import json
import random
import re
from pathlib import Path

OBJECT_TYPES = [
    "ipv4-addr", "ipv6-addr", "domain-name", "url", "file", "email-addr", "email-message",
    "network-traffic", "process", "windows-registry-key", "x509-certificate", "user-account",
    "artifact", "autonomous-system", "mac-addr", "mutex", "software", "directory",
    "x-acme-widget", "a", "_t", "x_y2",
]
IDENTIFIERS = ["value", "name", "size", "src_ref", "dst_ref", "values", "data", "x", "_y", "key", "b", "t", "h"]
KEYWORDS = ["AND", "OR", "NOT", "FOLLOWEDBY", "LIKE", "MATCHES", "ISSUPERSET", "ISSUBSET", "EXISTS",
            "LAST", "IN", "START", "STOP", "SECONDS", "WITHIN", "REPEATS", "TIMES", "true", "false"]
# Keys of file:hashes as feeds write them: the spellings of the STIX 2.1
# hash-algorithm-ov and of STIX 2.0, and keys that pattern.Validate does not check.
HASH_KEYS = {
    "MD5": 32, "'MD5'": 32, "md5": 32, "'SHA-1'": 40, "SHA1": 40, "'SHA-256'": 64, "SHA256": 64,
    "'SHA-512'": 128, "'SHA3-256'": 64, "'SHA-224'": 56, "'RIPEMD-160'": 40, "WHIRLPOOL": 128,
    "MD6": 64, "SSDEEP": 0, "ssdeep": 0, "TLSH": 70, "'Sha_256'": 64, "IMPHASH": 32,
}
SPACES = [" ", " ", " ", "  ", "\n", "\t", "\r\n", "\u00a0", "\u3000", "\u2003", "/* c */", "/**/ ", "// tail\n"]
WORDLIKE = re.compile(r"[A-Za-z0-9_'\-+.]")


def _hex(rng, n):
    return "".join(rng.choice("0123456789abcdefABCDEF") for _ in range(n))


def _timestamp_text(rng, valid=True):
    month, day, hour, minute, second = (rng.randint(1, 12), rng.randint(1, 31), rng.randint(0, 23),
                                        rng.randint(0, 59), rng.randint(0, 60))
    if not valid:
        choice = rng.randrange(6)
        if choice == 0:
            month = 13
        elif choice == 1:
            hour = 24
        elif choice == 2:
            second = 61
        elif choice == 3:
            return f"{rng.randint(1970, 2030)}-{month:02d}-{day:02d}"
        elif choice == 4:
            return f"{rng.randint(1970, 2030)}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:{second:02d}+01:00"
        else:
            return f"{rng.randint(1970, 2030)}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:{second:02d}.Z"
    fraction = rng.choice(["", "", ".5", ".123", ".123456", ".000000001"])
    return f"{rng.randint(1970, 2030)}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:{second:02d}{fraction}Z"


def _quote(text):
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _string_text(rng):
    return rng.choice([
        "198.51.100.7", "evil.example.com", "http://example.net/a?b=c#d", "C:\\Windows\\x.exe",
        "it's", "", " ", "%.example.com", "^[a-z]+\\.exe$", "“привет”", "a\tb", "line\nbreak",
        "] AND [", "198.51.100.0/24", "2001:db8::1", "2016-06-01T00:00:00Z", "x" * rng.randint(1, 80),
    ])


def literal(rng, kinds=("string", "int", "float", "bool", "hex", "binary", "timestamp")):
    kind = rng.choice(kinds)
    if kind == "string":
        return _quote(_string_text(rng))
    if kind == "int":
        return rng.choice([
            "0", "1", "42", "+7", "-3", "-0", "+0", str(rng.randint(-10**6, 10**6)),
            "9223372036854775807", "-9223372036854775808", "9223372036854775808", "99999999999999999999999",
        ])
    if kind == "float":
        return rng.choice(["1.5", ".5", "-.5", "+2.25", "007.5", "0.0", "-1.0", "3.14159"])
    if kind == "bool":
        return rng.choice(["true", "false"])
    if kind == "hex":
        return "h'" + _hex(rng, rng.choice([0, 2, 4, 32])) + "'"
    if kind == "binary":
        return "b'" + rng.choice(["dGliZWF0", "YQ==", "YWI=", "AAAA", "+/+/"]) + "'"
    return "t'" + _timestamp_text(rng, valid=rng.random() < 0.9) + "'"


def property_name(rng):
    roll = rng.random()
    if roll < 0.75:
        return rng.choice(IDENTIFIERS)
    if roll < 0.85:
        return _quote(rng.choice(["SHA-256", "x y", "AND", "it's", "windows-pebinary-ext", "http-request-ext"]))
    return _quote(rng.choice(IDENTIFIERS))


def object_path(rng):
    object_type = rng.choice(OBJECT_TYPES)
    steps = [property_name(rng)]
    for _ in range(rng.choice([0, 0, 0, 1, 1, 2, 3])):
        roll = rng.random()
        if roll < 0.6:
            steps.append("." + property_name(rng))
        elif roll < 0.8:
            steps.append("[*]")
        elif roll < 0.97:
            steps.append(f"[{rng.choice(['0', '1', '12', '+2'])}]")
        else:
            steps.append("[-1]")
    return f"{object_type}:{''.join(steps)}"


def hash_comparison(rng):
    """A comparison on a hashes path with a digest of the right form most of the time."""
    object_type = rng.choice(["file", "file", "artifact", "x509-certificate"])
    key, length = rng.choice(list(HASH_KEYS.items()))
    if key in ("SSDEEP", "ssdeep"):
        digest = "3:" + "".join(rng.choice("AaZz09+/") for _ in range(rng.randint(1, 20))) + ":x"
    else:
        digest = _hex(rng, length)
    if rng.random() < 0.25:
        digest = rng.choice([digest[:-1], digest + "0", digest.replace(digest[:1], "z", 1), "", "not-a-hash"])
    operator = rng.choice(["=", "=", "=", "!=", "IN", "LIKE", "NOT ="])
    if operator == "IN":
        value = "(" + ", ".join(_quote(_hex(rng, length)) for _ in range(rng.randint(0, 3))) + ")"
    elif rng.random() < 0.05:
        value = literal(rng, ("int", "hex", "bool"))
    else:
        value = _quote(digest)
    return f"{object_type}:hashes.{key} {operator} {value}"


def comparison(rng):
    if rng.random() < 0.15:
        return hash_comparison(rng)
    path = object_path(rng)
    roll = rng.random()
    if roll < 0.05:
        return f"EXISTS {path}"
    if roll < 0.07:
        return f"NOT EXISTS {path}"
    negation = "NOT " if rng.random() < 0.1 else ""
    operator = rng.choice(["=", "=", "=", "==", "!=", "<>", "<", "<=", ">", ">=", "IN", "LIKE", "MATCHES",
                           "ISSUBSET", "ISSUPERSET"])
    if operator in ("=", "==", "!=", "<>"):
        value = literal(rng)
    elif operator in ("<", "<=", ">", ">="):
        value = literal(rng, ("string", "int", "float", "hex", "binary", "timestamp"))
    elif operator == "IN":
        value = "(" + ", ".join(literal(rng, ("string", "int", "float", "bool", "hex"))
                                for _ in range(rng.randint(0, 4))) + ")"
    else:
        value = _quote(_string_text(rng))
    return f"{path} {negation}{operator} {value}"


def comparison_expression(rng, depth=0):
    if depth > 2 or rng.random() < 0.55:
        text = comparison(rng)
        return f"({text})" if rng.random() < 0.05 else text
    left = comparison_expression(rng, depth + 1)
    right = comparison_expression(rng, depth + 1)
    text = f"{left} {rng.choice(['AND', 'OR'])} {right}"
    return f"({text})" if rng.random() < 0.3 else text


def qualifier(rng):
    roll = rng.random()
    if roll < 0.35:
        return f"WITHIN {rng.choice(['5', '0', '+5', '2.5', '.5', '600', '99999999999999999999'])} SECONDS"
    if roll < 0.65:
        return f"REPEATS {rng.choice(['2', '0', '5', '+3'])} TIMES"
    if roll < 0.9:
        return f"START t'{_timestamp_text(rng)}' STOP t'{_timestamp_text(rng)}'"
    # The STIX 2.0 form, with plain strings.
    return f"START '{_timestamp_text(rng)}' STOP '{_timestamp_text(rng)}'"


def observation_expression(rng, depth=0):
    roll = rng.random()
    if depth > 3 or roll < 0.45:
        text = f"[{comparison_expression(rng)}]"
    elif roll < 0.8:
        operator = rng.choice(["AND", "OR", "FOLLOWEDBY"])
        text = f"{observation_expression(rng, depth + 1)} {operator} {observation_expression(rng, depth + 1)}"
        if rng.random() < 0.5:
            text = f"({text})"
    else:
        text = f"({observation_expression(rng, depth + 1)})"
    for _ in range(rng.choice([0, 0, 0, 1, 1, 2])):
        if not text.endswith("]") and not text.endswith(")"):
            text = f"({text})"
        text = f"{text} {qualifier(rng)}"
    return text


def _respace(rng, text):
    """Replace single spaces outside literals by other white space or comments."""
    out = []
    in_quote = False
    i = 0
    while i < len(text):
        c = text[i]
        if c == "'" and (i == 0 or text[i - 1] != "\\" or text[i - 2:i] == "\\\\"):
            in_quote = not in_quote
        if c == " " and not in_quote and rng.random() < 0.15:
            out.append(rng.choice(SPACES))
        elif c == " " and not in_quote and rng.random() < 0.1 and not (
                WORDLIKE.match(text[i - 1:i] or " ") and WORDLIKE.match(text[i + 1:i + 2] or " ")):
            pass
        else:
            out.append(c)
        i += 1
    return "".join(out)


def grammar_patterns(rng, count):
    patterns = []
    for _ in range(count):
        text = observation_expression(rng)
        if rng.random() < 0.3:
            text = _respace(rng, text)
        if rng.random() < 0.02:
            text = rng.choice(SPACES) + text
        patterns.append(text)
    return patterns


MUTATION_CHARACTERS = list("[]()'\":.,*=!<>+-_ \n\taAzZ059\\/tbhT#§") + KEYWORDS + ["and", "or", "Exists", "'", "h'", "t'"]
TOKEN = re.compile(r"'(?:\\.|[^'\\])*'|[A-Za-z_][A-Za-z0-9_-]*|[0-9]+|\S")


def mutate(rng, text):
    """Apply one or two random edits, at the character or the token level."""
    for _ in range(rng.choice([1, 1, 2])):
        roll = rng.random()
        position = rng.randint(0, len(text)) if text else 0
        if roll < 0.2 and text:
            text = text[:position] + text[position + 1:]
        elif roll < 0.4:
            text = text[:position] + rng.choice(MUTATION_CHARACTERS) + text[position:]
        elif roll < 0.55 and text:
            text = text[:position] + rng.choice(MUTATION_CHARACTERS) + text[position + 1:]
        elif roll < 0.65 and text:
            text = text[:rng.randint(0, len(text))]
        else:
            tokens = TOKEN.findall(text)
            if not tokens:
                continue
            i = rng.randrange(len(tokens))
            action = rng.randrange(4)
            if action == 0:
                del tokens[i]
            elif action == 1:
                tokens.insert(i, tokens[rng.randrange(len(tokens))])
            elif action == 2:
                j = rng.randrange(len(tokens))
                tokens[i], tokens[j] = tokens[j], tokens[i]
            else:
                tokens[i] = tokens[i].swapcase()
            text = " ".join(tokens)
    return text


def stix2_generator_patterns(rng, count):
    """Patterns from stix2-generator, which builds them with the stix2 library's AST."""
    import faker
    import stix2generator
    from stix2generator.generation.pattern_generator import PatternGenerator

    # stix2-generator draws from the global random module and from Faker.
    seed = rng.randrange(2**32)
    random.seed(seed)
    faker.Faker.seed(seed)
    generator = PatternGenerator(stix2generator.create_object_generator(), "2.1")
    return [generator.generate() for _ in range(count)]


def _collect(value, patterns):
    if isinstance(value, dict):
        source = value.get("pattern")
        if isinstance(source, str) and value.get("pattern_type", "stix") == "stix":
            patterns.add(source)
        for child in value.values():
            _collect(child, patterns)
    elif isinstance(value, list):
        for child in value:
            _collect(child, patterns)


def real_patterns(*roots):
    """The STIX patterns of every .json and .ndjson file under roots, sorted."""
    patterns = set()
    for root in roots:
        for path in sorted(Path(root).rglob("*")):
            if path.suffix == ".ndjson":
                for line in path.read_text(encoding="utf-8").splitlines():
                    try:
                        _collect(json.loads(line), patterns)
                    except json.JSONDecodeError:
                        pass
            elif path.suffix == ".json":
                try:
                    _collect(json.loads(path.read_text(encoding="utf-8")), patterns)
                except (json.JSONDecodeError, UnicodeDecodeError):
                    pass
    return sorted(patterns)
