"""The active indicators index receives documents from every namespace.

The README states that the alias logs-ti_tibeat_latest.indicator covers every
namespace, and an input may set its own data_stream.namespace. The latest
transform copies each document's _source, data_stream.namespace included,
into the one destination index. Elasticsearch's constant_keyword type without
a `value` in the mapping takes the value of the first indexed document and
rejects every later document with another value (Elasticsearch reference,
"Constant keyword field type"). So the destination mapping must not map
data_stream.namespace as an unset constant_keyword.
"""

import pytest

from es_stub import ElasticsearchStub, KibanaStub
from test_setup import LATEST_TEMPLATE, command, stub_config, write_config


@pytest.fixture
def latest_template(tmp_path):
    es, kibana = ElasticsearchStub().start(), KibanaStub().start()
    config = write_config(tmp_path / "tibeat.yml", stub_config(es, kibana))
    result = command(tmp_path, config, "setup", "--index-management")
    assert result.returncode == 0, result.stderr[-3000:]
    bodies = [r.json() for r in es.requests("PUT", f"/_index_template/{LATEST_TEMPLATE}")]
    es.stop()
    kibana.stop()
    assert bodies, "setup did not install the active indicators index template"
    return bodies[-1]


def test_latest_index_accepts_every_namespace(latest_template):
    properties = latest_template["template"]["mappings"]["properties"]
    namespace = properties["data_stream"]["properties"]["namespace"]

    unset_constant = namespace.get("type") == "constant_keyword" and "value" not in namespace
    assert not unset_constant, (
        "data_stream.namespace is an unset constant_keyword in the active indicators index, "
        "so the first namespace the transform writes locks it and every other namespace is rejected")
