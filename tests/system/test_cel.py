"""The cel input against a local STIX API: paging, the stored cursor, and
documents identical to those of the logfile input."""

import json
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from conftest import CASES, file_output_config, get

BUNDLE = CASES / "B17" / "bundle.json"
COLLECTION = "/taxii2/api1/collections/4f6a3c2e-7d8b-4e1f-9a0b-1c2d3e4f5a6b/objects/"

# A TAXII 2.1 walk written for Filebeat's CEL input: two objects a page,
# next while the server reports more, and the cursor from the
# X-TAXII-Date-Added-Last header.
PROGRAM = r"""
(has(state.next) ? state.added_after : state.?cursor.?last.orValue(
    (now() - duration(state.initial_interval)).format(time_layout.RFC3339))).as(after,
  request("GET", state.url + "?" + {"added_after": [after], "limit": ["2"]}
      .with(has(state.next) ? {"next": [state.next]} : {}).format_query())
    .with({"Header": {"Accept": ["application/taxii+json;version=2.1"]}})
    .do_request().as(resp, resp.StatusCode != 200 ?
      state.with({"events": {"error": {"message": "HTTP " + string(resp.StatusCode)}}, "want_more": false})
    :
      bytes(resp.Body).decode_json().as(body, {
        "url": state.url,
        "initial_interval": state.initial_interval,
        "events": body.?objects.orValue([]),
        ?"cursor": resp.Header[?"X-Taxii-Date-Added-Last"].orValue([]).size() > 0 ?
          optional.of({"last": resp.Header["X-Taxii-Date-Added-Last"][0]})
        :
          state.?cursor,
        ?"next": body.?more.orValue(false) ? optional.of(body.next) : optional.none(),
        ?"added_after": body.?more.orValue(false) ? optional.of(after) : optional.none(),
        "want_more": body.?more.orValue(false),
      })
  )
)
"""


class StixAPI:
    """A TAXII 2.1 objects endpoint on 127.0.0.1 that serves a list of
    objects two at a time and records every request."""

    def __init__(self, objects):
        self.objects = objects
        self.date_added_last = "2026-04-07T09:00:00.000000Z"
        self.requests = []
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                url = urllib.parse.urlsplit(self.path)
                query = urllib.parse.parse_qs(url.query)
                api.requests.append({"path": url.path, "query": query,
                                     "accept": self.headers.get("Accept")})
                if url.path != COLLECTION:
                    self.send_error(404)
                    return
                start = int(query.get("next", ["0"])[0])
                limit = int(query.get("limit", ["100"])[0])
                page = api.objects[start:start + limit]
                body = {"more": start + limit < len(api.objects)}
                if body["more"]:
                    body["next"] = str(start + limit)
                if page:
                    body["objects"] = page
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/taxii+json;version=2.1")
                self.send_header("X-TAXII-Date-Added-Last", api.date_added_last)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}{COLLECTION}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def take_requests(self):
        requests, self.requests = self.requests, []
        return requests


def cel_input(url: str, input_id: str = "cel-stix") -> str:
    program = "\n".join("      " + line for line in PROGRAM.strip().splitlines())
    return f"""
  - type: cel
    id: {input_id}
    interval: 1h
    resource.url: {url}
    resource.retry.max_attempts: 1
    state:
      initial_interval: 720h
    redact.fields: []
    program: |
{program}
"""


@pytest.fixture
def bundle_objects():
    return json.loads(BUNDLE.read_text())["objects"]


def test_cel_pages_through_api_and_keeps_cursor(tibeat, bundle_objects):
    with StixAPI(bundle_objects) as api:
        tibeat.write_config(file_output_config(cel_input(api.url)))

        first = tibeat.run_once(timeout=120)
        assert first.returncode == 0, first.stderr[-3000:]
        docs = tibeat.documents()
        assert sorted(d["stix"]["id"] for d in docs) == sorted(o["id"] for o in bundle_objects)
        assert all(d["input"]["type"] == "cel" for d in docs)
        assert all(d["url"]["original"] == api.url for d in docs)
        requests = api.take_requests()
        assert [r["query"].get("next") for r in requests] == [None, ["2"], ["4"], ["6"], ["8"]]
        assert all(r["query"]["limit"] == ["2"] for r in requests)
        assert len({r["query"]["added_after"][0] for r in requests}) == 1, "every page repeats added_after"
        assert all(r["accept"] == "application/taxii+json;version=2.1" for r in requests)

        # Nothing new, but the server's date moves on: the new cursor is
        # stored although no document carries it.
        api.objects = []
        api.date_added_last = "2026-04-08T10:00:00.000000Z"
        second = tibeat.run_once(timeout=120)
        assert second.returncode == 0, second.stderr[-3000:]
        assert len(tibeat.documents()) == len(bundle_objects)
        requests = api.take_requests()
        assert [r["query"]["added_after"] for r in requests] == [["2026-04-07T09:00:00.000000Z"]]

        third = tibeat.run_once(timeout=120)
        assert third.returncode == 0, third.stderr[-3000:]
        requests = api.take_requests()
        assert [r["query"]["added_after"] for r in requests] == [["2026-04-08T10:00:00.000000Z"]]


# Fields that tell the two inputs apart or that the Beat sets per run.
DIFFERING = ("input", "log", "url", "@metadata", "agent", "host")


def comparable(doc: dict) -> dict:
    return {k: v for k, v in doc.items() if k not in DIFFERING}


def test_cel_and_logfile_give_the_same_documents(tibeat, bundle_objects):
    with StixAPI(bundle_objects) as api:
        tibeat.write_config(file_output_config(cel_input(api.url) + f"""
  - type: logfile
    id: logfile-stix
    paths: ["{BUNDLE}"]
"""))
        proc = tibeat.run_once(timeout=120)
        assert proc.returncode == 0, proc.stderr[-3000:]

    by_input = {"cel": {}, "logfile": {}}
    for doc in tibeat.documents():
        by_input[get(doc, "input.type")][doc["stix"]["id"]] = doc
    assert len(by_input["cel"]) == len(bundle_objects)
    assert by_input["cel"].keys() == by_input["logfile"].keys()
    for stix_id, cel_doc in by_input["cel"].items():
        logfile_doc = by_input["logfile"][stix_id]
        assert comparable(cel_doc) == comparable(logfile_doc), stix_id
        assert cel_doc["@metadata"].get("_id") == logfile_doc["@metadata"].get("_id"), stix_id


def test_cel_error_document(tibeat, bundle_objects):
    with StixAPI(bundle_objects) as api:
        tibeat.write_config(file_output_config(cel_input(api.url.replace(COLLECTION, "/missing/"))))
        proc = tibeat.run_once(timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    docs = tibeat.documents()
    assert len(docs) == 1
    assert docs[0]["event"]["kind"] == "pipeline_error"
    assert docs[0]["error"]["message"] == "HTTP 404"
    assert "threat" not in docs[0] and "stix" not in docs[0]
    errors = [line for line in tibeat.log_lines() if line.get("log.level") == "error"]
    assert any("HTTP 404" in json.dumps(line) for line in errors)


def test_cel_bad_program_fails_at_start(tibeat):
    tibeat.write_config(file_output_config("""
  - type: cel
    id: broken
    resource.url: http://127.0.0.1:9/feed
    program: |
      {"events": state.url.no_such_function()}
"""))
    proc = tibeat.run_once(timeout=60)
    assert proc.returncode != 0
    assert "no_such_function" in proc.stderr
    assert "<input>:1:" in proc.stderr
