"""STIX context: relationships that link an indicator to malware, campaigns
and ATT&CK techniques end up in the indicator's document, whichever arrives
first, in one run or across a restart.

Expected values are the objects' own names and ATT&CK ids, placed in the ECS
threat.software, threat.technique and threat.tactic fields.
"""

import json
import os

from conftest import DATA, file_output_config, get

INDICATOR = {
    "type": "indicator", "spec_version": "2.1",
    "id": "indicator--7e0b0c3a-0a4d-4f1e-9b7a-3c2d1e0f9a01",
    "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z",
    "pattern": "[ipv4-addr:value = '198.51.100.77']", "pattern_type": "stix",
    "valid_from": "2024-01-01T00:00:00.000Z",
}
MALWARE = {
    "type": "malware", "spec_version": "2.1",
    "id": "malware--7e0b0c3a-0a4d-4f1e-9b7a-3c2d1e0f9a02",
    "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z",
    "name": "Emotet", "is_family": True, "aliases": ["Geodo"],
    "external_references": [{"source_name": "mitre-attack", "external_id": "S0367"}],
}
RELATIONSHIP = {
    "type": "relationship", "spec_version": "2.1",
    "id": "relationship--7e0b0c3a-0a4d-4f1e-9b7a-3c2d1e0f9a03",
    "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z",
    "relationship_type": "indicates", "source_ref": INDICATOR["id"], "target_ref": MALWARE["id"],
}


def write_ndjson(path, objects):
    path.write_text("".join(json.dumps(o) + "\n" for o in objects))


def configure(tibeat, folder):
    tibeat.write_config(file_output_config(f"""
  - type: logfile
    id: context
    paths: ["{folder}/*.ndjson"]
"""))


def documents_in_order(tibeat):
    """Every document, oldest file first: rotation names a later run's file
    tibeat-DATE-1.ndjson, which sorts before tibeat-DATE.ndjson."""
    files = sorted((tibeat.data / "output").glob("tibeat*"), key=os.path.getmtime)
    return [json.loads(line) for path in files for line in path.read_text().splitlines() if line.strip()]


def latest_by_id(docs):
    """The document Elasticsearch keeps for each _id: the last one written."""
    latest = {}
    for doc in docs:
        latest[doc["@metadata"]["_id"]] = doc
    return latest


def indicator_documents(tibeat, stix_id):
    return [d for d in documents_in_order(tibeat) if get(d, "stix.id") == stix_id]


def test_context_before_indicator(tibeat):
    folder = tibeat.workdir / "feed"
    folder.mkdir()
    write_ndjson(folder / "feed.ndjson", [MALWARE, RELATIONSHIP, INDICATOR])
    configure(tibeat, folder)

    proc = tibeat.run_once()

    assert proc.returncode == 0, proc.stderr[-3000:]
    docs = indicator_documents(tibeat, INDICATOR["id"])
    assert len(docs) == 1, "context that came first needs no second document"
    assert get(docs[0], "threat.software.name") == ["Emotet"]
    assert get(docs[0], "threat.software.id") == ["S0367"]
    assert get(docs[0], "threat.software.type") == ["Malware"]
    assert get(docs[0], "threat.software.alias") == ["Geodo"]


def test_context_after_indicator_other_page(tibeat):
    folder = tibeat.workdir / "feed"
    folder.mkdir()
    write_ndjson(folder / "a-indicators.ndjson", [INDICATOR])
    write_ndjson(folder / "b-context.ndjson", [RELATIONSHIP, MALWARE])
    configure(tibeat, folder)

    proc = tibeat.run_once()

    assert proc.returncode == 0, proc.stderr[-3000:]
    docs = indicator_documents(tibeat, INDICATOR["id"])
    assert len({d["@metadata"]["_id"] for d in docs}) == 1, "the enriched document must replace the first one"
    final = latest_by_id(docs)[docs[0]["@metadata"]["_id"]]
    assert get(final, "threat.software.name") == ["Emotet"]
    assert get(final, "threat.indicator.ip") == ["198.51.100.77"]
    assert get(final, "input.type") == "logfile"


def test_context_after_restart(tibeat):
    folder = tibeat.workdir / "feed"
    folder.mkdir()
    write_ndjson(folder / "a-indicators.ndjson", [INDICATOR])
    configure(tibeat, folder)
    first = tibeat.run_once()
    assert first.returncode == 0, first.stderr[-3000:]
    before = indicator_documents(tibeat, INDICATOR["id"])
    assert len(before) == 1
    assert get(before[0], "threat.software") is None

    write_ndjson(folder / "b-context.ndjson", [MALWARE, RELATIONSHIP])
    second = tibeat.run_once()

    assert second.returncode == 0, second.stderr[-3000:]
    after = indicator_documents(tibeat, INDICATOR["id"])
    assert len(after) == 2, "the second run publishes the indicator again"
    assert after[1]["@metadata"]["_id"] == before[0]["@metadata"]["_id"]
    assert get(after[1], "threat.software.name") == ["Emotet"]


def test_context_unit42_playbook(tibeat):
    # A STIX 2.0 bundle that lists its 886 indicators before the
    # relationships to its campaign and ATT&CK techniques.
    tibeat.write_config(file_output_config(f"""
  - type: logfile
    id: unit42
    paths: ["{DATA}/unit42-playbooks/emotet.json"]
"""))

    proc = tibeat.run_once()

    assert proc.returncode == 0, proc.stderr[-3000:]
    latest = latest_by_id(d for d in documents_in_order(tibeat) if get(d, "stix.type") == "indicator")
    assert len(latest) == 886
    doc = next(d for d in latest.values() if get(d, "stix.id") == "indicator--001384cf-cfa9-46a2-b998-267a4b73c9b4")
    assert get(doc, "threat.technique.id") == ["T1105"]
    assert get(doc, "threat.tactic.name") == ["Command and Control"]
    assert get(doc, "stix.campaign.name") == ["Emotet Malware"]
    assert all(get(d, "stix.campaign.name") for d in latest.values()), "every indicator indicates a campaign"
