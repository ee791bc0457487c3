"""Problems found by hand in the STIX to ECS conversion."""

import json

from conftest import file_output_config, get


def test_url_domain_keeps_ipv6_brackets(tibeat):
    folder = tibeat.workdir / "feed"
    folder.mkdir()
    indicator = {
        "type": "indicator", "spec_version": "2.1",
        "id": "indicator--00000000-0000-4000-8000-000000000001",
        "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z",
        "pattern": "[url:value = 'http://[2001:db8::1]:8080/x']", "pattern_type": "stix",
        "valid_from": "2024-01-01T00:00:00.000Z",
    }
    (folder / "url.json").write_text(json.dumps(indicator))
    tibeat.write_config(file_output_config(f"""
  - type: logfile
    id: ipv6-url
    paths: ["{folder}/*"]
"""))

    proc = tibeat.run_once()

    assert proc.returncode == 0
    documents = tibeat.documents()
    assert len(documents) == 1
    # ECS url.domain: a literal IPv6 address enclosed by [ and ] (RFC 2732)
    # keeps the brackets in the domain field.
    assert get(documents[0], "threat.indicator.url.domain") == ["[2001:db8::1]"]
    assert get(documents[0], "threat.indicator.url.port") == [8080]
