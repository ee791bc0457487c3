"""Context that tibeat already stores does not publish its indicator again.

The README states that tibeat publishes an indicator again when context arrives
after it. A feed that sends the same version of a relationship and its
malware a second time (a TAXII collection polled again, a file copied into
the folder twice) brings no new context, so the indicator's document must
not be written a third time.
"""

import json
import os

from conftest import file_output_config, get

INDICATOR = {
    "type": "indicator", "spec_version": "2.1",
    "id": "indicator--0b5f2a6e-3c1d-4e8f-9a7b-1c2d3e4f5a61",
    "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z",
    "pattern": "[ipv4-addr:value = '198.51.100.7']", "pattern_type": "stix",
    "valid_from": "2024-01-01T00:00:00.000Z",
}
MALWARE = {
    "type": "malware", "spec_version": "2.1",
    "id": "malware--0b5f2a6e-3c1d-4e8f-9a7b-1c2d3e4f5a62",
    "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z",
    "name": "Emotet", "is_family": True,
}
RELATIONSHIP = {
    "type": "relationship", "spec_version": "2.1",
    "id": "relationship--0b5f2a6e-3c1d-4e8f-9a7b-1c2d3e4f5a63",
    "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z",
    "relationship_type": "indicates", "source_ref": INDICATOR["id"], "target_ref": MALWARE["id"],
}


def write_ndjson(path, objects):
    path.write_text("".join(json.dumps(o) + "\n" for o in objects))


def indicator_documents(tibeat):
    files = sorted((tibeat.data / "output").glob("tibeat*"), key=os.path.getmtime)
    docs = [json.loads(line) for path in files for line in path.read_text().splitlines() if line.strip()]
    return [d for d in docs if get(d, "stix.id") == INDICATOR["id"]]


def test_repeated_context_publishes_once(tibeat):
    folder = tibeat.workdir / "feed"
    folder.mkdir()
    tibeat.write_config(file_output_config(f"""
  - type: logfile
    id: context
    paths: ["{folder}/*.ndjson"]
"""))
    write_ndjson(folder / "a-indicator.ndjson", [INDICATOR])
    first = tibeat.run_once()
    assert first.returncode == 0, first.stderr[-3000:]
    write_ndjson(folder / "b-context.ndjson", [MALWARE, RELATIONSHIP])
    second = tibeat.run_once()
    assert second.returncode == 0, second.stderr[-3000:]
    assert len(indicator_documents(tibeat)) == 2, "new context publishes the indicator again once"

    write_ndjson(folder / "c-same-context.ndjson", [MALWARE, RELATIONSHIP])
    third = tibeat.run_once()

    assert third.returncode == 0, third.stderr[-3000:]
    docs = indicator_documents(tibeat)
    assert len(docs) == 2, "the same context versions again must not publish the indicator a third time"
