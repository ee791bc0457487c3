"""Real TAXII 2.1 servers from PyPI, started on 127.0.0.1 for system tests:
medallion and opentaxii.

Medallion (the OASIS reference server, version 3.0.0) runs with its memory
backend: a JSON file of API roots, collections and objects, each object
with a manifest entry that contains its date_added. Its request log, one line
per request on standard error, lets tests check what tibeat asked for.
"""

import base64
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime, timedelta, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
AMNESTY = REPO / "_meta" / "sample" / "amnesty-investigations"

TAXII21 = "application/taxii+json;version=2.1"
STARTUP_TIMEOUT = 30


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# A request line of werkzeug's log, which medallion and opentaxii use.
REQUEST_LINE = re.compile(r'"(GET|POST) (\S+) HTTP/1\.[01]" (\d{3})')


def wait_until_up(proc: subprocess.Popen, url: str, auth: str, log_path: Path, stop) -> None:
    """Waits until url responds, failing early if the process exits."""
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{url}: the server exited with {proc.returncode}: {log_path.read_text()[-2000:]}")
        req = urllib.request.Request(url, headers={"Accept": TAXII21, "Authorization": auth})
        try:
            with urllib.request.urlopen(req, timeout=10):
                return
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.1)
    stop()
    raise RuntimeError(f"{url} did not answer within {STARTUP_TIMEOUT}s")


def stop_process(proc: subprocess.Popen) -> None:
    if proc is None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


def sample_objects(bundle: str) -> list:
    """The objects of one Amnesty bundle, one version per id."""
    path = next((AMNESTY / bundle).glob("*.stix2"))
    objects = json.loads(path.read_text())["objects"]
    by_id = {}
    for obj in objects:
        by_id.setdefault(obj["id"], obj)
    return list(by_id.values())


def manifest_entry(obj: dict, date_added: str) -> dict:
    return {
        "id": obj["id"],
        "date_added": date_added,
        "version": obj.get("modified", obj.get("created", date_added)),
        "media_type": "application/stix+json;version=2.1",
    }


def stamp(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.%f") + "Z"


class Collection:
    """A collection for medallion's data file. Every third object shares
    its date_added with its neighbours, as bulk loads do, so that pages
    split objects with the same date_added."""

    def __init__(self, id: str, title: str, objects: list, start: datetime):
        self.id = id
        self.title = title
        self.objects = objects
        self.dates = [stamp(start + timedelta(seconds=i // 3)) for i in range(len(objects))]

    def to_data(self) -> dict:
        return {
            "id": self.id,
            "title": self.title,
            "description": f"{len(self.objects)} objects",
            "can_read": True,
            "can_write": True,
            "media_types": ["application/stix+json;version=2.1"],
            "objects": self.objects,
            "manifest": [manifest_entry(o, d) for o, d in zip(self.objects, self.dates)],
        }


class Medallion:
    """A medallion process with basic auth users and one API root."""

    API_ROOT = "api1"

    def __init__(self, workdir: Path, collections: list, users: dict, max_page_size: int = 100):
        self.workdir = workdir
        self.collections = collections
        self.users = users
        self.max_page_size = max_page_size
        self.port = free_port()
        self.proc = None
        self.log_path = workdir / "medallion.log"
        self._write_files()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def discovery_url(self) -> str:
        return f"{self.base}/taxii2/"

    def objects_url(self, collection: Collection) -> str:
        return f"{self.base}/{self.API_ROOT}/collections/{collection.id}/objects/"

    def _write_files(self) -> None:
        root_url = f"{self.base}/{self.API_ROOT}/"
        data = {
            "/discovery": {"title": "tibeat system test", "default": root_url, "api_roots": [root_url]},
            self.API_ROOT: {
                "information": {
                    "title": "Amnesty samples",
                    "versions": [TAXII21],
                    "max_content_length": 104857600,
                },
                "status": [],
                "collections": [c.to_data() for c in self.collections],
            },
        }
        self.data_path = self.workdir / "medallion-data.json"
        self.data_path.write_text(json.dumps(data))
        config = {
            "backend": {
                "module": "medallion.backends.memory_backend",
                "module_class": "MemoryBackend",
                "filename": str(self.data_path),
            },
            "users": self.users,
            "taxii": {"max_page_size": self.max_page_size},
        }
        self.config_path = self.workdir / "medallion-config.json"
        self.config_path.write_text(json.dumps(config))

    def start(self) -> "Medallion":
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "medallion.scripts.run", "--host", "127.0.0.1",
             "--port", str(self.port), "--log-level", "INFO", str(self.config_path)],
            stdout=log, stderr=subprocess.STDOUT,
        )
        log.close()
        wait_until_up(self.proc, self.discovery_url, self._auth(), self.log_path, self.stop)
        return self

    def stop(self) -> None:
        stop_process(self.proc)
        self.proc = None

    def _auth(self) -> str:
        user, password = next(iter(self.users.items()))
        return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()

    def request(self, method: str, url: str, body: dict = None) -> dict:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(url, data=data, method=method)
        req.add_header("Accept", TAXII21)
        req.add_header("Authorization", self._auth())
        if data is not None:
            req.add_header("Content-Type", TAXII21)
        with urllib.request.urlopen(req, timeout=10) as resp:
            return json.loads(resp.read() or b"{}")

    def add_objects(self, collection: Collection, objects: list) -> None:
        """Adds objects through the TAXII API; medallion sets date_added to now."""
        self.request("POST", self.objects_url(collection), {"objects": objects})

    def requests(self) -> list:
        """The request lines of the log: (method, path with query, status)."""
        found = []
        for line in self.log_path.read_text(errors="replace").splitlines():
            m = REQUEST_LINE.search(line)
            if m:
                found.append((m.group(1), m.group(2), int(m.group(3))))
        return found


def amnesty_collections() -> list:
    start = datetime(2024, 1, 1, tzinfo=timezone.utc)
    return [
        Collection("7b1b2c5e-0000-4000-8000-00000000c701", "Cytrox Predator",
                   sample_objects("2021-12-16_cytrox"), start),
        Collection("7b1b2c5e-0000-4000-8000-00000000c702", "Wintego Helios",
                   sample_objects("2024-05-02_wintego_helios"), start + timedelta(days=30)),
    ]


# opentaxii's SQL backend returns API root and collection ids as uuid.UUID,
# and its TAXII 2.1 replies are written with json.dumps. Releases 0.9.0 to
# 0.9.3 on PyPI share that code, and with every SQLAlchemy and Flask version
# tried these fail with HTTP 500 "Object of type UUID is not JSON
# serializable": the collections list, a POST of objects (the
# objects are stored, but the job status in the reply fails) and the job
# status. Account permissions are looked up by the same uuid.UUID while the
# stored keys are strings, so only an admin account or a public collection
# can be read. The harness therefore creates an admin account, loads the
# objects through opentaxii's persistence API, and tests read collections by
# their objects URL.
OPENTAXII_SETUP = r"""
import json, sys
from opentaxii.cli import app

request = json.load(sys.stdin)
with app.app_context():
    taxii2 = app.taxii_server.servers.taxii2.persistence.api
    auth = app.taxii_server.auth.api
    if request.get("root_title"):
        root = taxii2.add_api_root(title=request["root_title"], default=True)
        request["root_id"] = str(root.id)
        for user, password in request["users"].items():
            auth.create_account(username=user, password=password, is_admin=True)
        request["collection_ids"] = [
            str(taxii2.add_collection(api_root_id=root.id, title=title).id)
            for title in request["titles"]
        ]
    for collection_id, objects in request["objects"].items():
        taxii2.add_objects(api_root_id=request["root_id"], collection_id=collection_id, objects=objects)
    print(json.dumps({"root_id": request["root_id"], "collection_ids": request.get("collection_ids")}))
"""


class OpenTAXII:
    """An opentaxii 0.9.3 process in TAXII 2.1-only mode with SQLite files
    in workdir, one API root, one collection per Collection and admin
    accounts for basic auth. opentaxii sets date_added itself when objects
    are loaded, so Collection.dates do not apply."""

    def __init__(self, workdir: Path, collections: list, users: dict):
        self.workdir = workdir
        self.collections = collections
        self.users = users
        self.port = free_port()
        self.proc = None
        self.log_path = workdir / "opentaxii.log"
        self.config_path = workdir / "opentaxii.yml"
        self._write_config()
        ids = self._setup({
            "root_title": "Amnesty samples",
            "users": users,
            "titles": [c.title for c in collections],
            "objects": {},
        })
        self.root_id = ids["root_id"]
        self.collection_ids = dict(zip((c.id for c in collections), ids["collection_ids"]))
        self._setup({"root_id": self.root_id, "objects": {
            self.collection_ids[c.id]: c.objects for c in collections}})

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def discovery_url(self) -> str:
        return f"{self.base}/taxii2/"

    def objects_url(self, collection: Collection) -> str:
        return f"{self.base}/taxii2/{self.root_id}/collections/{self.collection_ids[collection.id]}/objects/"

    def _write_config(self) -> None:
        db = lambda name: "sqlite:///" + str(self.workdir / name)
        config = {
            "domain": f"127.0.0.1:{self.port}",
            "support_basic_auth": True,
            "return_server_error_details": True,
            "auth_api": {
                "class": "opentaxii.auth.sqldb.SQLDatabaseAPI",
                "parameters": {"db_connection": db("auth.db"), "create_tables": True,
                               "secret": "tibeat-system-test-secret-of-32-bytes-or-more"},
            },
            # An empty taxii1 section turns TAXII 1 off.
            "taxii1": None,
            "taxii2": {
                "title": "tibeat system test",
                "max_content_length": 104857600,
                "public_discovery": False,
                "allow_custom_properties": True,
                "persistence_api": {
                    "class": "opentaxii.persistence.sqldb.Taxii2SQLDatabaseAPI",
                    "parameters": {"db_connection": db("data.db"), "create_tables": True},
                },
            },
            "logging": {"opentaxii": "info", "root": "info"},
        }
        # JSON is YAML, and opentaxii reads its configuration as YAML.
        self.config_path.write_text(json.dumps(config))

    def _env(self) -> dict:
        return dict(os.environ, OPENTAXII_CONFIG=str(self.config_path))

    def _setup(self, request: dict) -> dict:
        done = subprocess.run([sys.executable, "-c", OPENTAXII_SETUP], input=json.dumps(request),
                              capture_output=True, text=True, env=self._env(), timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"opentaxii setup failed: {done.stderr[-2000:]}")
        return json.loads(done.stdout.strip().splitlines()[-1])

    def last_date_added(self, collection: Collection) -> str:
        """The greatest date_added of a collection, as its manifest writes
        it, which is how opentaxii writes X-TAXII-Date-Added-Last too."""
        url = self.objects_url(collection).replace("/objects/", "/manifest/") + "?limit=1000"
        dates, query = [], ""
        while True:
            req = urllib.request.Request(url + query, headers={"Accept": TAXII21, "Authorization": self._auth()})
            with urllib.request.urlopen(req, timeout=10) as resp:
                page = json.loads(resp.read() or b"{}")
            dates += [r["date_added"] for r in page.get("objects", [])]
            if not page.get("more"):
                return max(dates, key=lambda d: datetime.fromisoformat(d.replace("Z", "+00:00")))
            query = "&next=" + urllib.parse.quote(page["next"])

    def add_objects(self, collection: Collection, objects: list) -> None:
        """Adds objects through opentaxii's persistence API, which sets
        date_added to now."""
        self._setup({"root_id": self.root_id, "objects": {self.collection_ids[collection.id]: objects}})

    def start(self) -> "OpenTAXII":
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-c",
             f"from opentaxii.http import app; app.run(host='127.0.0.1', port={self.port}, threaded=True)"],
            stdout=log, stderr=subprocess.STDOUT, env=self._env(),
        )
        log.close()
        wait_until_up(self.proc, self.discovery_url, self._auth(), self.log_path, self.stop)
        return self

    def stop(self) -> None:
        stop_process(self.proc)
        self.proc = None

    def _auth(self) -> str:
        user, password = next(iter(self.users.items()))
        return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()

    def requests(self) -> list:
        """The request lines of werkzeug's log: (method, path with query,
        status). opentaxii writes them as JSON, with the quotes escaped."""
        found = []
        for line in self.log_path.read_text(errors="replace").splitlines():
            try:
                event = json.loads(line).get("event", "")
            except (json.JSONDecodeError, AttributeError):
                continue
            m = REQUEST_LINE.search(event)
            if m:
                found.append((m.group(1), m.group(2), int(m.group(3))))
        return found
