"""``catkit serve --scheduler``: submissions graded on a real Dask cluster, the gradebook on PostgreSQL.

The grading of each submission goes to the cluster's workers (``dask scheduler`` and two ``dask
worker`` on 127.0.0.1, tests/dask_cluster.py) while the service, on this machine, runs nbgrader's
side; the grades are those of a plain local ``nbgrader autograde`` of the same submissions with the
same course secret.
"""

import subprocess

import pytest

from conftest import MISTAKES, gradebook_scores, nbgrader, solved
from exchange_course import ASSIGNMENT, BIN, ExchangeCourse, environment
from test_dask import _workers_that_graded

pytestmark = [pytest.mark.slow, pytest.mark.dask, pytest.mark.postgres]


def test_served_on_a_dask_cluster_with_a_postgresql_gradebook_grades_as_nbgrader(dask_cluster, postgres, tmp_path):
    url = postgres.new_database("serve_cluster")
    course = ExchangeCourse(tmp_path, f"\nc.CourseDirectory.db_url = {url!r}\n")
    work = {"right": solved(course.root), "sign": solved(course.root, MISTAKES["sigmoid-sign-error"].edits),
            "one-over-m": solved(course.root, MISTAKES["propagate-no-1-over-m"].edits)}
    for name, nb in work.items():
        course.student(name).submit(nb)
    result = subprocess.run([str(BIN / "catkit"), "serve", "--once", "--scheduler", dask_cluster.address],
                            cwd=course.root, env=environment(), capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout + result.stderr + dask_cluster.logs()
    assert result.stdout.count("graded  ") == 3, result.stdout
    assert _workers_that_graded(dask_cluster), "no worker graded anything"
    served = gradebook_scores(course.root)
    assert served["right"]["total"] == 20 and served["sign"]["sigmoid"] == 0 and served["one-over-m"]["propagate"] == 0
    nbgrader(course.root, "autograde", ASSIGNMENT, "--force")  # locally, the same secret and submissions
    assert gradebook_scores(course.root) == served
