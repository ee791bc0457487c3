"""Cyber-observables published as indicators reach the active indicators alias.

With `observables_as_indicators`, the README states that an `ipv4-addr` object is
published as an indicator document, and the README directs Indicator Match rules to
query the alias that the latest transform fills. The transform's source
query must therefore match such a document.
"""

import json

import pytest

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


# TODO: fix the product, then drop this mark: strict xfail fails the
# suite as soon as the test passes.
@pytest.mark.xfail(strict=True, reason="the latest transform's source query keeps only stix.type indicator with threat.indicator.modified_at, so SCOs published as indicators never reach the alias")
def test_observable_indicator_reaches_latest_transform(tibeat, tmp_path):
    es, kibana = ElasticsearchStub().start(), KibanaStub().start()
    config = write_config(tmp_path / "setup.yml", stub_config(es, kibana))
    result = command(tmp_path / "setup", config, "setup", "--index-management")
    transforms = [r.json() for r in es.requests("PUT", f"/_transform/{TRANSFORM}")]
    es.stop()
    kibana.stop()
    assert result.returncode == 0, result.stderr[-3000:]
    assert transforms, "setup did not create the latest transform"
    filters = transforms[-1]["source"]["query"]["bool"]["filter"]

    folder = tibeat.workdir / "feed"
    folder.mkdir()
    (folder / "observables.ndjson").write_text(json.dumps(OBSERVABLE) + "\n")
    tibeat.write_config(file_output_config(f"""
  - type: logfile
    id: observables
    paths: ["{folder}/*.ndjson"]
""", extra="tibeat.stix.observables_as_indicators: true\n"))
    run = tibeat.run_once()
    assert run.returncode == 0, run.stderr[-3000:]
    docs = [d for d in tibeat.documents() if get(d, "stix.id") == OBSERVABLE["id"]]
    assert len(docs) == 1
    assert get(docs[0], "threat.indicator.ip") == ["198.51.100.9"]

    missed = [clause for clause in filters if not matches_filter(docs[0], clause)]
    assert missed == [], "the observable's indicator document never reaches logs-ti_tibeat_latest.indicator"
