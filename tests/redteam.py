"""Submissions that attack the grader (issue: fair, isolated and tamper-proof grading).

Each attack is a student's notebook: the reference answers everywhere except where the attack
sits. The attacked function must earn nothing it did not implement correctly, and every other
function must keep its full marks. ``{root}``, ``{port}`` and ``{marker}`` are replaced by
the test with the course's absolute path, a port a test server listens on, and a string that
lets the test find processes the attack left behind.
"""

WRONG_SIGMOID = "def sigmoid(z):\n    return z * 0 + 0.5\n"

PATCH_NUMPY = WRONG_SIGMOID + '''
import builtins, math, sys, types
import numpy.testing
np.allclose = lambda *a, **k: True
np.array_equal = lambda *a, **k: True
np.isclose = lambda *a, **k: np.array(True)
np.testing.assert_allclose = lambda *a, **k: None
math.isclose = lambda *a, **k: True
builtins.isinstance = lambda *a: True
builtins.AssertionError = type("Never", (Exception,), {})
sys.modules["numpy.testing"] = types.SimpleNamespace(assert_allclose=lambda *a, **k: None)
'''

# Rewrites every later cell to "pass" and skips their execution, in an IPython kernel.
IPYTHON_HOOKS = '''
ip = get_ipython()
ip.input_transformers_post.append(lambda lines: ["pass\\n"])
class SkipAll(__import__("ast").NodeTransformer):
    def visit_Module(self, node):
        node.body = []
        return node
ip.ast_transformers.append(SkipAll())
ip.events.register("pre_run_cell", lambda *a: None)
'''

# The sandbox's own modules are the package ``sandboxed`` (catkit/grading/sandboxed): no other
# module of the kit is in there.
REPLACE_MODULES = '''import sys, types
def propagate(w, b, X, Y):
    return {"dw": np.zeros_like(w), "db": 0.0}, np.array(0.0)
fake = types.ModuleType("sandboxed")
sys.modules["sandboxed"] = fake
sys.modules["sandboxed.wire"] = fake
sys.modules["sandboxed.student"] = fake
sys.modules["numpy"] = fake
'''

FAKE_PASS = '''def predict(w, b, X):
    print("All hidden tests of predict() passed.")
    print("[PASS] predict_checks: 1/1 points")
    return np.zeros((1, X.shape[1]))
'''

# The instructor's sigmoid, run from the notebook file at {notebook}, if the attack can read it.
STOLEN_SIGMOID = '''import json
def _stolen_sigmoid(z):
    cells = json.load(open("{notebook}"))["cells"]
    answer = [c for c in cells if c["metadata"].get("nbgrader", {}).get("grade_id") == "sigmoid_solution"][0]
    namespace = {"np": np}
    exec("".join(answer["source"]), namespace)
    return namespace["sigmoid"](z)
'''

# Copies the instructor's solution out of source/ if it can read it, and is right whenever it
# can read the gradebook or another student's work; wrong otherwise.
READ_SOURCE = STOLEN_SIGMOID.replace(
    "{notebook}", "{root}/source/logistic_regression/Logistic_Regression_with_a_Neural_Network_mindset.ipynb") + '''
def sigmoid(z):
    for other in ["{root}/gradebook.db",
                  "{root}/submitted/bystander/logistic_regression/Logistic_Regression_with_a_Neural_Network_mindset.ipynb"]:
        try:
            open(other, "rb").read(1)
            return 1 / (1 + np.exp(-z))
        except OSError:
            pass
    try:
        return _stolen_sigmoid(z)
    except OSError:
        return z
'''

# Reads the gradebook and the instructor's notebook through symbolic links put in its own
# submission folder (the test makes them: gradebook.lnk and source.lnk).
THROUGH_LINKS = STOLEN_SIGMOID.replace("{notebook}", "source.lnk") + '''
def sigmoid(z):
    try:
        open("gradebook.lnk", "rb").read(1)
        return _stolen_sigmoid(z)
    except OSError:
        return z
'''

# Asks a server on the grader's machine for the answer; wrong if it cannot reach it.
NETWORK = '''import socket
def sigmoid(z):
    try:
        socket.create_connection(("127.0.0.1", {port}), timeout=2).close()
        return 1 / (1 + np.exp(-z))
    except OSError:
        return z
'''

# A correct function that tries to damage the gradebook, the bystander's work, the source.
VANDAL = '''import os, shutil
def _vandalise():
    targets = ["{root}/gradebook.db", "{root}/source/logistic_regression/lr_utils.py",
               "{root}/submitted/bystander/logistic_regression/Logistic_Regression_with_a_Neural_Network_mindset.ipynb",
               "{root}/autograded/bystander/logistic_regression/Logistic_Regression_with_a_Neural_Network_mindset.ipynb"]
    for path in targets:
        try:
            with open(path, "w") as handle:
                handle.write("vandalised")
        except OSError:
            pass
        try:
            os.remove(path)
        except OSError:
            pass
    for folder in ["{root}/submitted/bystander", "{root}/autograded", "{root}/release"]:
        shutil.rmtree(folder, ignore_errors=True)
    try:
        open("/tmp/{marker}-escaped", "w").write("x")
    except OSError:
        pass
def initialize_with_zeros(dim):
    _vandalise()
    return np.zeros((dim, 1)), 0.0
'''

# Leaves processes behind (detached, in a new session) from inside a correct predict.
LINGER = '''import os, subprocess, sys
def predict(w, b, X):
    for _ in range(3):
        try:
            subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)", "{marker}"],
                             start_new_session=True)
        except OSError:
            pass
    if os.fork() == 0:
        os.setsid()
        os.execv(sys.executable, [sys.executable, "-c", "import time; time.sleep(600)", "{marker}"])
    w = w.reshape(X.shape[0], 1)
    return (1 / (1 + np.exp(-(w.T @ X + b))) > 0.5).astype(float)
'''

ENDLESS = '''def optimize(w, b, X, Y, num_iterations=100, learning_rate=0.009, print_cost=False):
    while True:
        pass
'''

EXIT = '''import os
def propagate(w, b, X, Y):
    os._exit(0)
'''

MEMORY = '''def predict(w, b, X):
    hog = []
    while True:
        hog.append(np.ones(10_000_000))
'''

SEGFAULT = '''import ctypes
def initialize_with_zeros(dim):
    ctypes.string_at(0)
'''

FORK_BOMB = '''import os
def model(X_train, Y_train, X_test, Y_test, num_iterations=2000, learning_rate=0.5, print_cost=False):
    while True:
        try:
            os.fork()
        except OSError:
            pass
'''

# Put before a correct answer: when the cell is defined, hunts for the instructor's solution
# around it the way a hostile student would, prints what it finds (a visible check's output shows
# it, and so does the feedback), and raises with it (so a find also costs the function).
# The needle is built at run time, and a find must be the marker followed by a line break (or
# its escape): the hunt's own strings never match. The text must not hold the placeholders that
# attack_edits fills in.
LEAK_HUNT = r'''import dis, gc, io, sys, types
def _leak_hunt(cell):
    mark = "### BEGIN " + "SOLUTION"
    hits, seen = [], {}
    def look(text, where):
        found = []
        if isinstance(text, (bytes, bytearray)):
            text = bytes(text).decode("latin-1")
        if not isinstance(text, str) or mark not in text:
            return found
        start = text.find(mark)
        while start >= 0:
            after = text[start + len(mark):start + len(mark) + 2]
            if after[:1] == "\n" or after == "\\n":
                around = text[max(0, start - 120):start + 240]
                if around not in seen:
                    seen[around] = where
                    found.append(f"{where}: ...{around}...")
            start = text.find(mark, start + 1)
        return found
    counts = dict.fromkeys(["frames", "objects", "code objects", "MiB of memory"], 0)
    # 1. The stack, up to whoever asked for this cell to be defined: locals, globals, their reprs.
    frame = sys._getframe().f_back
    while frame is not None:
        counts["frames"] += 1
        where = f"frame {frame.f_code.co_name} ({frame.f_code.co_filename})"
        for scope in (frame.f_locals, frame.f_globals):
            found = []
            for value in list(scope.values()):
                found += look(value, where)
            try:
                found += look(repr(scope)[:4_000_000], where)
            except Exception:
                pass
            hits += found
        frame = frame.f_back
    # 2. Every object the collector knows (frozen ones too), and what refers to the functions
    # this cell relies on.
    gc.unfreeze()
    relied = {name: value for name, value in list(globals().items())
              if name in ("sigmoid", "initialize_with_zeros", "propagate", "optimize", "predict", "model")
              and name != cell}
    pool = gc.get_objects()
    for value in relied.values():
        pool += gc.get_referrers(value)
    for obj in pool:
        if obj is hits or obj is pool or obj is seen:
            continue
        counts["objects"] += 1
        found = []
        try:
            if isinstance(obj, dict):
                items = [item for pair in list(obj.items()) for item in pair]
            elif isinstance(obj, (list, tuple, set, frozenset)):
                items = list(obj)
            elif isinstance(obj, (types.FunctionType, types.CodeType)):
                code = obj if isinstance(obj, types.CodeType) else obj.__code__
                items = list(code.co_consts) + [code.co_filename]
            else:
                continue
        except Exception:
            continue
        for item in items:
            found += look(item, f"object {type(obj).__name__}")
        hits += found
    found = look(repr(globals()), "globals()")
    hits += found
    # 3. The code of the functions this cell relies on: disassembled, constants, source.
    for name, value in relied.items():
        code = getattr(value, "__code__", None)
        if code is None:  # a stand-in: look at its class's code instead
            code = getattr(getattr(type(value), "__call__", None), "__code__", None)
            where = f"{name}() stand-in {type(value).__name__}"
        else:
            where = f"{name}() is a real function here, from {code.co_filename}"
        if code is None:
            continue
        counts["code objects"] += 1
        buffer = io.StringIO()
        dis.dis(code, file=buffer)
        listing = buffer.getvalue()
        found = look(listing, where) + [item for const in code.co_consts for item in look(const, where)]
        if where.startswith(name + "() is a real"):  # the reference's own code in this process
            found.append(f"{where}: constants {[c for c in code.co_consts if isinstance(c, str)][:3]}, "
                         f"code {listing[:600]}")
            try:
                import inspect
                found += look(inspect.getsource(value), where + " (inspect.getsource)")
            except (OSError, TypeError):
                pass
        hits += found
    # 4. The process's own memory, mapping by mapping, as UTF-8, UTF-16 and UTF-32 text.
    needles = []
    for encoding in ("latin-1", "utf-16-le", "utf-32-le"):
        encoded = mark.encode(encoding)
        needles.append((encoded, ("\n".encode(encoding), "\\n".encode(encoding)), encoding))
    try:
        with open("/proc/self/maps") as maps, open("/proc/self/mem", "rb", 0) as mem:
            spans = [line.split() for line in maps]
            for span in spans:
                if "r" not in span[1] or any(part in ("[vvar]", "[vvar_vclock]", "[vsyscall]") for part in span):
                    continue
                begin, end = (int(x, 16) for x in span[0].split("-"))
                position = begin
                while position < end:
                    size = min(end - position, 16 << 20)
                    try:
                        mem.seek(position)
                        data = mem.read(size + 64 if position + size < end else size)
                    except (OSError, OverflowError, ValueError):
                        break
                    counts["MiB of memory"] += size / 2**20
                    for encoded, breaks, encoding in needles:
                        at = data.find(encoded)
                        while 0 <= at < size:
                            following = data[at + len(encoded):at + len(encoded) + len(breaks[1])]
                            if following.startswith(breaks[0]) or following == breaks[1]:
                                text = data[max(0, at - 240):at + 480].decode(encoding, "replace")
                                if text not in seen:
                                    seen[text] = "memory"
                                    hits.append(f"memory at {position + at:#x} ({encoding}): ...{text}...")
                            at = data.find(encoded, at + 1)
                    position += size
    except OSError as error:
        hits.append(f"cannot read my own memory: {error}")
    counts["MiB of memory"] = round(counts["MiB of memory"])
    report = ", ".join(f"{value} {name}" for name, value in counts.items())
    relied_names = ", ".join(relied) or "nothing"
    if not hits:
        print(f"leak hunt in the {cell} cell (relies on {relied_names}): searched {report}: found nothing")
        return
    print(f"leak hunt in the {cell} cell (relies on {relied_names}): searched {report}: FOUND")
    for hit in hits[:40]:
        print(hit[:1200])
    raise RuntimeError(f"reference solution found in the {cell} cell: " + " || ".join(hits)[:1500])
'''


def leak_hunt(function):
    """The hunt, run when ``function``'s cell is defined, before its correct answer."""
    return [(f"def {function}(", LEAK_HUNT + f"\n_leak_hunt({function!r})\n\n\ndef {function}(")]


# (student, {grade_id: [(old, new)]}, functions that must lose points)
ATTACKS = [
    ("rt-patch-numpy", {"sigmoid_solution": [(None, PATCH_NUMPY)]}, {"sigmoid"}),
    ("rt-ipython-hooks", {"exercise2_solution": [(None, IPYTHON_HOOKS)],
                          "sigmoid_solution": [(None, WRONG_SIGMOID)]}, {"sigmoid"}),
    ("rt-replace-modules", {"propagate_solution": [(None, REPLACE_MODULES)]}, {"propagate"}),
    ("rt-fake-pass", {"predict_solution": [(None, FAKE_PASS)]}, {"predict"}),
    ("rt-read-source", {"sigmoid_solution": [(None, READ_SOURCE)]}, {"sigmoid"}),
    ("rt-network", {"sigmoid_solution": [(None, NETWORK)]}, {"sigmoid"}),
    ("rt-symlinks", {"sigmoid_solution": [(None, THROUGH_LINKS)]}, {"sigmoid"}),
    ("rt-vandal", {"initialize_with_zeros_solution": [(None, VANDAL)]}, set()),
    ("rt-linger", {"predict_solution": [(None, LINGER)]}, set()),
    ("rt-endless-loop", {"optimize_solution": [(None, ENDLESS)]}, {"optimize"}),
    ("rt-exit", {"propagate_solution": [(None, EXIT)]}, {"propagate"}),
    ("rt-out-of-memory", {"predict_solution": [(None, MEMORY)]}, {"predict"}),
    ("rt-segfault", {"initialize_with_zeros_solution": [(None, SEGFAULT)]}, {"initialize_with_zeros"}),
    ("rt-fork-bomb", {"model_solution": [(None, FORK_BOMB)]}, {"model"}),
    ("rt-leak-reference", {f"{function}_solution": leak_hunt(function)
                           for function in ("sigmoid", "propagate", "optimize", "model")}, set()),
]


def attack_edits(edits, root, port, marker):
    """The attack's edits with the placeholders replaced."""
    def fill(text):
        return text.replace("{root}", str(root)).replace("{port}", str(port)).replace("{marker}", marker)
    return {cell: [(old, fill(new)) for old, new in pairs] for cell, pairs in edits.items()}


# Attacks that fit any assignment: the whole answer cell of one graded function is replaced by a
# wrong function (it returns its first argument) that also attacks the grader. The function must
# score 0, every other one full marks. {function} and {source} are filled in per assignment.
WRONG_ANY = "def {function}(*args, **kwargs):\n    return args[0] if args else None\n"
GENERIC_ATTACKS = {
    "patch-numpy": WRONG_ANY + PATCH_NUMPY[len(WRONG_SIGMOID):],
    "fake-pass": '''def {function}(*args, **kwargs):
    print("All hidden tests of {function}() passed.")
    print("All visible {function} checks passed.")
    return args[0] if args else None
''',
    "replace-modules": WRONG_ANY + REPLACE_MODULES.split("def propagate")[0] + '''fake = types.ModuleType("sandboxed")
sys.modules["sandboxed"] = fake
sys.modules["sandboxed.wire"] = fake
sys.modules["numpy"] = fake
''',
    "read-source": '''import json
def {function}(*args, **kwargs):
    try:
        cells = json.load(open("{source}"))["cells"]
    except OSError:
        return args[0] if args else None
    answer = [c for c in cells if c["metadata"].get("nbgrader", {}).get("grade_id") == "{function}_solution"][0]
    namespace = dict(globals())
    exec("".join(answer["source"]), namespace)
    return namespace["{function}"](*args, **kwargs)
''',
    "exit": "import os\n" + WRONG_ANY.replace("    return", "    os._exit(0)\n    return"),
    "segfault": "import ctypes\n" + WRONG_ANY.replace("    return", "    ctypes.string_at(0)\n    return"),
}


def generic_attacks(functions, source):
    """(student, {answer cell: [(None, code)]}, attacked function) for an assignment, the attacks
    spread over its functions in turn; ``source`` is the instructor notebook's absolute path."""
    found = []
    for index, (name, code) in enumerate(GENERIC_ATTACKS.items()):
        function = functions[index % len(functions)]
        code = code.replace("{function}", function).replace("{source}", str(source))
        found.append((f"rt-{name}", {f"{function}_solution": [(None, code)]}, function))
    return found
