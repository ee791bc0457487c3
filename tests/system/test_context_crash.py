"""Context learnt before a crash still enriches indicators afterwards.

The inputs do not read again what their acknowledged cursor covers, so the
context index must have written what it learnt from those objects to its
file by then, even when tibeat is killed without a chance to close it.
"""

import json
import time

from conftest import file_output_config, get, kill, wait_for

INDICATORS = 200
MALWARE_ID = "malware--5d0e8c2e-0000-4000-8000-00000000c0de"


def indicator(n: int) -> dict:
    return {
        "type": "indicator", "spec_version": "2.1",
        "id": f"indicator--7a1f0000-0000-4000-8000-{n:012d}",
        "created": "2024-02-01T00:00:00.000Z", "modified": "2024-02-01T00:00:00.000Z",
        "pattern": f"[ipv4-addr:value = '198.51.100.{n % 250}']",
        "pattern_type": "stix", "valid_from": "2024-02-01T00:00:00.000Z",
    }


def write_bundle(path, objects) -> None:
    # Pretty-printed, as many feeds publish their bundles.
    path.write_text(json.dumps({"type": "bundle", "id": "bundle--1f0e0000-0000-4000-8000-000000000001",
                                "objects": objects}, indent=2))


def test_context_after_sigkill_enriches_earlier_indicators(tibeat):
    feed = tibeat.workdir / "feed"
    feed.mkdir()
    indicators = [indicator(n) for n in range(INDICATORS)]
    write_bundle(feed / "1-indicators.json", indicators)
    tibeat.write_config(file_output_config(f"""
  - type: logfile
    id: crash
    paths: ["{feed}/*.json"]
    scan_frequency: 1s
"""))

    proc = tibeat.start()
    try:
        wait_for(lambda: len(tibeat.documents()) >= INDICATORS, 60, "every indicator's document")
        # The file's cursor reaches the registry once the output has
        # acknowledged its last event; give that a moment.
        time.sleep(2)
    finally:
        kill(proc)

    malware = {"type": "malware", "spec_version": "2.1", "id": MALWARE_ID,
               "created": "2024-02-02T00:00:00.000Z", "modified": "2024-02-02T00:00:00.000Z",
               "name": "Late Loader", "is_family": True}
    relationships = [{
        "type": "relationship", "spec_version": "2.1",
        "id": f"relationship--7a1f0000-0000-4000-8000-{n:012d}",
        "created": "2024-02-02T00:00:00.000Z", "modified": "2024-02-02T00:00:00.000Z",
        "relationship_type": "indicates", "source_ref": ind["id"], "target_ref": MALWARE_ID,
    } for n, ind in enumerate(indicators)]
    write_bundle(feed / "2-context.json", [malware] + relationships)

    run = tibeat.run_once()
    assert run.returncode == 0, run.stderr[-3000:]
    enriched = {d["stix"]["id"] for d in tibeat.documents()
                if d.get("stix", {}).get("type") == "indicator"
                and "Late Loader" in (get(d, "threat.software.name") or [])}
    assert enriched == {i["id"] for i in indicators}
