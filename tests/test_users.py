"""The allocator of sandbox users (catkit/grading/isolation/users.py): no two live claims share a
UID, a claim is freed with its sandbox, and a claim whose owner is gone is taken over or removed.
Fast: files in a temporary folder, nothing is run."""

import os
import tempfile

import pytest

from catkit.errors import GraderFault
from catkit.grading.isolation import users


@pytest.fixture(autouse=True)
def own_tmp(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    return tmp_path


def test_claims_are_distinct_in_range_and_freed(own_tmp):
    uids = [users.claim() for _ in range(20)]
    assert len(set(uids)) == 20 and all(map(users.in_range, uids))
    assert sorted(int(path.name) for path in users.folder().iterdir()) == sorted(uids)
    for uid in uids:
        users.release(uid)
    assert list(own_tmp.iterdir()) == [], "the claims, their folder and the kit's parent go when empty"


def test_a_claim_whose_owner_is_gone_is_taken_over_or_removed(monkeypatch):
    monkeypatch.setattr(users, "COUNT", 2)
    gone = f"{2 ** 22 + 1}-0"  # a pid above pid_max's default: no such process
    for uid in (users.FIRST, users.FIRST + 1):
        (users.folder() / str(uid)).write_text(gone)
    uid = users.claim()
    assert (users.folder() / str(uid)).read_text() == f"{os.getpid()}-{users.scratch.start_time('self')}"
    assert users.claim() == users.FIRST + users.FIRST + 1 - uid  # the other one, taken over too
    with pytest.raises(GraderFault, match="no free user"):  # none left
        users.claim()
    assert users.remove_stale() == []  # every claim is this live process's
    (users.folder() / str(uid)).write_text(gone)
    assert users.remove_stale() == [uid]
