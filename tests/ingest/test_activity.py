"""What reps do in the served book: page reads and knowledge-check answers (issue 16)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from store_files import make_store, snapshot

from spm_training.errors import InputError, NotFoundError
from spm_training.ingest.activity import record_read, record_self_check
from spm_training.store import open_store

T0 = datetime(2026, 3, 2, 9, 30, 15, 123456, tzinfo=UTC)


def test_the_first_answer_decides_and_later_ones_add_attempts(tmp_path: Path) -> None:
    db = make_store(tmp_path / "spm.db")
    with open_store(db) as store:
        record_self_check(store, "ann", "book/sdr/prospecting.html", "q1", False, at=T0)
        record_self_check(store, "ann", "book/sdr/prospecting", "q1", True, at=T0 + timedelta(minutes=2))
        record_self_check(store, "ann", "book/sdr/prospecting", "q1", True, at=T0 + timedelta(minutes=5))
        # a naive time is taken as UTC; another zone is converted
        record_self_check(store, "ann", "book/sdr/prospecting", "q2", True, at=datetime(2026, 3, 2, 10, 0))
        record_self_check(store, "bob", "book/sdr/prospecting", "q1", True,
                          at=datetime(2026, 3, 2, 12, 0, tzinfo=timezone(timedelta(hours=2))))
        assert store.query("SELECT * FROM self_checks ORDER BY rep_id, question") == [
            {"rep_id": "ann", "page": "book/sdr/prospecting", "question": "q1", "first_correct": 0, "attempts": 3,
             "first_at": "2026-03-02T09:30:15+00:00", "last_at": "2026-03-02T09:35:15+00:00"},
            {"rep_id": "ann", "page": "book/sdr/prospecting", "question": "q2", "first_correct": 1, "attempts": 1,
             "first_at": "2026-03-02T10:00:00+00:00", "last_at": "2026-03-02T10:00:00+00:00"},
            {"rep_id": "bob", "page": "book/sdr/prospecting", "question": "q1", "first_correct": 1, "attempts": 1,
             "first_at": "2026-03-02T10:00:00+00:00", "last_at": "2026-03-02T10:00:00+00:00"}]
        assert (store.data_revision(), store.activity_revision()) == (3, 5)


def test_a_read_keeps_the_first_visit_and_moves_the_last(tmp_path: Path) -> None:
    db = make_store(tmp_path / "spm.db")
    with open_store(db) as store:
        record_read(store, "cy", "book/handbook/icp.html", at=T0)
        record_read(store, "cy", "book/handbook/icp", at=T0 + timedelta(days=1))
        # an answer sent late (an earlier time) does not move last_at back
        record_read(store, "cy", "book/handbook/icp", at=T0 - timedelta(days=1))
        assert store.query("SELECT * FROM page_reads") == [
            {"rep_id": "cy", "page": "book/handbook/icp", "first_at": "2026-03-02T09:30:15+00:00",
             "last_at": "2026-03-03T09:30:15+00:00"}]


REFUSED = {
    "absolute": ("/book/sdr/prospecting", "q1",
                 "self-check: page '/book/sdr/prospecting' is an absolute path; name the page from the book's root, "
                 "such as book/sdr/prospecting"),
    "dot dot": ("book/../../etc/passwd", "q1",
                "self-check: page 'book/../../etc/passwd' leaves the book with '..'; name the page from the book's "
                "root, such as book/sdr/prospecting"),
    "empty page": ("", "q1", "self-check: the page is empty; name a book page such as book/sdr/prospecting"),
    "only .html": (".html", "q1", "self-check: the page is empty; name a book page such as book/sdr/prospecting"),
    "a query": ("book/sdr/prospecting?x=1", "q1",
                "self-check: page 'book/sdr/prospecting?x=1' is not a book page path; use letters, digits, '.', "
                "'_', '-' and '/' only, such as book/sdr/prospecting"),
    "empty segment": ("book//prospecting", "q1",
                      "self-check: page 'book//prospecting' is not a book page path; use letters, digits, '.', '_', "
                      "'-' and '/' only, such as book/sdr/prospecting"),
    "long page": ("book/" + "a" * 196, "q1",
                  "self-check: the page name is 201 characters long; name a book page of at most 200 characters"),
    "empty question": ("book/sdr/prospecting", "",
                       "self-check: the question id is empty; send the knowledge check's question id"),
    "long question": ("book/sdr/prospecting", "q" * 101,
                      "self-check: the question id is 101 characters long; use a question id of at most 100 "
                      "characters"),
    "control character": ("book/sdr/prospecting", "q\n1",
                          "self-check: question id 'q\\n1' has characters that are not printable; use a question id "
                          "of printable characters"),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_a_bad_page_or_question_is_refused_and_writes_nothing(tmp_path: Path, case: str) -> None:
    page, question, message = REFUSED[case]
    db = make_store(tmp_path / "spm.db")
    before = snapshot(db)
    with open_store(db) as store:
        with pytest.raises(InputError) as info:
            record_self_check(store, "ann", page, question, True, at=T0)
        assert str(info.value) == message
        if question == "q1":
            with pytest.raises(InputError) as read_info:
                record_read(store, "ann", page, at=T0)
            assert str(read_info.value) == message
    assert snapshot(db) == before


def test_the_longest_page_and_question_are_taken(tmp_path: Path) -> None:
    db = make_store(tmp_path / "spm.db")
    page = "book/" + "a" * 195
    with open_store(db) as store:
        record_self_check(store, "ann", page + ".html", "q" * 100, True, at=T0)
        assert store.query("SELECT length(page) AS p, length(question) AS q FROM self_checks") == [{"p": 200, "q": 100}]


def test_an_unknown_rep_is_not_found(tmp_path: Path) -> None:
    db = make_store(tmp_path / "spm.db")
    before = snapshot(db)
    with open_store(db) as store:
        for record in (lambda: record_self_check(store, "zed", "book/sdr/prospecting", "q1", True),
                       lambda: record_read(store, "zed", "book/sdr/prospecting")):
            with pytest.raises(NotFoundError) as info:
                record()
            assert str(info.value) == "no rep 'zed' in the store; spm export reps lists them"
    assert snapshot(db) == before
