"""Cyber-observables published as indicators reach the active indicators alias.

With `observables_as_indicators`, the README states that an `ipv4-addr` object is
published as an indicator document, and the README directs Indicator Match rules to
query the alias that the latest transform fills. The transform's source
query must therefore match such a document.
"""

import json

from conftest import file_output_config, get
from es_stub import ElasticsearchStub, KibanaStub
from test_setup import TRANSFORM, command, stub_config, write_config

OBSERVABLE = {
    "type": "ipv4-addr", "spec_version": "2.1",
    "id": "ipv4-addr--5d1c7e2a-9b3f-4a6d-8e2c-7f1a0b9c3d41",
    "value": "198.51.100.9",
}


def matches_filter(doc, clause):
    """Evaluate one term or exists clause of a bool filter on a document."""
    (kind, spec), = clause.items()
    if kind == "term":
        (field, value), = spec.items()
        value = value["value"] if isinstance(value, dict) else value
        found = get(doc, field)
        return found == value or (isinstance(found, list) and value in found)
    if kind == "exists":
        return get(doc, spec["field"]) is not None
    raise AssertionError(f"unexpected query clause {clause}")


def latest_filters(tmp_path):
    """The bool filter of the latest transform that `setup` installs."""
    es, kibana = ElasticsearchStub().start(), KibanaStub().start()
    config = write_config(tmp_path / "setup.yml", stub_config(es, kibana))
    result = command(tmp_path / "setup", config, "setup", "--index-management")
    transforms = [r.json() for r in es.requests("PUT", f"/_transform/{TRANSFORM}")]
    es.stop()
    kibana.stop()
    assert result.returncode == 0, result.stderr[-3000:]
    assert transforms, "setup did not create the latest transform"
    return transforms[-1]["source"]["query"]["bool"]["filter"]


def run_observables(tibeat, objects):
    folder = tibeat.workdir / "feed"
    folder.mkdir()
    (folder / "observables.ndjson").write_text("".join(json.dumps(o) + "\n" for o in objects))
    tibeat.write_config(file_output_config(f"""
  - type: logfile
    id: observables
    paths: ["{folder}/*.ndjson"]
""", extra="tibeat.stix.observables_as_indicators: true\n"))
    run = tibeat.run_once()
    assert run.returncode == 0, run.stderr[-3000:]


def test_observable_indicator_reaches_latest_transform(tibeat, tmp_path):
    filters = latest_filters(tmp_path)
    run_observables(tibeat, [OBSERVABLE])

    docs = [d for d in tibeat.documents() if get(d, "stix.id") == OBSERVABLE["id"]]
    assert len(docs) == 1
    assert get(docs[0], "threat.indicator.ip") == ["198.51.100.9"]

    missed = [clause for clause in filters if not matches_filter(docs[0], clause)]
    assert missed == [], "the observable's indicator document never reaches logs-ti_tibeat_latest.indicator"


# STIX 2.0 observed-data embeds its objects; STIX 2.1 observed-data names
# them in object_refs, here before the object itself arrives.
OBSERVED_20 = {
    "type": "observed-data", "id": "observed-data--7c5b6f0e-3d2a-4b1c-9e8f-0a1b2c3d4e51",
    "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z",
    "first_observed": "2024-01-01T00:00:00Z", "last_observed": "2024-01-01T00:00:00Z", "number_observed": 1,
    "objects": {"0": {"type": "ipv4-addr", "value": "198.51.100.20"}},
}
OBSERVED_21 = {
    "type": "observed-data", "spec_version": "2.1", "id": "observed-data--7c5b6f0e-3d2a-4b1c-9e8f-0a1b2c3d4e52",
    "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z",
    "first_observed": "2024-01-01T00:00:00Z", "last_observed": "2024-01-01T00:00:00Z", "number_observed": 1,
    "object_refs": [OBSERVABLE["id"]],
}


def test_observed_data_indicators_reach_latest_transform(tibeat, tmp_path):
    filters = latest_filters(tmp_path)
    run_observables(tibeat, [OBSERVED_20, OBSERVED_21, OBSERVABLE])

    for observed, ip in ((OBSERVED_20, "198.51.100.20"), (OBSERVED_21, "198.51.100.9")):
        docs = [d for d in tibeat.documents()
                if get(d, "stix.id") == observed["id"] and get(d, "threat.indicator.ip") == [ip]]
        assert len(docs) == 1, f"{observed['id']} gave no indicator document for {ip}"
        missed = [clause for clause in filters if not matches_filter(docs[0], clause)]
        assert missed == [], f"{observed['id']} never reaches logs-ti_tibeat_latest.indicator"
        assert get(docs[0], "stix.ioc_revision_date") is not None, "the transform sorts on stix.ioc_revision_date"
