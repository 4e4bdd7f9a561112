"""Hidden inputs cannot be replayed across submissions.

The attack, over three submissions of one student, each graded by a real ``nbgrader autograde``:

1. ``propagate`` prints its (hidden) arguments to stderr; the graded notebook (and so the feedback)
   shows them (those of its first call: the first failure ends the cell);
2. ``optimize``, a later function, may call the reference ``propagate``: it computes the reference's
   answers for those arguments and prints them;
3. ``propagate`` holds no propagate code, only a table of those answers (and says when it hits).

Round after round, one more call would pass, until the function earns full points unwritten.

Hidden inputs come from the course secret, the student, the cell and the submission's graded code,
so the third submission's inputs are not the first's: the table earns nothing.
"""

import re
import shutil

import pytest

from conftest import autograde, gradebook_scores, graded_outputs, make_course, solved, submit

pytestmark = pytest.mark.slow

LEAK = re.compile(r"LEAK (\S+)")

PRINT_ARGUMENTS = '''
def propagate(w, b, X, Y):
    import base64, pickle, sys
    print("LEAK " + base64.b64encode(pickle.dumps((w, b, X, Y))).decode(), file=sys.stderr)
    raise ValueError("reading my inputs")
'''

ASK_THE_REFERENCE = '''
def optimize(w, b, X, Y, num_iterations=100, learning_rate=0.009, print_cost=False):
    import base64, pickle, sys
    for leaked in {leaked!r}:
        arguments = pickle.loads(base64.b64decode(leaked))
        answer = propagate(*arguments)  # the reference version, while optimize is graded
        print("LEAK " + base64.b64encode(pickle.dumps((arguments, answer))).decode(), file=sys.stderr)
    raise ValueError("asking the reference")
'''

HARD_CODED = '''
def propagate(w, b, X, Y):
    import base64, pickle, sys
    import numpy as np
    for leaked in {table!r}:
        (w0, b0, X0, Y0), answer = pickle.loads(base64.b64decode(leaked))
        if np.array_equal(w, w0) and b == b0 and np.array_equal(X, X0) and np.array_equal(Y, Y0):
            print("HIT: the table holds this call's answer", file=sys.stderr)
            return answer
    raise ValueError("not in my table")
'''


def _leaked(root, cell):
    texts = [output.get("text", "") for output in graded_outputs(root, "mallory")[cell]
             if output.get("name") == "stderr"]
    return LEAK.findall("".join(texts))


def _submit(root, **answers):
    edits = {f"{name}_solution": [(None, source)] for name, source in answers.items()}
    folder = root / "submitted" / "mallory"
    shutil.rmtree(folder, ignore_errors=True)
    submit(root, "mallory", solved(root, edits))
    assert autograde(root, force=True).returncode == 0


@pytest.fixture(scope="module")
def rounds(tmp_path_factory):
    root = make_course(tmp_path_factory.mktemp("replay") / "course")
    _submit(root, propagate=PRINT_ARGUMENTS)
    inputs = _leaked(root, "propagate_hidden_tests")
    _submit(root, propagate=PRINT_ARGUMENTS, optimize=ASK_THE_REFERENCE.format(leaked=inputs))
    table = _leaked(root, "optimize_hidden_tests")
    _submit(root, propagate=HARD_CODED.format(table=table))
    return {"inputs": inputs, "table": table, "scores": gradebook_scores(root)["mallory"],
            "outputs": graded_outputs(root, "mallory")["propagate_hidden_tests"], "root": root}


def test_the_attack_reads_the_inputs_and_the_references_answers(rounds):
    assert len(rounds["inputs"]) == 1, "propagate's first hidden call printed its arguments"
    assert len(rounds["table"]) == 1, "the reference answered for the leaked arguments"


def test_a_table_of_the_references_answers_for_leaked_inputs_earns_nothing(rounds):
    """Without the graded code in the seed, the table held the first call's answer (a HIT; shown
    once by taking the code out of grading_seed), and round after round the next calls'."""
    hidden = str(rounds["outputs"])
    assert "not in my table" in hidden  # its first call's inputs were new ones
    assert "HIT" not in hidden
    assert rounds["scores"]["propagate"] == 0


def test_regrading_the_same_notebook_draws_the_same_inputs(rounds):
    root = rounds["root"]
    before = graded_outputs(root, "mallory")
    assert autograde(root, force=True).returncode == 0
    assert graded_outputs(root, "mallory") == before

