"""Bad files: each problem is logged with the file and the place, counted,
and every other object still arrives."""

import gzip
import json

from conftest import CASES, file_output_config


def indicator(n: int) -> dict:
    return {
        "type": "indicator", "spec_version": "2.1",
        "id": f"indicator--00000000-0000-4000-8000-{n:012d}",
        "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z",
        "pattern": f"[ipv4-addr:value = '198.51.100.{n}']", "pattern_type": "stix",
        "valid_from": "2024-01-01T00:00:00.000Z",
    }


def bundle(objects: list) -> str:
    return json.dumps({"type": "bundle", "id": "bundle--00000000-0000-4000-8000-000000000001",
                       "objects": objects}, indent=1)


def run_files(tibeat, files: dict):
    folder = tibeat.workdir / "feed"
    folder.mkdir()
    for name, content in files.items():
        mode = "wb" if isinstance(content, bytes) else "w"
        with open(folder / name, mode) as f:
            f.write(content)
    tibeat.write_config(file_output_config(f"""
  - type: logfile
    id: bad-input
    paths: ["{folder}/*"]
"""))
    proc = tibeat.run_once()
    warnings = [l for l in tibeat.log_lines() if l.get("log.level") in ("warn", "warning", "error")]
    return proc, folder, warnings


def published_ips(tibeat) -> set:
    ips = set()
    for doc in tibeat.documents():
        ips.update(doc.get("threat", {}).get("indicator", {}).get("ip", []))
    return ips


def warning_text(warnings) -> str:
    return "\n".join(json.dumps(w) for w in warnings)


def file_warnings(warnings, path) -> list:
    """The warnings whose structured fields name the file."""
    return [w for w in warnings if w.get("log.file.path") == str(path)]


def test_invalid_ndjson_line_is_skipped_with_its_line(tibeat):
    lines = [json.dumps(indicator(1)), "{not json", json.dumps(indicator(3))]
    proc, folder, warnings = run_files(tibeat, {"feed.ndjson": "\n".join(lines) + "\n"})

    assert proc.returncode == 0
    assert published_ips(tibeat) == {"198.51.100.1", "198.51.100.3"}
    found = file_warnings(warnings, folder / "feed.ndjson")
    assert len(found) == 1, warning_text(warnings)
    assert found[0]["line"] == 2
    line2_start = len(lines[0]) + 1
    assert line2_start <= found[0]["log.offset"] < line2_start + len(lines[1])


def test_bundle_cut_short_keeps_the_objects_before_the_cut(tibeat):
    whole = bundle([indicator(1), indicator(2), indicator(3)])
    cut = whole[: whole.index("198.51.100.3")]
    proc, folder, warnings = run_files(tibeat, {"cut.json": cut})

    assert proc.returncode == 0
    assert published_ips(tibeat) == {"198.51.100.1", "198.51.100.2"}
    found = file_warnings(warnings, folder / "cut.json")
    assert len(found) == 1, warning_text(warnings)
    assert found[0]["log.offset"] >= cut.index("198.51.100.2")


def test_binary_and_empty_files_do_not_stop_other_files(tibeat):
    proc, folder, warnings = run_files(tibeat, {
        "a-binary.bin": bytes(range(256)) * 4,
        "b-empty.json": "",
        "c-good.json": bundle([indicator(7)]),
    })

    assert proc.returncode == 0
    assert published_ips(tibeat) == {"198.51.100.7"}
    assert len(file_warnings(warnings, folder / "a-binary.bin")) == 1, warning_text(warnings)


def test_corrupt_gzip_is_reported_and_skipped(tibeat):
    good = gzip.compress(bundle([indicator(1), indicator(2)]).encode())
    corrupt = good[:40] + bytes(64) + good[104:]
    proc, folder, warnings = run_files(tibeat, {
        "a-corrupt.json.gz": corrupt,
        "b-good.json.gz": gzip.compress(bundle([indicator(9)]).encode()),
    })

    assert proc.returncode == 0
    assert "198.51.100.9" in published_ips(tibeat)
    assert len(file_warnings(warnings, folder / "a-corrupt.json.gz")) == 1, warning_text(warnings)


def test_object_without_id_is_skipped_and_the_rest_published(tibeat):
    case = (CASES / "B26" / "bad-bundle-id.json").read_text()
    proc, folder, warnings = run_files(tibeat, {"bad-bundle-id.json": case})

    assert proc.returncode == 0
    ids = {d["stix"]["id"] for d in tibeat.documents() if d["stix"]["type"] == "indicator"}
    assert ids == {
        "indicator--e1f2a3b4-c5d6-4e7f-8a9b-0c1d2e3f4a26",
        "indicator--f2a3b4c5-d6e7-4f8a-9b0c-1d2e3f4a5b26",
    }
    assert "x-example-thing--b4c5d6e7-f8a9-4b0c-9d1e-3f4a5b6c7d26" in {d["stix"]["id"] for d in tibeat.documents()}
    assert str(folder / "bad-bundle-id.json") in warning_text(warnings)
    assert "summary" not in proc.stderr or "objects without type or id" in proc.stderr


def test_pattern_that_does_not_parse_keeps_the_document(tibeat):
    bad = indicator(5)
    bad["pattern"] = "[ipv4-addr:value = '198.51.100.5'"
    proc, folder, warnings = run_files(tibeat, {"feed.json": bundle([indicator(4), bad])})

    assert proc.returncode == 0
    docs = {d["stix"]["id"]: d for d in tibeat.documents()}
    assert len(docs) == 2
    broken = docs[bad["id"]]
    assert broken["stix"]["pattern"] == bad["pattern"]
    assert "offset" in broken["error"]["message"]
    assert "ip" not in broken.get("threat", {}).get("indicator", {})
    assert str(folder / "feed.json") in warning_text(warnings)


def test_invalid_file_reported_once(tibeat):
    # Nothing in the file is published, so its cursor needs an event of its
    # own. Without it the next run reads the file and warns again.
    proc, folder, warnings = run_files(tibeat, {"broken.ndjson": "{not json\n[1, 2\n"})
    assert proc.returncode == 0, proc.stderr
    assert len(file_warnings(warnings, folder / "broken.ndjson")) == 2, warning_text(warnings)
    assert tibeat.documents() == []

    proc = tibeat.run_once()
    assert proc.returncode == 0, proc.stderr
    all_warnings = [l for l in tibeat.log_lines() if l.get("log.level") in ("warn", "warning", "error")]
    assert len(file_warnings(all_warnings, folder / "broken.ndjson")) == 2, warning_text(all_warnings)
    assert tibeat.documents() == []
