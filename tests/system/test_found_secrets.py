"""Problems found by hand: credentials that a server sends back in an error
reply reach tibeat's logs and error documents."""

import base64
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from conftest import file_output_config

USER = "reader"
PASSWORD = "Echoed-Passw0rd-77"
BASIC_HEADER_VALUE = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()


class EchoingHandler(BaseHTTPRequestHandler):
    """Rejects every request and repeats the credentials it received, as
    some login proxies and debugging endpoints do."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        header = self.headers.get("Authorization", "")
        decoded = base64.b64decode(header[len("Basic "):]).decode() if header.startswith("Basic ") else ""
        body = json.dumps({
            "title": "unauthorized",
            "description": f"wrong login {decoded}, header {header}",
        }).encode()
        self.send_response(401)
        self.send_header("Content-Type", "application/taxii+json;version=2.1")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def echoing_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), EchoingHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def leaked_secrets(tibeat) -> list:
    text = tibeat.stderr_path.read_text(errors="replace")
    documents = json.dumps(tibeat.documents())
    found = []
    for secret in (PASSWORD, BASIC_HEADER_VALUE):
        if secret in text:
            found.append(f"{secret} in the log")
        if secret in documents:
            found.append(f"{secret} in a document")
    return found


def test_taxii_error_reply_hides_password(tibeat, echoing_server):
    tibeat.write_config(file_output_config(f"""
  - type: taxii
    id: echo
    url: {echoing_server}/api1/collections/c1/objects/
    auth.basic:
      user: {USER}
      password: "{PASSWORD}"
"""))

    proc = tibeat.run_once(timeout=120)

    assert proc.returncode != 0
    assert leaked_secrets(tibeat) == []


def test_cel_error_event_hides_basic_auth_header(tibeat, echoing_server):
    program = ('get(state.url).as(resp, {"events": [{"error": {"message": '
               '"HTTP " + string(resp.StatusCode) + ": " + string(resp.Body)}}]})')
    tibeat.write_config(file_output_config(f"""
  - type: cel
    id: echo
    resource.url: {echoing_server}/indicators
    auth.basic:
      user: {USER}
      password: "{PASSWORD}"
    program: '{program}'
"""))

    proc = tibeat.run_once("-d", "*", timeout=120)

    assert proc.returncode == 0
    # The scrubber replaces the password as written, but not the
    # Authorization header value that encodes it.
    assert leaked_secrets(tibeat) == []
