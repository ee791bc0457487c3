"""`tibeat setup`, `export` and `run` against the Elasticsearch and Kibana
stand-in of es_stub.py: the index template, ILM policy, ingest pipelines,
active indicators transform, dashboards, the documents' destination, and the
feed presets.

None of this runs against a real Elasticsearch or Kibana; the README lists
what was verified only against the stand-in.
"""

import fnmatch
import json
import re
import shutil
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from conftest import REPO, binary, get
from es_stub import ElasticsearchStub, KibanaStub, import_objects

NAMESPACE_DATA_STREAM = "logs-ti_tibeat.indicator-default"
TEMPLATE = "logs-ti_tibeat.indicator-default"
POLICY = "logs-ti_tibeat.indicator"
LATEST_ALIAS = "logs-ti_tibeat_latest.indicator"
LATEST_INDEX = "logs-ti_tibeat_latest.dest_indicator-1"
LATEST_TEMPLATE = "logs-ti_tibeat_latest.dest_indicator"
TRANSFORM = "logs-ti_tibeat-latest_indicator"
DASHBOARD = "tibeat-overview"

# Every ingest processor Elasticsearch 9.x ships (the ingest-common,
# ingest-geoip, ingest-user-agent, ingest-attachment and enrich modules).
ES_PROCESSORS = {
    "append", "attachment", "bytes", "circle", "community_id", "convert", "csv", "date",
    "date_index_name", "dissect", "dot_expander", "drop", "enrich", "fail", "fingerprint",
    "foreach", "geo_grid", "geoip", "grok", "gsub", "html_strip", "inference", "ip_location",
    "join", "json", "kv", "lowercase", "network_direction", "pipeline", "redact",
    "registered_domain", "remove", "rename", "reroute", "script", "set", "set_security_user",
    "sort", "split", "terminate", "trim", "uppercase", "uri_parts", "urldecode", "user_agent",
}


def command(workdir: Path, config: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """Runs one tibeat command with its own path.data and path.logs."""
    return subprocess.run(
        [str(binary()), *args, "-e", "-c", str(config), "--path.home", str(REPO),
         "--path.data", str(workdir / "data"), "--path.logs", str(workdir / "logs")],
        capture_output=True, text=True, timeout=timeout)


def write_config(path: Path, text: str) -> Path:
    path.write_text(text)
    path.chmod(0o600)
    return path


def stub_config(es: ElasticsearchStub, kibana: KibanaStub = None, inputs: str = "", extra: str = "") -> str:
    kibana_host = f'setup.kibana.host: "{kibana.url}"' if kibana else ""
    return f"""
tibeat.inputs:
{inputs or "  []"}
output.elasticsearch:
  hosts: ["{es.url}"]
{kibana_host}
{extra}
"""


def flatten_mapping(properties: dict, prefix: str = "") -> dict:
    """Maps every field path of a mapping to its definition."""
    out = {}
    for name, spec in properties.items():
        path = prefix + name
        out[path] = spec
        for sub, sub_spec in spec.get("fields", {}).items():
            out[f"{path}.{sub}"] = sub_spec
        if "properties" in spec:
            out.update(flatten_mapping(spec["properties"], path + "."))
    return out


def document_paths(doc, prefix: str = "") -> set:
    """The leaf field paths of a document, lists of objects included."""
    paths = set()
    if isinstance(doc, dict):
        for key, value in doc.items():
            paths |= document_paths(value, f"{prefix}{key}.")
    elif isinstance(doc, list):
        for item in doc:
            paths |= document_paths(item, prefix)
    elif prefix:
        paths.add(prefix[:-1])
    return paths


def processors_of(pipeline: dict) -> list:
    """Every processor of a pipeline, those in on_failure handlers included."""
    found = []

    def walk(items):
        for item in items or []:
            (name, spec), = item.items()
            found.append((name, spec))
            walk(spec.get("on_failure"))
            if name == "foreach":
                walk([spec["processor"]])

    walk(pipeline.get("processors"))
    walk(pipeline.get("on_failure"))
    return found


def put_bodies(es: ElasticsearchStub, prefix: str) -> dict:
    return {r.path[len(prefix):]: r.json() for r in es.requests("PUT", prefix)}


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """One `tibeat setup` (every step) against a fresh stand-in."""
    workdir = tmp_path_factory.mktemp("setup")
    es, kibana = ElasticsearchStub().start(), KibanaStub().start()
    config = write_config(workdir / "tibeat.yml", stub_config(es, kibana))
    result = command(workdir, config, "setup")
    yield {"es": es, "kibana": kibana, "result": result, "workdir": workdir, "config": config}
    es.stop()
    kibana.stop()


@pytest.fixture
def stubs():
    es, kibana = ElasticsearchStub().start(), KibanaStub().start()
    yield es, kibana
    es.stop()
    kibana.stop()


def test_setup_succeeds_against_stand_in(installed):
    result, es, kibana = installed["result"], installed["es"], installed["kibana"]

    assert result.returncode == 0, result.stderr[-3000:]
    assert "Index setup finished." in result.stdout
    assert "Loaded dashboards" in result.stdout
    assert "Loaded Ingest pipelines" in result.stdout
    assert es.failures == []
    assert kibana.failures == []
    failed = [(r.method, r.path, r.status) for r in es.requests() + kibana.requests()
              if r.status >= 400 and not (r.status == 404 and r.method in ("GET", "HEAD"))]
    assert failed == []


def test_index_template_is_composable_data_stream(installed):
    template = put_bodies(installed["es"], "/_index_template/")[TEMPLATE]

    assert template["index_patterns"] == ["logs-ti_tibeat.*-*"]
    assert "data_stream" in template
    assert template["priority"] > 100, "must win over the built-in logs template"
    assert fnmatch.fnmatchcase(NAMESPACE_DATA_STREAM, template["index_patterns"][0])
    assert not fnmatch.fnmatchcase(LATEST_INDEX, template["index_patterns"][0])
    settings = template["template"]["settings"]["index"]
    assert settings["lifecycle"]["name"] == POLICY
    assert settings["default_pipeline"].startswith("logs-ti_tibeat.indicator-")
    mappings = template["template"]["mappings"]
    assert mappings["dynamic_templates"], "expected libbeat's dynamic templates"
    fields = flatten_mapping(mappings["properties"])
    for name in ("data_stream.type", "data_stream.dataset", "data_stream.namespace"):
        assert fields[name]["type"] == "constant_keyword"
    assert fields["stix.ioc_expiration_date"]["type"] == "date"
    assert fields["threat.indicator.modified_at"]["type"] == "date"
    assert fields["event.ingested"]["type"] == "date"
    # The transform sorts context revisions one nanosecond apart.
    assert fields["stix.ioc_revision_date"]["type"] == "date_nanos"


def test_setup_creates_the_default_data_stream(installed):
    es = installed["es"]

    assert NAMESPACE_DATA_STREAM in es.state.data_streams


def test_ilm_policy_deletes_after_30_days(installed):
    policy = put_bodies(installed["es"], "/_ilm/policy/")[POLICY]

    phases = policy["policy"]["phases"]
    assert phases["delete"]["min_age"] == "30d"
    assert phases["delete"]["actions"] == {"delete": {}}
    assert "rollover" in phases["hot"]["actions"]


def test_ilm_retention_is_configurable(tmp_path, stubs):
    es, _ = stubs
    config = write_config(tmp_path / "tibeat.yml", stub_config(es, extra="tibeat.data_stream.retention: 7d"))

    result = command(tmp_path, config, "setup", "--index-management")

    assert result.returncode == 0, result.stderr[-3000:]
    policy = put_bodies(es, "/_ilm/policy/")[POLICY]
    assert policy["policy"]["phases"]["delete"]["min_age"] == "7d"


def test_invalid_retention_is_rejected(tmp_path, stubs):
    es, _ = stubs
    config = write_config(tmp_path / "tibeat.yml", stub_config(es, extra="tibeat.data_stream.retention: a month"))

    result = command(tmp_path, config, "setup", "--index-management")

    assert result.returncode != 0
    assert "tibeat.data_stream.retention" in result.stderr


def test_pipelines_use_only_elasticsearch_processors(installed):
    pipelines = put_bodies(installed["es"], "/_ingest/pipeline/")

    assert pipelines, "setup loaded no pipeline"
    for name, body in pipelines.items():
        names = {p for p, _ in processors_of(body)}
        assert names <= ES_PROCESSORS, f"{name} uses {names - ES_PROCESSORS}"


def test_default_pipeline_sets_ingested_and_keeps_failures(installed):
    es = installed["es"]
    template = put_bodies(es, "/_index_template/")[TEMPLATE]
    name = template["template"]["settings"]["index"]["default_pipeline"]
    pipeline = put_bodies(es, "/_ingest/pipeline/")[name]

    processors = processors_of({"processors": pipeline["processors"]})
    assert ("set", {"tag": "set_event_ingested", "field": "event.ingested",
                    "value": "{{{_ingest.timestamp}}}"}) in processors
    custom = [spec for p, spec in processors if p == "pipeline" and spec["name"] == "logs-ti_tibeat.indicator@custom"]
    assert custom and custom[0]["ignore_missing_pipeline"] is True
    failure = pipeline["on_failure"]
    assert any(p.get("append", {}).get("field") == "error.message" for p in failure)
    assert not any("drop" in p or "fail" in p for p in failure), "a failure must not lose the document"


def test_setup_loads_the_preset_pipelines(installed):
    pipelines = put_bodies(installed["es"], "/_ingest/pipeline/")

    # setup without flags behaves as --enable-all-filesets, as Filebeat's does.
    assert any(name.endswith("-mitre_attack") for name in pipelines)
    assert any(name.endswith("-isac") for name in pipelines)


def test_active_indicators_are_installed(installed):
    es = installed["es"]
    templates = put_bodies(es, "/_index_template/")
    pipelines = put_bodies(es, "/_ingest/pipeline/")

    latest = templates[LATEST_TEMPLATE]
    assert "data_stream" not in latest, "a transform cannot write to a data stream"
    assert fnmatch.fnmatchcase(LATEST_INDEX, latest["index_patterns"][0])
    assert latest["priority"] > templates[TEMPLATE]["priority"]
    assert LATEST_ALIAS in es.state.indices[LATEST_INDEX]
    assert LATEST_ALIAS.startswith("logs-ti_"), "Elastic Security's default threat index pattern is logs-ti_*"

    transform = es.state.transforms[TRANSFORM]
    assert transform["latest"] == {"unique_key": ["stix.id"], "sort": "stix.ioc_revision_date"}
    assert transform["retention_policy"]["time"]["field"] == "stix.ioc_expiration_date"
    assert transform["sync"]["time"]["field"] == "event.ingested"
    assert transform["dest"]["index"] == LATEST_INDEX
    assert transform["dest"]["pipeline"] in pipelines
    assert all(fnmatch.fnmatchcase(NAMESPACE_DATA_STREAM, p) for p in transform["source"]["index"])
    assert TRANSFORM in es.state.started
    put = [r for r in es.requests("PUT", "/_transform/")]
    assert put[0].query.get("defer_validation") == "true"


def test_setup_again_replaces_the_transform(tmp_path, stubs):
    es, _ = stubs
    config = write_config(tmp_path / "tibeat.yml", stub_config(es))

    first = command(tmp_path, config, "setup", "--index-management")
    second = command(tmp_path, config, "setup", "--index-management")

    assert first.returncode == 0, first.stderr[-3000:]
    assert second.returncode == 0, second.stderr[-3000:]
    steps = [(r.method, r.path.rsplit("/", 1)[-1]) for r in es.requests(prefix="/_transform/")]
    assert ("POST", "_stop") in steps
    assert ("DELETE", TRANSFORM) in steps
    assert TRANSFORM in es.state.started
    assert len(es.state.indices) == 1


def test_active_indicators_can_be_turned_off(tmp_path, stubs):
    es, _ = stubs
    config = write_config(tmp_path / "tibeat.yml", stub_config(es, extra="tibeat.active_indicators.enabled: false"))

    result = command(tmp_path, config, "setup", "--index-management")

    assert result.returncode == 0, result.stderr[-3000:]
    assert es.state.transforms == {}
    assert TEMPLATE in es.state.templates


def test_template_maps_every_field_the_default_config_writes(installed, tibeat):
    shutil.copy(REPO / "tibeat.yml", tibeat.config_path)
    tibeat.config_path.chmod(0o600)
    template = put_bodies(installed["es"], "/_index_template/")[TEMPLATE]
    mappings = template["template"]["mappings"]
    fields = flatten_mapping(mappings["properties"])
    # Dynamic templates other than the catch-all strings_as_keyword.
    patterns = [spec["path_match"] for t in mappings["dynamic_templates"] for spec in t.values()
                if "path_match" in spec]

    proc = tibeat.run_once()

    assert proc.returncode == 0, proc.stderr[-3000:]
    paths = set()
    for doc in tibeat.documents():
        paths |= document_paths({k: v for k, v in doc.items() if k != "@metadata"})
    unmapped, unindexed = [], []
    for path in sorted(paths):
        if path in fields or any(fnmatch.fnmatchcase(path, p) for p in patterns):
            continue
        ancestors = [".".join(path.split(".")[:i]) for i in range(1, path.count(".") + 1)]
        if any(fields.get(a, {}).get("type") == "flattened" for a in ancestors):
            continue
        if any(fields.get(a, {}).get("dynamic") in (False, "false") for a in ancestors):
            unindexed.append(path)
            continue
        unmapped.append(path)
    assert unmapped == []
    # fields.yml leaves STIX properties it does not list unindexed on purpose
    # (dynamic: false on stix); nothing outside stix may be left so.
    assert all(p.startswith("stix.") for p in unindexed)


def test_export_template_matches_what_setup_loads(installed):
    es = installed["es"]
    result = command(installed["workdir"], installed["config"], "export", "template")

    assert result.returncode == 0, result.stderr[-3000:]
    exported = json.loads(result.stdout)
    loaded = put_bodies(es, "/_index_template/")[TEMPLATE]
    assert exported == loaded


def test_export_ilm_policy_matches_what_setup_loads(installed):
    result = command(installed["workdir"], installed["config"], "export", "ilm-policy")

    assert result.returncode == 0, result.stderr[-3000:]
    assert json.loads(result.stdout) == put_bodies(installed["es"], "/_ilm/policy/")[POLICY]


def parse_dev_tools(text: str) -> dict:
    """Reads `PUT _ingest/pipeline/<name>` requests with their JSON bodies."""
    out = {}
    decoder = json.JSONDecoder()
    pos = 0
    for match in re.finditer(r"^PUT _ingest/pipeline/(\S+)\n", text, re.M):
        if match.start() < pos:
            continue
        body, end = decoder.raw_decode(text, match.end())
        out[match.group(1)] = body
        pos = end
    return out


def test_export_pipelines_matches_what_setup_loads(installed):
    result = command(installed["workdir"], installed["config"], "export", "pipelines", "--enable-all-filesets")

    assert result.returncode == 0, result.stderr[-3000:]
    exported = parse_dev_tools(result.stdout)
    loaded = put_bodies(installed["es"], "/_ingest/pipeline/")
    assert exported == loaded


def test_export_pipelines_to_a_folder(installed, tmp_path):
    result = command(installed["workdir"], installed["config"], "export", "pipelines", "--dir", str(tmp_path / "out"))

    assert result.returncode == 0, result.stderr[-3000:]
    names = sorted(p.stem for p in (tmp_path / "out" / "ingest_pipeline").glob("*.json"))
    assert len(names) == 2
    assert any(n.startswith("logs-ti_tibeat_latest.indicator-") for n in names)


# --- Kibana ---------------------------------------------------------------

def imported(kibana: KibanaStub) -> list:
    objects = []
    for req in kibana.requests("POST", "/api/saved_objects/_import"):
        assert req.query.get("overwrite") == "true"
        objects += import_objects(req)
    return objects


def lens_panels(dashboard: dict) -> list:
    return [p for p in json.loads(dashboard["attributes"]["panelsJSON"]) if p["type"] == "lens"]


def kql_fields(query: str) -> set:
    """Field names in a KQL query: the names before ':' and range operators."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', query)
    return set(re.findall(r"([A-Za-z@_][\w.@]*)\s*(?::|>=|<=|<|>)", text))


def fields_used(objects: list) -> set:
    used = set()
    for obj in objects:
        attrs = obj["attributes"]
        if obj["type"] == "index-pattern":
            used.add(attrs["timeFieldName"])
        if obj["type"] == "search":
            used |= set(attrs["columns"]) | {field for field, _ in attrs["sort"]}
            used |= kql_fields(json.loads(attrs["kibanaSavedObjectMeta"]["searchSourceJSON"])["query"]["query"])
        if obj["type"] == "dashboard":
            for panel in lens_panels(obj):
                state = panel["embeddableConfig"]["attributes"]["state"]
                used |= kql_fields(state["query"]["query"])
                for layer in state["datasourceStates"]["formBased"]["layers"].values():
                    for column in layer["columns"].values():
                        if column.get("sourceField") not in (None, "___records___"):
                            used.add(column["sourceField"])
                        used |= set(column.get("params", {}).get("secondaryFields", []))
                        if "filter" in column:
                            used |= kql_fields(column["filter"]["query"])
    return used


def test_dashboards_are_imported_as_ndjson(installed):
    kibana = installed["kibana"]
    requests = kibana.requests("POST", "/api/saved_objects/_import")

    assert requests
    assert all(r.content_type.startswith("multipart/form-data") for r in requests)
    objects = {(o["type"], o["id"]): o for o in imported(kibana)}
    dashboard = objects[("dashboard", DASHBOARD)]
    assert dashboard["attributes"]["title"] == "tibeat: threat intelligence overview"
    assert isinstance(dashboard["attributes"]["panelsJSON"], str), "Kibana expects panelsJSON as a JSON string"
    for obj in objects.values():
        meta = obj["attributes"].get("kibanaSavedObjectMeta")
        if meta is not None:
            assert isinstance(meta["searchSourceJSON"], str), f"{obj['id']}: searchSourceJSON must be a JSON string"
    data_view = objects[("index-pattern", "logs-ti_tibeat.*")]
    assert data_view["attributes"]["title"] == "logs-ti_tibeat.*"
    assert data_view["attributes"]["timeFieldName"] == "event.ingested"


def test_dashboard_has_the_panels(installed):
    objects = {(o["type"], o["id"]): o for o in imported(installed["kibana"])}
    dashboard = objects[("dashboard", DASHBOARD)]

    titles = {p["embeddableConfig"].get("title") for p in json.loads(dashboard["attributes"]["panelsJSON"])}
    for title in ("Indicators over time by type", "Indicators by feed", "Indicators by confidence",
                   "Indicators by TLP", "Top indicator values per type",
                   "Indicators expiring in the next 7 days", "Recently revoked indicators",
                   "Latest indicators", "Documents per input and feed", "Pipeline errors"):
        assert title in titles
    assert len(lens_panels(dashboard)) >= 9


def test_dashboard_fields_exist_in_the_mappings(installed):
    template = put_bodies(installed["es"], "/_index_template/")[TEMPLATE]
    fields = flatten_mapping(template["template"]["mappings"]["properties"])

    used = fields_used(imported(installed["kibana"]))

    assert used, "found no field in the saved objects"
    assert sorted(used - set(fields)) == []


def test_saved_object_references_resolve(installed):
    objects = imported(installed["kibana"])
    ids = {(o["type"], o["id"]) for o in objects}

    for obj in objects:
        for ref in obj.get("references", []):
            assert (ref["type"], ref["id"]) in ids, f"{obj['id']} refers to missing {ref}"
    dashboard = next(o for o in objects if o["type"] == "dashboard")
    names = {r["name"] for r in dashboard["references"]}
    for panel in json.loads(dashboard["attributes"]["panelsJSON"]):
        if "panelRefName" in panel:
            assert f"{panel['panelIndex']}:{panel['panelRefName']}" in names
        if panel["type"] == "lens":
            attrs = panel["embeddableConfig"]["attributes"]
            layers = attrs["state"]["datasourceStates"]["formBased"]["layers"]
            for layer in layers:
                ref = f"indexpattern-datasource-layer-{layer}"
                assert ref in {r["name"] for r in attrs["references"]}
                assert f"{panel['panelIndex']}:{ref}" in names
                assert all((r["type"], r["id"]) in ids for r in attrs["references"])


def test_export_dashboard_by_id(installed, tmp_path):
    result = command(installed["workdir"], installed["config"], "export", "dashboard",
                     "--id", DASHBOARD, "--folder", str(tmp_path))

    assert result.returncode == 0, result.stderr[-3000:]
    written = {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.json")}
    assert f"_meta/kibana/9/dashboard/{DASHBOARD}.json" in written
    assert "_meta/kibana/9/search/tibeat-latest-indicators.json" in written


# --- run ------------------------------------------------------------------

SAMPLE_INPUT = f"""
  - type: logfile
    id: unit42
    paths: ["{REPO}/_meta/sample/unit42-playbooks/*.json"]
    stix.feed.name: Unit 42 playbooks
"""


def bulk_items(es: ElasticsearchStub) -> list:
    """(action, metadata, source) of every bulk item tibeat sent."""
    items = []
    for req in es.requests("POST", "/_bulk"):
        lines = [json.loads(l) for l in req.body.split(b"\n") if l.strip()]
        i = 0
        while i < len(lines):
            (action, meta), = lines[i].items()
            source = lines[i + 1] if action != "delete" else None
            items.append((action, meta, source, req.query))
            i += 2 if action != "delete" else 1
    return items


def file_ids(tibeat) -> list:
    return [d["@metadata"]["_id"] for d in tibeat.documents()]


def test_run_creates_documents_in_the_data_stream(tibeat, stubs, tmp_path):
    es, _ = stubs
    config = write_config(tmp_path / "es.yml", stub_config(es, inputs=SAMPLE_INPUT))
    tibeat.write_config(f"tibeat.inputs:\n{SAMPLE_INPUT}\noutput.file.path: ${{path.data}}/output\n")
    tibeat.run_once()

    # Its own path.data: the file output's run above has its registry.
    result = command(tmp_path / "es", config, "run", "--once")

    assert result.returncode == 0, result.stderr[-3000:]
    items = bulk_items(es)
    assert items
    assert {action for action, *_ in items} == {"create"}
    assert {meta["_index"] for _, meta, _, _ in items} == {NAMESPACE_DATA_STREAM}
    assert sorted(meta["_id"] for _, meta, _, _ in items) == sorted(file_ids(tibeat))
    # No pipeline in the request: the template's default_pipeline applies.
    assert all("pipeline" not in meta and "pipeline" not in query for _, meta, _, query in items)
    template = es.state.templates[TEMPLATE]
    pipeline = template["template"]["settings"]["index"]["default_pipeline"]
    assert {d["pipeline"] for d in es.state.documents.values()} == {pipeline}
    for _, _, source, _ in items:
        assert source["data_stream"] == {"type": "logs", "dataset": "ti_tibeat.indicator", "namespace": "default"}
        assert source["event"]["dataset"] == "ti_tibeat.indicator"
    assert es.failures == []


def test_run_installs_before_the_first_bulk(stubs, tmp_path):
    es, _ = stubs
    config = write_config(tmp_path / "es.yml", stub_config(es, inputs=SAMPLE_INPUT))

    result = command(tmp_path, config, "run", "--once")

    assert result.returncode == 0, result.stderr[-3000:]
    order = [(r.method, r.path) for r in es.requests()]
    first_bulk = order.index(("POST", "/_bulk"))
    template = es.state.templates[TEMPLATE]
    pipeline = template["template"]["settings"]["index"]["default_pipeline"]
    assert order.index(("PUT", f"/_ingest/pipeline/{pipeline}")) < first_bulk
    assert order.index(("PUT", f"/_index_template/{TEMPLATE}")) < first_bulk
    assert TRANSFORM in es.state.transforms


def test_repeat_delivery_is_a_duplicate(stubs, tmp_path):
    es, _ = stubs
    config = write_config(tmp_path / "es.yml", stub_config(es, inputs=SAMPLE_INPUT))
    first = command(tmp_path / "first", config, "run", "--once")
    first_items = len(bulk_items(es))
    stored = len(es.state.documents)

    # A fresh registry reads the same files again.
    second = command(tmp_path / "second", config, "run", "--once")

    assert first.returncode == 0, first.stderr[-3000:]
    assert second.returncode == 0, second.stderr[-3000:]
    assert len(es.state.documents) == stored
    # Every item of the second run got a 409; a retry would send it again.
    assert len(bulk_items(es)) - first_items == first_items
    assert '"log.level":"error"' not in second.stderr


def test_namespace_setting_moves_documents(stubs, tmp_path):
    es, _ = stubs
    config = write_config(tmp_path / "es.yml", stub_config(
        es, inputs=SAMPLE_INPUT, extra="tibeat.data_stream.namespace: prod"))

    result = command(tmp_path, config, "run", "--once")

    assert result.returncode == 0, result.stderr[-3000:]
    assert {meta["_index"] for _, meta, _, _ in bulk_items(es)} == {"logs-ti_tibeat.indicator-prod"}
    assert {s["data_stream"]["namespace"] for _, _, s, _ in bulk_items(es)} == {"prod"}


def test_input_can_set_its_own_namespace(stubs, tmp_path):
    es, _ = stubs
    inputs = SAMPLE_INPUT + """    fields:
      data_stream.namespace: team_a
    fields_under_root: true
"""
    config = write_config(tmp_path / "es.yml", stub_config(es, inputs=inputs))

    result = command(tmp_path, config, "run", "--once")

    assert result.returncode == 0, result.stderr[-3000:]
    assert {meta["_index"] for _, meta, _, _ in bulk_items(es)} == {"logs-ti_tibeat.indicator-team_a"}
    assert {s["data_stream"]["type"] for _, _, s, _ in bulk_items(es)} == {"logs"}


def test_invalid_namespace_is_rejected(stubs, tmp_path):
    es, _ = stubs
    config = write_config(tmp_path / "es.yml", stub_config(
        es, inputs=SAMPLE_INPUT, extra="tibeat.data_stream.namespace: Prod-1"))

    result = command(tmp_path, config, "run", "--once")

    assert result.returncode != 0
    assert "tibeat.data_stream.namespace" in result.stderr
    assert es.requests("POST", "/_bulk") == []


# --- active indicators ----------------------------------------------------

def stamp(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def indicator(now: datetime, letter: str, modified_days_ago: int, **extra) -> dict:
    created = now - timedelta(days=200)
    obj = {
        "type": "indicator", "spec_version": "2.1",
        "id": f"indicator--{letter * 8}-0000-4000-8000-000000000000",
        "created": stamp(created), "modified": stamp(now - timedelta(days=modified_days_ago)),
        "valid_from": stamp(created), "pattern_type": "stix",
        "pattern": f"[domain-name:value = '{letter}{modified_days_ago}.example.com']",
    }
    obj.update(extra)
    return obj


def versions_bundle(now: datetime) -> dict:
    """A newer version (a), a revocation with a valid_until still ahead (b), an
    expired indicator (c), an active one (d), a revocation without
    valid_until (e), and an object that is not an indicator. Newer versions
    come first, so the file order cannot decide which version wins."""
    return {"type": "bundle", "id": "bundle--11111111-1111-4111-8111-111111111111", "objects": [
        indicator(now, "a", 5),
        indicator(now, "a", 10),
        indicator(now, "b", 3, revoked=True, valid_until=stamp(now + timedelta(days=30))),
        indicator(now, "b", 10),
        indicator(now, "c", 100, valid_until=stamp(now - timedelta(days=1))),
        indicator(now, "d", 1),
        indicator(now, "e", 2, revoked=True),
        indicator(now, "e", 20),
        {"type": "malware", "spec_version": "2.1", "id": "malware--22222222-2222-4222-8222-222222222222",
         "created": stamp(now), "modified": stamp(now), "name": "Example", "is_family": True},
    ]}


def lookup(doc: dict, path: str):
    return get(doc, path)


def painless_condition(expr: str):
    """Turns the small painless subset LatestPipeline uses (null-safe field
    access, ==, !=, &&, literals) into a Python predicate over a document."""
    py = expr.replace("&&", " and ").replace("||", " or ")
    py = re.sub(r"ctx\.([\w?.]+)", lambda m: f"lookup(doc, {m.group(1).replace('?', '')!r})", py)
    py = py.replace("null", "None").replace("true", "True").replace("false", "False")
    return lambda doc: eval(py, {"lookup": lookup, "doc": doc})


def run_latest_pipeline(pipeline: dict, doc: dict) -> dict:
    doc = json.loads(json.dumps(doc))
    for name, spec in processors_of({"processors": pipeline["processors"]}):
        assert name == "set", f"the model runs set processors only, not {name}"
        if "if" in spec and not painless_condition(spec["if"])(doc):
            continue
        value = lookup(doc, spec["copy_from"]) if "copy_from" in spec else spec["value"]
        *parents, leaf = spec["field"].split(".")
        node = doc
        for p in parents:
            node = node.setdefault(p, {})
        node[leaf] = value
    return doc


def matches(doc: dict, query: dict) -> bool:
    for clause in query["bool"]["filter"]:
        (kind, spec), = clause.items()
        if kind == "term":
            (field, value), = spec.items()
            found = lookup(doc, field)
            # A term query matches any value of a multi-valued field.
            if found != value and not (isinstance(found, list) and value in found):
                return False
        elif kind == "exists":
            if lookup(doc, spec["field"]) is None:
                return False
        else:
            raise AssertionError(f"the model does not run {kind} queries")
    return True


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def seconds(duration: str) -> int:
    number, unit = re.fullmatch(r"(\d+)([smhd])", duration).groups()
    return int(number) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[unit]


def sort_value(doc: dict, field: str) -> tuple:
    """A date_nanos sort key with nanosecond precision, which datetime lacks.
    A document without the field sorts last, as Elasticsearch sorts missing
    values by default."""
    text = lookup(doc, field)
    if text is None:
        return (0, "")
    match = re.fullmatch(r"(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?Z", text)
    assert match, f"{field} {text!r} is not a UTC date_nanos value"
    seconds = parse_time(match.group(1) + "Z")
    return (1, seconds.isoformat(), (match.group(2) or "").ljust(9, "0"))


def simulate_transform(es: ElasticsearchStub, now: datetime) -> dict:
    """What the latest transform, as setup configured it, leaves in its
    destination: for each unique key the source document with the greatest
    sort value, written through the destination pipeline, minus those the
    retention policy deletes. A model of Elasticsearch, not Elasticsearch."""
    transform = es.state.transforms[TRANSFORM]
    pipeline = es.state.pipelines[transform["dest"]["pipeline"]]
    key_fields, sort = transform["latest"]["unique_key"], transform["latest"]["sort"]
    latest = {}
    for (index, _), stored in es.state.documents.items():
        if not any(fnmatch.fnmatchcase(index, p) for p in transform["source"]["index"]):
            continue
        doc = stored["source"]
        if not matches(doc, transform["source"]["query"]):
            continue
        key = tuple(lookup(doc, f) for f in key_fields)
        if key not in latest or sort_value(doc, sort) > sort_value(latest[key], sort):
            latest[key] = doc
    retention = transform["retention_policy"]["time"]
    cutoff = now - timedelta(seconds=seconds(retention["max_age"]))
    active = {}
    for key, doc in latest.items():
        written = run_latest_pipeline(pipeline, doc)
        expires = lookup(written, retention["field"])
        if expires is not None and parse_time(expires) < cutoff:
            continue
        active[key[0]] = written
    return active


def test_active_indicators_keep_newest_active_version(stubs, tmp_path):
    es, _ = stubs
    now = datetime.now(timezone.utc)
    bundle = versions_bundle(now)
    (tmp_path / "bundle.json").write_text(json.dumps(bundle))
    inputs = f"""
  - type: logfile
    id: versions
    paths: ["{tmp_path}/bundle.json"]
"""
    config = write_config(tmp_path / "es.yml", stub_config(es, inputs=inputs))

    result = command(tmp_path, config, "run", "--once")

    assert result.returncode == 0, result.stderr[-3000:]
    assert len(es.state.documents) == len(bundle["objects"])
    active = simulate_transform(es, now + timedelta(minutes=2))
    by_letter = {k.split("--")[1][0]: v for k, v in active.items()}
    assert sorted(by_letter) == ["a", "d"]
    assert by_letter["a"]["stix"]["modified"] == stamp(now - timedelta(days=5))
    revoked = next(s["source"] for s in es.state.documents.values()
                   if s["source"]["stix"].get("revoked") and s["source"]["stix"]["id"].startswith("indicator--bbbb"))
    assert parse_time(revoked["stix"]["ioc_expiration_date"]) > now, \
        "b's expiration date lies ahead, so only the destination pipeline removes it"


def context_objects(now: datetime, indicator_id: str) -> list:
    """A malware object and the relationship saying the indicator indicates it."""
    malware_id = "malware--33333333-3333-4333-8333-333333333333"
    return [
        {"type": "malware", "spec_version": "2.1", "id": malware_id, "created": stamp(now),
         "modified": stamp(now), "name": "Emotet", "is_family": True},
        {"type": "relationship", "spec_version": "2.1", "id": "relationship--44444444-4444-4444-8444-444444444444",
         "created": stamp(now), "modified": stamp(now), "relationship_type": "indicates",
         "source_ref": indicator_id, "target_ref": malware_id},
    ]


def write_ndjson(path: Path, objects: list):
    path.write_text("".join(json.dumps(o) + "\n" for o in objects))


def test_late_context_reaches_active_indicators(stubs, tmp_path):
    es, _ = stubs
    now = datetime.now(timezone.utc)
    feed = tmp_path / "feed"
    feed.mkdir()
    newer = indicator(now, "f", 1)
    inputs = f"""
  - type: logfile
    id: late-context
    paths: ["{feed}/*.ndjson"]
"""
    config = write_config(tmp_path / "es.yml", stub_config(es, inputs=inputs))
    workdir = tmp_path / "run"

    write_ndjson(feed / "a-indicator.ndjson", [newer])
    first = command(workdir, config, "run", "--once")
    write_ndjson(feed / "b-context.ndjson", context_objects(now, newer["id"]))
    second = command(workdir, config, "run", "--once")

    assert first.returncode == 0, first.stderr[-3000:]
    assert second.returncode == 0, second.stderr[-3000:]
    assert es.failures == []
    copies = [s["source"] for s in es.state.documents.values() if s["source"]["stix"]["id"] == newer["id"]]
    assert len(copies) == 2, "the data stream must keep the enriched copy next to the first one"
    active = simulate_transform(es, now + timedelta(minutes=2))[newer["id"]]
    assert get(active, "threat.software.name") == ["Emotet"]
    assert get(active, "log.file.path") == str(feed / "a-indicator.ndjson")

    # An older version that arrives later must not replace the newer one.
    older = indicator(now, "f", 10)
    write_ndjson(feed / "c-older.ndjson", [older])
    third = command(workdir, config, "run", "--once")

    assert third.returncode == 0, third.stderr[-3000:]
    active = simulate_transform(es, now + timedelta(minutes=2))[newer["id"]]
    assert get(active, "stix.modified") == newer["modified"]
    assert get(active, "threat.software.name") == ["Emotet"]

    # Without its registry, tibeat reads every file again: each copy it
    # sends must be one the data stream already holds.
    stored = len(es.state.documents)
    shutil.rmtree(workdir / "data" / "registry")
    fourth = command(workdir, config, "run", "--once")

    assert fourth.returncode == 0, fourth.stderr[-3000:]
    assert len(es.state.documents) == stored, "a repeat delivery created new documents"


# --- feed presets ---------------------------------------------------------

def modules_dir(tmp_path: Path) -> Path:
    target = tmp_path / "modules.d"
    shutil.copytree(REPO / "modules.d", target)
    return target


def modules(tmp_path: Path, config: Path, *args: str) -> subprocess.CompletedProcess:
    return command(tmp_path, config, "modules", *args,
                   "-E", f"tibeat.config.modules.path={tmp_path}/modules.d/*.yml")


def test_modules_list_enable_disable(tmp_path):
    modules_dir(tmp_path)
    config = write_config(tmp_path / "tibeat.yml", "tibeat.inputs: []\noutput.file.path: ${path.data}/output\n")

    listed = modules(tmp_path, config, "list")
    enabled = modules(tmp_path, config, "enable", "folder")
    after = modules(tmp_path, config, "list")
    disabled = modules(tmp_path, config, "disable", "folder")

    assert listed.returncode == 0, listed.stderr[-2000:]
    assert listed.stdout.split("Disabled:")[1].split() == ["folder", "isac", "mitre_attack", "taxii"]
    assert enabled.returncode == 0, enabled.stderr[-2000:]
    assert "Enabled folder" in enabled.stdout
    assert after.stdout.split("Disabled:")[0].split()[1:] == ["folder"]
    assert disabled.returncode == 0
    assert (tmp_path / "modules.d" / "folder.yml.disabled").exists()


def test_enabled_folder_preset_runs_its_input(tibeat, tmp_path):
    drop = tmp_path / "drop"
    drop.mkdir()
    shutil.copy(sorted((REPO / "_meta/sample/unit42-playbooks").glob("*.json"))[0], drop / "bundle.json")
    (tmp_path / "modules.d").mkdir()
    (tmp_path / "modules.d" / "folder.yml").write_text(f"""
- module: folder
  drop:
    var.paths: ["{drop}/*"]
    var.feed_name: Offline feed
""")
    tibeat.write_config(f"""
tibeat.inputs: []
tibeat.config.modules.path: {tmp_path}/modules.d/*.yml
output.file.path: ${{path.data}}/output
""")

    proc = tibeat.run_once()

    assert proc.returncode == 0, proc.stderr[-3000:]
    docs = tibeat.documents()
    objects = json.loads((drop / "bundle.json").read_text())["objects"]
    assert {(get(d, "stix.id"), get(d, "stix.modified")) for d in docs} == \
        {(o["id"], o.get("modified")) for o in objects}
    assert {get(d, "event.module") for d in docs} == {"folder"}
    assert {get(d, "threat.feed.name") for d in docs} == {"Offline feed"}


def test_preset_without_required_variable_fails(tibeat, tmp_path):
    (tmp_path / "modules.d").mkdir()
    (tmp_path / "modules.d" / "mitre_attack.yml").write_text("- module: mitre_attack\n")
    tibeat.write_config(f"""
tibeat.inputs: []
tibeat.config.modules.path: {tmp_path}/modules.d/*.yml
output.file.path: ${{path.data}}/output
""")

    proc = tibeat.run_once()

    assert proc.returncode != 0
    assert "missing var.url" in proc.stderr
    assert "https://attack-taxii.mitre.org/taxii2/" in proc.stderr


def test_setup_pipelines_loads_enabled_presets_only(stubs, tmp_path):
    es, _ = stubs
    (tmp_path / "modules.d").mkdir()
    # The URL is never contacted: setup only loads pipelines.
    (tmp_path / "modules.d" / "mitre_attack.yml").write_text(
        "- module: mitre_attack\n  attack:\n    var.url: http://127.0.0.1:9/taxii2/\n")
    config = write_config(tmp_path / "tibeat.yml", stub_config(
        es, extra=f"tibeat.config.modules.path: {tmp_path}/modules.d/*.yml"))

    result = command(tmp_path, config, "setup", "--pipelines")

    assert result.returncode == 0, result.stderr[-3000:]
    names = set(put_bodies(es, "/_ingest/pipeline/"))
    assert any(n.endswith("-mitre_attack") for n in names)
    assert not any(n.endswith("-isac") for n in names)
    default = [n for n in names if re.fullmatch(r"logs-ti_tibeat\.indicator-[\d.]+", n)]
    assert len(default) == 1
    call = [spec for p, spec in processors_of(es.state.pipelines[default[0]]) if p == "pipeline"]
    assert any(spec["name"] == default[0] + "-{{{event.module}}}" for spec in call), \
        "the default pipeline must hand preset documents to the preset's pipeline"
