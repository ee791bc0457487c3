"""The README's first command: the default configuration on the bundled sample."""

import collections
import glob
import json
import re
import shutil

from conftest import REPO, get

SAMPLE_GLOBS = [
    "_meta/sample/amnesty-investigations/*/*.stix2",
    "_meta/sample/unit42-playbooks/*.json",
]

# ECS 9 lists these values for threat.indicator.type; a STIX object type of
# the same name maps to itself.
ECS_INDICATOR_TYPES = {
    "autonomous-system", "artifact", "directory", "domain-name", "email-addr",
    "file", "ipv4-addr", "ipv6-addr", "mac-addr", "mutex", "port", "process",
    "software", "url", "user-account", "windows-registry-key", "x509-certificate",
}

# An object path at the start of a comparison: the object type, a colon,
# then the first property.
COMPARISON = re.compile(r"(?:^|[\[(\s])([a-z0-9][a-z0-9-]*):([A-Za-z_'][\w'.\-\[\]*]*)")


def expected_types(pattern: str) -> set:
    """The ECS indicator types a pattern names, read from its text alone."""
    text = re.sub(r"'(?:[^'\\]|\\.)*'", "''", pattern)  # blank out literals
    types = set()
    for obj, prop in COMPARISON.findall(text):
        if obj in ECS_INDICATOR_TYPES:
            types.add(obj)
        elif obj == "network-traffic" and prop in ("src_port", "dst_port"):
            types.add("port")
        elif obj == "email-message" and prop.endswith(("_ref.value", "_refs[*].value")):
            types.add("email-addr")
    return types


def sample_objects():
    for pattern in SAMPLE_GLOBS:
        for path in sorted(glob.glob(str(REPO / pattern))):
            with open(path, encoding="utf-8") as f:
                yield from json.load(f)["objects"]


def test_default_config_ships_every_sample_object(tibeat):
    shutil.copy(REPO / "tibeat.yml", tibeat.config_path)
    tibeat.config_path.chmod(0o600)

    proc = tibeat.run_once()

    assert proc.returncode == 0, proc.stderr[-3000:]
    objects = list(sample_objects())
    docs = tibeat.documents()
    # An indicator whose relationships come after it is published again
    # with its context under a new _id; every other object has one document.
    versions = {d["stix"]["id"] + d["stix"].get("modified", "") for d in docs}
    assert len(versions) == len(objects)
    assert versions == {o["id"] + o.get("modified", "") for o in objects}
    # No copy repeats an _id, which a data stream would drop as a duplicate.
    assert len({d["@metadata"]["_id"] for d in docs}) == len(docs)


def test_default_config_counts_indicators_per_type(tibeat):
    shutil.copy(REPO / "tibeat.yml", tibeat.config_path)
    tibeat.config_path.chmod(0o600)

    proc = tibeat.run_once()

    assert proc.returncode == 0, proc.stderr[-3000:]
    want = collections.Counter()
    for obj in sample_objects():
        if obj["type"] == "indicator" and obj.get("pattern_type", "stix") == "stix":
            want.update(expected_types(obj["pattern"]))
    got = collections.Counter()
    # One document per STIX id: the copy the latest transform keeps.
    newest = {}
    for doc in tibeat.documents():
        key = doc["stix"]["id"]
        if key not in newest or (get(doc, "stix.ioc_revision_date") or "") > (get(newest[key], "stix.ioc_revision_date") or ""):
            newest[key] = doc
    for doc in newest.values():
        if doc["stix"]["type"] == "indicator":
            types = get(doc, "threat.indicator.type") or []
            got.update([types] if isinstance(types, str) else types)
    assert got == want


def test_once_prints_a_summary(tibeat):
    shutil.copy(REPO / "tibeat.yml", tibeat.config_path)
    tibeat.config_path.chmod(0o600)

    proc = tibeat.run_once()

    indicators = sum(1 for o in sample_objects() if o["type"] == "indicator")
    assert proc.returncode == 0
    assert re.search(r"objects read\s+%d\b" % len(list(sample_objects())), proc.stderr)
    assert re.search(r"indicators\s+%d\b" % indicators, proc.stderr)


def test_documents_are_ecs_threat_indicators(tibeat):
    shutil.copy(REPO / "tibeat.yml", tibeat.config_path)
    tibeat.config_path.chmod(0o600)

    tibeat.run_once()

    indicators = [d for d in tibeat.documents() if d["stix"]["type"] == "indicator"]
    assert indicators
    for doc in indicators:
        assert get(doc, "event.kind") == "enrichment"
        assert get(doc, "event.category") == ["threat"]
        assert get(doc, "event.type") == ["indicator"]
        assert get(doc, "threat.indicator.id") in (doc["stix"]["id"], [doc["stix"]["id"]])
        assert doc["@metadata"]["_id"]
        assert get(doc, "input.type") == "logfile"
        assert get(doc, "threat.feed.name") in ("Amnesty International investigations", "Unit 42 playbooks")
