"""The built book through the service: signed-in users only, no way out of its folder, and for a
rep each page read and each knowledge-check answer recorded."""

from __future__ import annotations

import json

import pytest
from served import TODAY, Org, Served, project_copy

from spm_training.serve.access import COURSE_SCOPE
from spm_training.serve.app import ServeConfig


def serve(org: Org, tmp_path, *, book: bool = True) -> Served:  # type: ignore[no-untyped-def]
    project = project_copy(org, tmp_path, book=book)
    users = {"rep": {"name": org.roster[0]["id"], "groups": [], "scopes": []},
             "trainer": {"name": "tess", "groups": [], "scopes": [COURSE_SCOPE]},
             "stranger": {"name": "sam", "groups": [], "scopes": []}}
    return Served(ServeConfig(project=project, auth="hub", today=TODAY), users)


@pytest.fixture
def served(org: Org, org_logins: Org, tmp_path):  # type: ignore[no-untyped-def]
    app = serve(org_logins, tmp_path)
    yield app
    app.stop()


def activity(served: Served) -> int:
    return served.client().get("/healthz").json()["activity_revision"]  # type: ignore[index]


def test_no_built_book_is_a_404_page_saying_how_to_build_it(org: Org, tmp_path) -> None:  # type: ignore[no-untyped-def]
    app = serve(org, tmp_path, book=False)
    try:
        r = app.client("trainer").get("/book/")
        assert r.status == 404
        built = app.config.project.built_book
        assert '<p class="message">The book has not been built yet.</p>' in r.text
        assert (f"<p>Build it with `jupyter-book build .` at the project&#39;s root into {built}; the service "
                "serves it from the next request on.</p>") in r.text
    finally:
        app.stop()


def test_the_book_is_for_users_with_a_role_and_stays_in_its_folder(served: Served) -> None:
    trainer = served.client("trainer")
    r = trainer.get("/book/")
    assert r.status == 200 and "<title>Handbook</title>" in r.text
    assert 'name="spm-self-check"' not in r.text            # not a rep: nothing is recorded
    assert trainer.get("/book/_static/book.css").body == b"body { margin: 0; }\n"
    assert trainer.get("/book").status == 301
    assert served.client("stranger").get("/book/").status == 403
    assert served.client().get("/book/").status == 401
    for escape in ("/book/..%2fspm.db", "/book/..%2f..%2fproject%2fspm.db", "/book/%2e%2e/spm.db",
                   "/book/_static/..%2f..%2f..%2fspm.db", "/book/..%5cspm.db"):
        r = trainer.get(escape)
        assert r.status in (403, 404), escape
        assert b"SQLite format" not in r.body and str(served.config.project.root) not in r.text, escape


def test_a_rep_reading_a_page_is_recorded_and_the_page_can_record_answers(served: Served, org: Org) -> None:
    rep = served.client("rep")
    before = activity(served)
    r = rep.get("/book/book/sdr/prospecting.html")
    assert r.status == 200
    assert r.text.startswith('<!DOCTYPE html>\n<html lang="en"><head><meta name="spm-self-check" '
                             'content="/api/self-check"><meta name="spm-xsrf" content="')
    assert '<meta name="spm-book" content="/book/">' in r.text
    assert activity(served) == before + 1
    token = r.text.split('name="spm-xsrf" content="', 1)[1].split('"', 1)[0]
    answer = {"page": "book/sdr/prospecting", "question": "spm-kc-1-q1", "correct": False, "first_try": True}
    posted = rep.request("POST", "/api/self-check", body=json.dumps(answer).encode(),
                         headers={"Content-Type": "application/json", "X-XSRFToken": token})
    assert posted.status == 204
    assert activity(served) == before + 2
    # without the token the answer is refused, and a trainer has no answers to record
    assert rep.request("POST", "/api/self-check", body=json.dumps(answer).encode()).status == 403
    trainer = served.client("trainer")
    trainer.cookies["_xsrf"] = rep.xsrf()            # a valid token: the refusal is for not being a rep
    refused = trainer.request("POST", "/api/self-check", body=json.dumps(answer).encode(),
                              headers={"X-XSRFToken": trainer.xsrf()})
    assert refused.status == 403
    assert refused.json() == {"status": 403, "error": "tess is not a rep in the roster: answers are recorded for "
                                                      "reps only."}
    bad = rep.request("POST", "/api/self-check", body=b'{"page": "../x", "question": "q", "correct": true}',
                      headers={"X-XSRFToken": token})
    assert bad.status == 400 and activity(served) == before + 2


def test_tornados_refusals_name_no_server_path(served: Served) -> None:
    trainer = served.client("trainer")
    r = trainer.get("/book/_static/..%2f..%2f..%2fspm.db")
    root = str(served.config.project.root)
    assert r.status in (403, 404) and root not in r.text and "static directory" not in r.text
    missing = trainer.get("/book/no-such-page.html")
    assert missing.status == 404
    assert '<p class="message">There is no such page.</p>' in missing.text and root not in missing.text
