"""STIX context: relationships that link an indicator to malware, campaigns
and ATT&CK techniques end up in the indicator's document, whichever arrives
first, in one run or across a restart.

Expected values are the objects' own names and ATT&CK ids, placed in the ECS
threat.software, threat.technique and threat.tactic fields.
"""

import json
import os
import shutil

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


def newest_copy(docs):
    """The copy the latest transform keeps: the greatest stix.ioc_revision_date.
    Every value has nine fractional digits in UTC, so text order is time order."""
    return max(docs, key=lambda d: get(d, "stix.ioc_revision_date"))


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
    assert len(docs) == 2
    assert len({d["@metadata"]["_id"] for d in docs}) == 2, \
        "a data stream rejects a second document with the first one's _id"
    final = newest_copy(docs)
    assert get(final, "threat.software.name") == ["Emotet"]
    assert get(final, "threat.indicator.ip") == ["198.51.100.77"]
    assert get(final, "input.type") == "logfile"
    assert get(final, "log.file.path") == str(folder / "a-indicators.ndjson")
    assert get(final, "log.offset") == 0


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
    # The version instant is the indicator's modified time.
    assert get(before[0], "stix.ioc_revision_date") == "2024-01-01T00:00:00.000000000Z"

    write_ndjson(folder / "b-context.ndjson", [MALWARE, RELATIONSHIP])
    second = tibeat.run_once()

    assert second.returncode == 0, second.stderr[-3000:]
    after = indicator_documents(tibeat, INDICATOR["id"])
    assert len(after) == 2, "the second run publishes the indicator again"
    assert after[1]["@metadata"]["_id"] != before[0]["@metadata"]["_id"]
    assert get(after[1], "threat.software.name") == ["Emotet"]
    assert newest_copy(after) is after[1], "the enriched copy must sort after the first one"
    assert get(after[1], "log.file.path") == str(folder / "a-indicators.ndjson")


def test_context_after_restart_repeat_delivery(tibeat):
    folder = tibeat.workdir / "feed"
    folder.mkdir()
    write_ndjson(folder / "a-indicators.ndjson", [INDICATOR])
    configure(tibeat, folder)
    assert tibeat.run_once().returncode == 0
    write_ndjson(folder / "b-context.ndjson", [MALWARE, RELATIONSHIP])
    assert tibeat.run_once().returncode == 0
    ids = {d["@metadata"]["_id"] for d in indicator_documents(tibeat, INDICATOR["id"])}

    # Without the registry every file is read again, with the context index
    # still in place: the indicator's copy must reuse an _id already sent.
    shutil.rmtree(tibeat.data / "registry")
    third = tibeat.run_once()

    assert third.returncode == 0, third.stderr[-3000:]
    again = indicator_documents(tibeat, INDICATOR["id"])
    assert len(again) > 2, "the indicator was not read again"
    assert {d["@metadata"]["_id"] for d in again} == ids


OBSERVED_FILE = {
    "type": "file", "spec_version": "2.1", "id": "file--364fe3e5-b1f4-5ba3-b951-ee5983b3538d",
    "hashes": {"MD5": "1717b7fff97d37a1e1a0029d83492de1", "SHA-1": "c79a326f8411e9488bdc3779753e1e3489aaedea"},
    "size": 83968, "name": "resume.pdf",
}
OBSERVED_DATA = {
    "type": "observed-data", "spec_version": "2.1", "id": "observed-data--cf8eaa41-6f4c-482e-89b9-9cd2d6a83cb1",
    "created": "2017-02-28T19:37:11.213Z", "modified": "2017-02-28T19:37:11.213Z",
    "first_observed": "2017-02-27T21:37:11.213Z", "last_observed": "2017-02-27T21:37:11.213Z",
    "number_observed": 1, "object_refs": [OBSERVED_FILE["id"]],
}


def test_observed_data_object_refs_resolved_later(tibeat):
    # The file and observed-data of the OASIS "Sighting of Observed Data"
    # example, the file in a later file than the observed-data.
    folder = tibeat.workdir / "feed"
    folder.mkdir()
    write_ndjson(folder / "a-observed.ndjson", [OBSERVED_DATA])
    write_ndjson(folder / "b-file.ndjson", [OBSERVED_FILE])
    tibeat.write_config(file_output_config(f"""
  - type: logfile
    id: observed
    paths: ["{folder}/*.ndjson"]
""", extra="tibeat.stix.observables_as_indicators: true\n"))

    proc = tibeat.run_once()

    assert proc.returncode == 0, proc.stderr[-3000:]
    docs = indicator_documents(tibeat, OBSERVED_DATA["id"])
    indicators = [d for d in docs if "indicator" in (get(d, "event.type") or [])]
    assert len(indicators) == 1, "the file's arrival must publish the observed-data as an indicator"
    doc = indicators[0]
    assert get(doc, "threat.indicator.file.hash.md5") == ["1717b7fff97d37a1e1a0029d83492de1"]
    assert get(doc, "threat.indicator.file.hash.sha1") == ["c79a326f8411e9488bdc3779753e1e3489aaedea"]
    assert get(doc, "threat.indicator.file.name") == ["resume.pdf"]
    assert get(doc, "threat.indicator.file.size") == [83968]
    assert get(doc, "threat.indicator.first_seen") == "2017-02-27T21:37:11.213Z"
    assert get(doc, "log.file.path") == str(folder / "a-observed.ndjson")


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
    copies = {}
    for doc in documents_in_order(tibeat):
        if get(doc, "stix.type") == "indicator":
            copies.setdefault(get(doc, "stix.id"), []).append(doc)
    latest = {stix_id: newest_copy(docs) for stix_id, docs in copies.items()}
    assert len(latest) == 886
    doc = next(d for d in latest.values() if get(d, "stix.id") == "indicator--001384cf-cfa9-46a2-b998-267a4b73c9b4")
    assert get(doc, "threat.technique.id") == ["T1105"]
    assert get(doc, "threat.tactic.name") == ["Command and Control"]
    assert get(doc, "stix.campaign.name") == ["Emotet Malware"]
    assert all(get(d, "stix.campaign.name") for d in latest.values()), "every indicator indicates a campaign"
