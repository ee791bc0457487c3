"""The taxii input against opentaxii 0.9.3, EclecticIQ's TAXII server, in
TAXII 2.1 mode with SQLite.

The tests are those of test_taxii.py for medallion, except that collections
are read by their objects URL. opentaxii 0.9.3 replies with HTTP 500 to
every collections list (taxii_servers.py explains why), so a collection
chosen by title is tested as the clear error tibeat reports instead.
"""

import collections
import urllib.parse

import pytest

from conftest import file_output_config, get, kill, wait_for
from taxii_servers import OpenTAXII, amnesty_collections
from test_taxii import CHECKPOINT_PAGES, PASSWORD, PROMPT_QUEUE, USER, expected_versions, fetched, objects_requests, versions

# opentaxii 0.9.3 writes the object's type into spec_version. So the
# documents cannot be compared with the loaded objects field by field, and
# the tests compare the id and modified of each.


def opentaxii_input(url: str, extra: str = "", password: str = PASSWORD, limit: int = 50,
                    input_id: str = "opentaxii") -> str:
    return f"""
  - type: taxii
    id: {input_id}
    url: "{url}"
    initial_interval: 0s
    limit: {limit}
    interval: 1s
    retry.max_attempts: 2
    auth.basic:
      user: {USER}
      password: "{password}"
{extra}"""


@pytest.fixture(scope="module")
def opentaxii(tmp_path_factory):
    server = OpenTAXII(tmp_path_factory.mktemp("opentaxii"), amnesty_collections(), {USER: PASSWORD})
    server.start()
    yield server
    server.stop()


@pytest.fixture
def own_opentaxii(tmp_path):
    server = OpenTAXII(tmp_path, amnesty_collections(), {USER: PASSWORD})
    server.start()
    yield server
    server.stop()


def test_full_ingest(tibeat, opentaxii):
    inputs = "".join(opentaxii_input(opentaxii.objects_url(c), input_id=f"opentaxii-{i}")
                     for i, c in enumerate(opentaxii.collections))
    tibeat.write_config(file_output_config(inputs))

    result = tibeat.run_once()

    assert result.returncode == 0, result.stderr[-3000:]
    got = versions(fetched(tibeat))
    assert set(got) == expected_versions(*opentaxii.collections)
    assert max(got.values()) == 1, "an object was published twice"
    sources = {get(d, "url.original") for d in fetched(tibeat)}
    assert sources == {opentaxii.objects_url(c) for c in opentaxii.collections}
    assert PASSWORD not in result.stderr


def test_wrong_password_fails_the_run(tibeat, opentaxii):
    url = opentaxii.objects_url(opentaxii.collections[1])
    tibeat.write_config(file_output_config(opentaxii_input(url, password="not-the-password")))

    result = tibeat.run_once()

    assert result.returncode != 0
    assert "HTTP 401" in result.stderr
    assert url in result.stderr
    assert "rejected the credentials" in result.stderr
    assert "not-the-password" not in result.stderr


def test_collection_by_title_reports_server_error(tibeat, opentaxii):
    tibeat.write_config(file_output_config(opentaxii_input(
        opentaxii.discovery_url, "    collections: ['Wintego*']\n")))

    result = tibeat.run_once()

    assert result.returncode != 0
    collections_url = f"{opentaxii.base}/taxii2/{opentaxii.root_id}/collections/"
    assert f"GET {collections_url}: HTTP 500" in result.stderr
    assert "gave up after 2 attempts (retry.max_attempts)" in result.stderr
    assert not (tibeat.data / "output").exists() or not tibeat.documents()


def test_resume_after_sigkill(tibeat, opentaxii):
    cytrox = opentaxii.collections[0]
    limit = 20
    # Four requests per second make the walk of 35 pages of 20 objects last
    # about nine seconds, long enough to kill it in the middle.
    tibeat.write_config(file_output_config(opentaxii_input(
        opentaxii.objects_url(cytrox), "    rate_limit: {limit: 4, burst: 1}\n", limit=limit), PROMPT_QUEUE))

    proc = tibeat.start()
    try:
        wait_for(lambda: (tibeat.data / "output").exists() and len(fetched(tibeat)) >= 15 * limit, 60,
                 "the first pages")
    finally:
        kill(proc)
    first = len(fetched(tibeat))
    assert first < len(cytrox.objects), "the walk finished before it was killed"
    before = len(objects_requests(opentaxii))

    result = tibeat.run_once()

    assert result.returncode == 0, result.stderr[-3000:]
    got = versions(fetched(tibeat))
    assert set(got) == expected_versions(cytrox), "an object is missing after the restart"
    repeated = sum(n - 1 for n in got.values())
    # opentaxii gives every object its own date_added, so every page is a
    # safe position and the kill repeats at most CHECKPOINT_PAGES pages
    # plus the pages in flight.
    assert repeated <= (CHECKPOINT_PAGES + 2) * limit, f"{repeated} repeats after a kill"
    resumed = objects_requests(opentaxii)[before]
    assert "added_after" in urllib.parse.parse_qs(resumed.query), "the run after the kill did not resume from a stored position"


def test_second_run_asks_only_for_new_objects(tibeat, own_opentaxii):
    cytrox = own_opentaxii.collections[0]
    tibeat.write_config(file_output_config(opentaxii_input(own_opentaxii.objects_url(cytrox))))
    assert tibeat.run_once().returncode == 0
    first = len(fetched(tibeat))
    assert first == len(cytrox.objects)
    position = own_opentaxii.last_date_added(cytrox)

    new = [dict(o, id=o["id"].split("--")[0] + "--00000000-0000-4000-8000-" + f"{i:012d}")
           for i, o in enumerate(cytrox.objects[:3])]
    own_opentaxii.add_objects(cytrox, new)
    before = len(objects_requests(own_opentaxii))
    result = tibeat.run_once()

    assert result.returncode == 0, result.stderr[-3000:]
    ids = collections.Counter(get(d, "stix.id") for d in fetched(tibeat))
    assert sum(ids.values()) == first + len(new)
    assert all(ids[o["id"]] == 1 for o in new)
    query = urllib.parse.parse_qs(objects_requests(own_opentaxii)[before].query)
    assert query["added_after"] == [position], "the second run did not send the stored position"
    assert query["limit"] == ["50"]


def test_server_restart_between_runs(tibeat, own_opentaxii):
    wintego = own_opentaxii.collections[1]
    tibeat.write_config(file_output_config(opentaxii_input(own_opentaxii.objects_url(wintego))))
    assert tibeat.run_once().returncode == 0
    first = len(fetched(tibeat))

    own_opentaxii.stop()
    own_opentaxii.start()
    result = tibeat.run_once()

    assert result.returncode == 0, result.stderr[-3000:]
    assert len(fetched(tibeat)) == first == len(wintego.objects)
    last = objects_requests(own_opentaxii)[-1]
    assert urllib.parse.parse_qs(last.query)["added_after"] == [own_opentaxii.last_date_added(wintego)]
