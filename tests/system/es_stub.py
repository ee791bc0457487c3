"""A stand-in for the Elasticsearch and Kibana APIs tibeat's setup and run use.

Neither product can be installed on the machines this project is built on, so
the system tests start this HTTP server on 127.0.0.1 instead. It records every
request and models the parts of each API that tibeat depends on:

- Elasticsearch 9.3.0: `/`, `/_license`, `_index_template` (with a built-in
  `logs` template of priority 100 for `logs-*-*`, as Elasticsearch has),
  `_ilm/policy`, `_ingest/pipeline`, `_data_stream`, index and alias
  creation, `_transform`, and `_bulk`. Create requests are rejected, as
  Elasticsearch rejects them, when their body has a field the API does not
  know or lacks a required one. Bulk items are checked the way a data
  stream checks them: only `create` is accepted, a repeated `_id` gets 409,
  the data_stream fields must match the data stream's name, and the
  pipeline that would run (the request's or the template's
  index.default_pipeline) must exist. Pipelines are stored, not run.
- Kibana 9.3.0: `/api/status`, `/api/saved_objects/_import` (multipart, one
  NDJSON file) and `/api/saved_objects/_export`.

Where the real products behave in ways this model leaves out, tests that
pass here may still fail against them; the README lists what was verified
only against this stand-in.
"""

import email.parser
import fnmatch
import gzip
import json
import traceback
import threading
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

VERSION = "9.3.0"


@dataclass
class Request:
    method: str
    path: str
    query: dict
    body: bytes
    content_type: str = ""
    status: int = 0  # the stand-in's response status

    def json(self):
        return json.loads(self.body) if self.body else None


@dataclass
class ElasticsearchState:
    templates: dict = field(default_factory=lambda: {
        "logs": {"index_patterns": ["logs-*-*"], "priority": 100, "data_stream": {},
                 "template": {"settings": {}}},
    })
    policies: dict = field(default_factory=dict)
    pipelines: dict = field(default_factory=dict)
    data_streams: set = field(default_factory=set)
    indices: dict = field(default_factory=dict)  # name -> set of aliases
    transforms: dict = field(default_factory=dict)
    started: set = field(default_factory=set)
    # (index, _id) -> {"source": ..., "pipeline": ...}
    documents: dict = field(default_factory=dict)

    def matching_template(self, name: str):
        """The template Elasticsearch would apply: the highest priority match."""
        best = None
        for tname, body in self.templates.items():
            if any(fnmatch.fnmatchcase(name, p) for p in body.get("index_patterns", [])):
                if best is None or body.get("priority", 0) > best[1].get("priority", 0):
                    best = (tname, body)
        return best


@dataclass
class KibanaState:
    objects: dict = field(default_factory=dict)  # (type, id) -> object


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    stub = None  # set on the per-server subclass

    def log_message(self, fmt, *args):  # keep pytest output clean
        pass

    def _handle(self):
        parsed = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(parsed.query, keep_blank_values=True))
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        req = Request(self.command, urllib.parse.unquote(parsed.path), query, body,
                      self.headers.get("Content-Type", ""))
        with self.stub.lock:
            self.stub.recorded.append(req)
            try:
                status, payload = self.stub.route(req)
            except Exception:  # a bug in the stand-in: report it to the client
                self.stub.failures.append(traceback.format_exc())
                status, payload = _error(500, "stub_failure", traceback.format_exc())
            req.status = status
        if payload is None:
            data = b""
        elif isinstance(payload, bytes):
            data = payload
        else:
            data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("X-Elastic-Product", "Elasticsearch")
        self.send_header("Content-Length", str(0 if self.command == "HEAD" else len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _handle


def _error(status: int, kind: str, reason: str):
    return status, {"error": {"type": kind, "reason": reason}, "status": status}


# The top-level fields each create API accepts; Elasticsearch rejects a body
# with any other field (x_content_parse_exception, "unknown field").
ALLOWED_FIELDS = {
    "index template": {"index_patterns", "template", "composed_of", "priority", "version", "_meta",
                       "data_stream", "allow_auto_create", "ignore_missing_component_templates", "deprecated"},
    "ilm policy": {"policy"},
    "pipeline": {"description", "processors", "on_failure", "version", "_meta", "deprecated"},
    "transform": {"source", "dest", "pivot", "latest", "description", "frequency", "sync",
                  "retention_policy", "settings", "_meta"},
    "index": {"aliases", "mappings", "settings"},
}


def invalid_body(api: str, body) -> str:
    """Returns why Elasticsearch would reject body for the API named api, or ""."""
    if not isinstance(body, dict):
        return f"{api}: the request body must be a JSON object"
    unknown = set(body) - ALLOWED_FIELDS[api]
    if unknown:
        return f"{api}: unknown field {sorted(unknown)}"
    if api == "index template" and not isinstance(body.get("index_patterns"), list):
        return "index template: index_patterns must be a list"
    if api == "ilm policy":
        phases = body.get("policy", {}).get("phases", {})
        if not phases or set(phases) - {"hot", "warm", "cold", "frozen", "delete"}:
            return f"ilm policy: invalid phases {sorted(phases)}"
    if api == "pipeline":
        for group in ("processors", "on_failure"):
            for processor in body.get(group, []):
                if not isinstance(processor, dict) or len(processor) != 1:
                    return f"pipeline: each of {group} must be an object with one processor"
    if api == "transform":
        if not body.get("source", {}).get("index") or not body.get("dest", {}).get("index"):
            return "transform: source.index and dest.index are required"
        if ("pivot" in body) == ("latest" in body):
            return "transform: exactly one of pivot and latest is required"
        if "latest" in body and not (body["latest"].get("unique_key") and body["latest"].get("sort")):
            return "transform: latest requires unique_key and sort"
    return ""


class _Stub:
    def __init__(self):
        self.lock = threading.Lock()
        self.recorded = []
        # Tracebacks of requests the stand-in could not handle; tests assert
        # this stays empty.
        self.failures = []
        handler = type("Handler", (_Handler,), {"stub": self})
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address
        return f"http://{host}:{port}"

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def requests(self, method=None, prefix=None) -> list:
        with self.lock:
            return [r for r in self.recorded
                    if (method is None or r.method == method)
                    and (prefix is None or r.path.startswith(prefix))]


class ElasticsearchStub(_Stub):
    def __init__(self):
        super().__init__()
        self.state = ElasticsearchState()

    def route(self, req: Request):
        parts = [p for p in req.path.split("/") if p]
        s = self.state
        if not parts:
            return 200, {"name": "stub", "cluster_name": "stub", "cluster_uuid": "stub-cluster-uuid",
                         "version": {"number": VERSION, "build_flavor": "default"},
                         "tagline": "You Know, for Search"}
        head = parts[0]
        if head == "_license":
            return 200, {"license": {"uid": "stub", "type": "basic", "status": "active"}}
        if head == "_index_template" and len(parts) == 2:
            return self._template(req, parts[1])
        if head == "_ilm" and len(parts) == 3 and parts[1] == "policy":
            return self._resource(req, s.policies, parts[2], "ilm policy")
        if head == "_ingest" and len(parts) == 3 and parts[1] == "pipeline":
            return self._resource(req, s.pipelines, parts[2], "pipeline")
        if head == "_data_stream" and len(parts) == 2:
            return self._data_stream(req, parts[1])
        if head == "_transform" and len(parts) >= 2:
            return self._transform(req, parts[1], parts[2] if len(parts) > 2 else None)
        if head == "_bulk" or (len(parts) == 2 and parts[1] == "_bulk"):
            return self._bulk(req, parts[0] if len(parts) == 2 else None)
        if not head.startswith("_") and len(parts) == 1:
            return self._index(req, head)
        if not head.startswith("_") and len(parts) == 3 and parts[1] == "_alias":
            if head not in s.indices:
                return _error(404, "index_not_found_exception", f"no such index [{head}]")
            s.indices[head].add(parts[2])
            return 200, {"acknowledged": True}
        return _error(404, "stub_unknown_endpoint", f"{req.method} {req.path} is not modelled")

    def _resource(self, req, store, name, api):
        if req.method in ("GET", "HEAD"):
            if name not in store:
                return 404, {}
            return 200, {name: store[name]}
        if req.method == "PUT":
            problem = invalid_body(api, req.json())
            if problem:
                return _error(400, "x_content_parse_exception", problem)
            store[name] = req.json()
            return 200, {"acknowledged": True}
        if req.method == "DELETE":
            store.pop(name, None)
            return 200, {"acknowledged": True}
        return _error(405, "method_not_allowed", f"{req.method} on {api}")

    def _template(self, req, name):
        s = self.state
        if req.method in ("GET", "HEAD"):
            if name not in s.templates:
                return 404, {}
            return 200, {"index_templates": [{"name": name, "index_template": s.templates[name]}]}
        if req.method == "PUT":
            body = req.json()
            problem = invalid_body("index template", body)
            if problem:
                return _error(400, "x_content_parse_exception", problem)
            for other, existing in s.templates.items():
                if other == name or existing.get("priority", 0) != body.get("priority", 0):
                    continue
                if set(existing.get("index_patterns", [])) & set(body.get("index_patterns", [])):
                    return _error(400, "illegal_argument_exception",
                                  f"index template [{name}] has index patterns matching template [{other}] with the same priority")
            s.templates[name] = body
            return 200, {"acknowledged": True}
        return _error(405, "method_not_allowed", req.method)

    def _data_stream(self, req, name):
        s = self.state
        if req.method == "GET":
            if name not in s.data_streams:
                return _error(404, "index_not_found_exception", f"no such index [{name}]")
            return 200, {"data_streams": [{"name": name}]}
        if req.method == "PUT":
            match = s.matching_template(name)
            if match is None or "data_stream" not in match[1]:
                return _error(400, "illegal_argument_exception",
                              f"no matching index template found for data stream [{name}]")
            s.data_streams.add(name)
            return 200, {"acknowledged": True}
        return _error(405, "method_not_allowed", req.method)

    def _index(self, req, name):
        s = self.state
        if req.method == "HEAD":
            return (200 if name in s.indices or name in s.data_streams else 404), None
        if req.method == "PUT":
            if name in s.indices:
                return _error(400, "resource_already_exists_exception", f"index [{name}] already exists")
            match = s.matching_template(name)
            if match is not None and "data_stream" in match[1]:
                return _error(400, "illegal_argument_exception",
                              f"cannot create index with name [{name}], because it matches with template [{match[0]}] that creates data streams only")
            problem = invalid_body("index", req.json() or {})
            if problem:
                return _error(400, "x_content_parse_exception", problem)
            s.indices[name] = set((req.json() or {}).get("aliases", {}))
            return 200, {"acknowledged": True, "index": name}
        return _error(405, "method_not_allowed", req.method)

    def _transform(self, req, tid, action):
        s = self.state
        if action is None:
            if req.method == "GET":
                if tid not in s.transforms:
                    return _error(404, "resource_not_found_exception", f"Transform with id [{tid}] could not be found")
                return 200, {"count": 1, "transforms": [dict(s.transforms[tid], id=tid)]}
            if req.method == "PUT":
                if tid in s.transforms:
                    return _error(409, "resource_already_exists_exception", f"Transform with id [{tid}] already exists")
                problem = invalid_body("transform", req.json())
                if problem:
                    return _error(400, "x_content_parse_exception", problem)
                s.transforms[tid] = req.json()
                return 200, {"acknowledged": True}
            if req.method == "DELETE":
                if tid in s.started:
                    return _error(409, "status_exception", "Cannot delete transform while it is started")
                s.transforms.pop(tid, None)
                return 200, {"acknowledged": True}
        if action in ("_start", "_stop") and req.method == "POST":
            if tid not in s.transforms:
                return _error(404, "resource_not_found_exception", f"Transform with id [{tid}] could not be found")
            if action == "_start":
                if tid in s.started:
                    return _error(409, "status_exception", f"Cannot start transform [{tid}] as it is already started")
                s.started.add(tid)
            else:
                s.started.discard(tid)
            return 200, {"acknowledged": True}
        return _error(405, "method_not_allowed", f"{req.method} {req.path}")

    def _bulk(self, req, default_index):
        lines = [l for l in req.body.split(b"\n") if l.strip()]
        items, errors, i = [], False, 0
        while i < len(lines):
            action = json.loads(lines[i])
            (op, meta), = action.items()
            i += 1
            source = None
            if op != "delete":
                source = json.loads(lines[i])
                i += 1
            status, error = self._bulk_item(op, meta, source, default_index, req.query.get("pipeline"))
            item = {"_index": meta.get("_index", default_index), "_id": meta.get("_id"), "status": status}
            if error:
                item["error"] = error
                errors = True
            items.append({op: item})
        return 200, {"took": 1, "errors": errors, "items": items}

    def _bulk_item(self, op, meta, source, default_index, request_pipeline):
        s = self.state
        index = meta.get("_index", default_index)
        match = s.matching_template(index)
        is_stream = match is not None and "data_stream" in match[1]
        if is_stream and op != "create":
            return 400, {"type": "illegal_argument_exception",
                         "reason": "only write ops with an op_type of create are allowed in data streams"}
        pipeline = meta.get("pipeline") or request_pipeline
        if not pipeline and match is not None:
            pipeline = match[1].get("template", {}).get("settings", {}).get("index", {}).get("default_pipeline")
        if pipeline and pipeline not in s.pipelines:
            return 400, {"type": "illegal_argument_exception", "reason": f"pipeline with id [{pipeline}] does not exist"}
        if is_stream:
            ds = source.get("data_stream", {})
            if ds and f"{ds.get('type')}-{ds.get('dataset')}-{ds.get('namespace')}" != index:
                return 400, {"type": "document_parsing_exception",
                             "reason": f"data_stream fields {ds} do not match data stream [{index}]"}
            s.data_streams.add(index)
        key = (index, meta.get("_id"))
        if op == "create" and meta.get("_id") is not None and key in s.documents:
            return 409, {"type": "version_conflict_engine_exception",
                         "reason": f"[{meta.get('_id')}]: version conflict, document already exists"}
        s.documents[key] = {"source": source, "pipeline": pipeline}
        return 201, None


class KibanaStub(_Stub):
    def __init__(self):
        super().__init__()
        self.state = KibanaState()

    def route(self, req: Request):
        if req.path == "/api/status":
            return 200, {"name": "stub", "version": {"number": VERSION, "build_flavor": "traditional",
                                                     "build_snapshot": False},
                         "status": {"overall": {"level": "available"}}}
        if req.path == "/api/saved_objects/_import" and req.method == "POST":
            return self._import(req)
        if req.path == "/api/saved_objects/_export" and req.method == "POST":
            return self._export(req)
        return _error(404, "stub_unknown_endpoint", f"{req.method} {req.path} is not modelled")

    def _import(self, req):
        results = []
        for obj in import_objects(req):
            self.state.objects[(obj["type"], obj["id"])] = obj
            results.append({"type": obj["type"], "id": obj["id"]})
        return 200, {"success": True, "successCount": len(results), "successResults": results}

    def _export(self, req):
        requested = req.json()["objects"]
        seen, order = set(), []

        def visit(kind, oid):
            if (kind, oid) in seen:
                return
            seen.add((kind, oid))
            obj = self.state.objects.get((kind, oid))
            if obj is None:
                return
            for ref in obj.get("references", []):
                visit(ref["type"], ref["id"])
            order.append(obj)

        for w in requested:
            if (w["type"], w["id"]) not in self.state.objects:
                return _error(400, "Bad Request", f"Saved objects [{w['type']}:{w['id']}] not found")
            visit(w["type"], w["id"])
        # libbeat's export decodes every line and fails on an empty one, so
        # the last object has no newline after it.
        return 200, "\n".join(json.dumps(o) for o in order).encode()


def import_objects(req: Request) -> list:
    """The saved objects of a multipart import request, in file order."""
    header = f"Content-Type: {req.content_type}\r\n\r\n".encode()
    message = email.parser.BytesParser().parsebytes(header + req.body)
    if not message.is_multipart():
        raise ValueError("import request is not multipart/form-data")
    objects = []
    for part in message.get_payload():
        if part.get_param("name", header="content-disposition") != "file":
            continue
        for line in part.get_payload(decode=True).decode().splitlines():
            if line.strip():
                objects.append(json.loads(line))
    return objects
