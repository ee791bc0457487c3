"""Real TAXII 2.1 servers from PyPI, started on 127.0.0.1 for system tests.

Medallion (the OASIS reference server, version 3.0.0) runs with its memory
backend: a JSON file of API roots, collections and objects, each object
with a manifest entry that contains its date_added. Its request log, one line
per request on standard error, lets tests check what tibeat asked for.
"""

import base64
import json
import re
import socket
import subprocess
import sys
import time
import urllib.error
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
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"medallion exited with {self.proc.returncode}: {self.log_path.read_text()[-2000:]}")
            try:
                self.request("GET", self.discovery_url)
                return self
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"medallion did not answer within {STARTUP_TIMEOUT}s")

    def stop(self) -> None:
        if self.proc is None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
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
        """The request lines of the log: (method, path with query)."""
        pattern = re.compile(r'"(GET|POST) (\S+) HTTP/1\.[01]" (\d{3})')
        found = []
        for line in self.log_path.read_text(errors="replace").splitlines():
            m = pattern.search(line)
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


# NOTE: opentaxii 0.9.3, the newest release on PyPI, is not started here.
# In TAXII 2.1 mode with SQLite its collections endpoint fails with HTTP 500
# ("Object of type UUID is not JSON serializable") under both SQLAlchemy
# 2.1.9 and 1.4.54, and its objects endpoint answered 404 for a collection
# created with opentaxii-add-collection.
