"""The exchange as the README sets it up, and the students' side of it.

The course's ``nbgrader_config.py`` names its exchange folder explicitly (nbgrader's default,
``/usr/local/share/nbgrader/exchange``, only root can create); the students' configuration shipped in
``students/nbgrader_config.py`` (what ``catkit student-config`` prints) names the same folder and the
course id. With real nbgrader commands, in temporary folders only (the exchange too): the instructor
releases, and a student whose ``~/.jupyter/nbgrader_config.py`` is the shipped file (its exchange
folder alone replaced by the temporary one) runs the commands of the README's student section as
written, no ``--course``: fetch, validate, submit (with Jupyter's ``.ipynb_checkpoints/`` in the
folder, which must not reach the submission), and after grading fetch_feedback. As root, the same
set-up runs as two users who are not root: an instructor who makes the exchange with the README's
``mkdir`` and a student.
"""

import functools
import os
import pwd
import re
import shlex
import shutil
import stat
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

import nbformat
import pytest
from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader

from catkit import submissions
from catkit.cli import student_config
from catkit.course import Course
from catkit.errors import CatkitError
from conftest import ASSIGNMENT, NOTEBOOK, REPO, SOURCE_NB, catkit, gradebook_scores, make_course, read
from processes import owned_folder

COURSE_ID = "catvnoncat"
STUDENTS_CONFIG = REPO / "students" / "nbgrader_config.py"
README = (REPO / "README.md").read_text()
NBGRADER_DEFAULT_ROOT = "/usr/local/share/nbgrader/exchange"
BIN = os.path.dirname(sys.executable)
SITE = sysconfig.get_paths()["purelib"]  # this environment's packages (the kit, installed editable, too)
# Jupyter's autosaved copies, as Jupyter names them, in the assignment's folder and a folder of it.
CHECKPOINTS = [f".ipynb_checkpoints/{Path(NOTEBOOK).stem}-checkpoint.ipynb",
               ".ipynb_checkpoints/lr_utils-checkpoint.py",
               "images/.ipynb_checkpoints/notes-checkpoint.ipynb"]


def configured(path):
    return PyFileConfigLoader(path.name, path=str(path.parent)).load_config()


def course_root_setting():
    """The course's exchange folder as its nbgrader_config.py sets it (None if it does not)."""
    return configured(REPO / "nbgrader_config.py").get("Exchange", Config()).get("root")


def students_file(exchange):
    """The shipped students' configuration, its exchange folder alone replaced by ``exchange``."""
    text = STUDENTS_CONFIG.read_text()
    setting = f"c.Exchange.root = {course_root_setting()!r}"
    assert text.count(setting) == 1, text
    return text.replace(setting, f"c.Exchange.root = {str(exchange)!r}")


def section(title):
    return README.split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0]


def students_commands():
    """The commands of the README's student section, as a student types them: ['cd', dir] or ['nbgrader', ...]."""
    block = re.search(r"```bash\n(.*?)```", section("For students"), re.S)
    assert block, "the README's student section has no ```bash block of commands"
    lines = (line.split("#", 1)[0].strip() for line in block.group(1).splitlines())
    return [shlex.split(line) for line in lines if line]


def environment(home):
    """A user's environment: their own home (so ~/.jupyter is theirs), no Jupyter path from ours."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("JUPYTER") and k != "CATVNONCAT_DATA"}
    env.update(HOME=str(home), PATH=BIN + os.pathsep + env.get("PATH", ""))
    return env


def run(cwd, home, *args, check=True, user=None):
    """``nbgrader *args`` in ``cwd`` with this home, as ``user`` if given: (exit status, output)."""
    if user is None:
        return command(cwd, home, [os.path.join(BIN, "nbgrader"), *args], check)
    # Another user may not reach this interpreter (a pyenv build under /root, say): the same Python
    # version that every user can run, with this environment's packages and nothing else.
    boot = (f"import site, sys; site.addsitedir({SITE!r}); "
            "from nbgrader.apps.nbgraderapp import main; sys.exit(main())")
    return command(cwd, home, [python_for_others(), "-I", "-S", "-c", boot, *args], check, user)


def command(cwd, home, command, check=True, user=None):
    as_user = {}
    if user is not None:
        account = pwd.getpwnam(user)
        as_user = {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}
        env = {**environment(home), "USER": user, "LOGNAME": user}
    else:
        env = environment(home)
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=600, **as_user)
    output = result.stdout + result.stderr
    if check:
        assert result.returncode == 0, f"{' '.join(command)}:\n{output[-4000:]}"
    return result.returncode, output


def make_checkpoints(folder):
    """What Jupyter leaves in a folder where notebooks were open and saved."""
    for name in CHECKPOINTS:
        path = folder / name
        path.parent.mkdir(exist_ok=True)
        original = folder / path.name.replace("-checkpoint", "")
        path.write_bytes(original.read_bytes() if original.exists() else b"{}")


def files_in(folder):
    return sorted(path.relative_to(folder).as_posix() for path in folder.rglob("*"))


def submission_in(exchange):
    """The one submission in the exchange's inbound folder."""
    found = list((exchange / COURSE_ID / "inbound").iterdir())
    assert len(found) == 1, found
    return found[0]


def mode(path):
    return stat.S_IMODE(path.stat().st_mode)


# --- the configuration, as written --------------------------------------------------------------

def test_the_course_names_its_exchange_explicitly_and_not_nbgraders_default():
    root = course_root_setting()
    assert root, "nbgrader_config.py sets no c.Exchange.root: nbgrader's default needs root to create"
    from nbgrader.exchange.default import Exchange
    assert Exchange(config=Config()).root == NBGRADER_DEFAULT_ROOT != root
    parent = Path(root).parent  # any user can make the folder there: /var/tmp, writable by all and sticky
    assert os.path.isabs(root) and parent.is_dir() and mode(parent) & 0o1002 == 0o1002, (root, oct(mode(parent)))
    # The README gives the same folder, its command and nbgrader's true default; the old claim is gone.
    assert f'c.Exchange.root = "{root}"' in README and f"\n    mkdir -m 1777 {root}\n" in README
    assert NBGRADER_DEFAULT_ROOT in README and "/srv/nbgrader/exchange` by" not in README


def test_the_students_file_names_the_course_its_exchange_and_keeps_checkpoints_out():
    config = configured(STUDENTS_CONFIG)
    course = Course.at(REPO)
    assert config.CourseDirectory.course_id == course.coursedir.course_id == COURSE_ID
    assert config.Exchange.root == course_root_setting()
    assert "ignore" in config.CourseDirectory, "the students' file sets no c.CourseDirectory.ignore"
    assert ".ipynb_checkpoints" in config.CourseDirectory.ignore
    assert "feedback" in config.CourseDirectory.ignore  # a fetched feedback/ folder is not submitted back
    assert STUDENTS_CONFIG.read_text() == student_config(course)  # what `catkit student-config` prints


def test_student_config_follows_the_course_configuration(tmp_path):
    extra = "\nc.CourseDirectory.course_id = 'cats-2025'\nc.Exchange.root = '/data/shared/exchange'\n"
    (tmp_path / "nbgrader_config.py").write_text((REPO / "nbgrader_config.py").read_text() + extra)
    printed = tmp_path / "printed_config.py"
    printed.write_text(student_config(Course.at(tmp_path)))
    config = configured(printed)
    assert (config.CourseDirectory.course_id, config.Exchange.root) == ("cats-2025", "/data/shared/exchange")
    (tmp_path / "nbgrader_config.py").write_text("c = get_config()\n")
    with pytest.raises(CatkitError, match="no c.CourseDirectory.course_id"):
        student_config(Course.at(tmp_path))


@pytest.mark.slow
def test_catkit_student_config_prints_the_shipped_file():
    result = catkit("student-config", cwd=REPO)
    assert result.returncode == 0, result.stderr
    assert result.stdout == STUDENTS_CONFIG.read_text()


def test_the_readme_gives_students_the_exact_commands():
    assert students_commands() == [
        ["nbgrader", "fetch_assignment", ASSIGNMENT],
        ["cd", ASSIGNMENT],
        ["nbgrader", "validate", NOTEBOOK],
        ["cd", ".."],
        ["nbgrader", "submit", ASSIGNMENT],
        ["nbgrader", "fetch_feedback", ASSIGNMENT],
    ]
    text = section("For students")
    assert "students/nbgrader_config.py" in text and "~/.jupyter/nbgrader_config.py" in text


# --- the students' commands, through a real exchange ------------------------------------------

@pytest.fixture(scope="module")
def trip(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("exchange-setup")
    exchange = tmp / "exchange"
    exchange.mkdir()
    exchange.chmod(0o1777)  # the README's `mkdir -m 1777`
    root = make_course(tmp / "course", f"\nc.Exchange.root = {str(exchange)!r}\n")
    teacher, student = tmp / "teacher-home", tmp / "student-home"
    work = student / "work"
    for folder in (teacher, work, student / ".jupyter"):
        folder.mkdir(parents=True)
    (student / ".jupyter" / "nbgrader_config.py").write_text(students_file(exchange))

    log = {"release_assignment": run(root, teacher, "release_assignment", ASSIGNMENT)[1]}
    seen = {}
    cwd = work
    for typed in students_commands():
        if typed[0] == "cd":
            cwd = (cwd / typed[1]).resolve()
            continue
        step = typed[1]
        if step == "validate":  # the student answered, Jupyter saved (and left its checkpoints)
            notebook = work / ASSIGNMENT / NOTEBOOK
            nbformat.write(submissions.fill(read(notebook), read(SOURCE_NB)), notebook)
            make_checkpoints(work / ASSIGNMENT)
        if step == "fetch_feedback":  # the instructor's part
            seen["submission"] = files_in(submission_in(exchange))
            for instructor in ("collect", "autograde", "generate_feedback", "release_feedback"):
                log[instructor] = run(root, teacher, instructor, ASSIGNMENT)[1]
        log[step] = run(cwd, student, *typed[1:])[1]
    return root, exchange, work, log, seen


@pytest.mark.slow
def test_the_readme_commands_fetch_validate_submit_and_fetch_feedback_without_course_flag(trip):
    root, _, work, log, _ = trip
    assert (work / ASSIGNMENT / NOTEBOOK).is_file()
    assert "Success! Your notebook passes all the tests." in log["validate"]
    assert gradebook_scores(root)["root"]["total"] == 20
    pages = list((work / ASSIGNMENT / "feedback").glob(f"*/{Path(NOTEBOOK).stem}.html"))
    assert len(pages) == 1, log["fetch_feedback"]
    assert "Score: 20.0 / 20.0" in pages[0].read_text()


@pytest.mark.slow
def test_checkpoints_stay_out_of_the_submission(trip):
    root, _, work, log, seen = trip
    assert all((work / ASSIGNMENT / name).is_file() for name in CHECKPOINTS)  # they were there
    assert NOTEBOOK in seen["submission"] and "lr_utils.py" in seen["submission"]
    assert not [name for name in seen["submission"] if ".ipynb_checkpoints" in name], seen["submission"]
    collected = files_in(root / "submitted" / "root" / ASSIGNMENT)
    assert NOTEBOOK in collected and not [name for name in collected if ".ipynb_checkpoints" in name], collected
    # nbgrader's own warning still counts the copy it does not send (the README tells students so).
    assert f".ipynb_checkpoints/{Path(NOTEBOOK).stem}-checkpoint.ipynb: EXTRA" in log["submit"], log["submit"]


@pytest.mark.slow
def test_the_exchange_has_the_modes_the_readme_gives(trip):
    _, exchange, _, log, _ = trip
    assert mode(exchange) == 0o1777, oct(mode(exchange))  # release_assignment kept the sticky bit
    assert "Permissions for exchange directory" not in log["release_assignment"]
    course = exchange / COURSE_ID
    assert {name: oct(mode(course / name)) for name in ("", "outbound", "inbound", "feedback")} == {
        "": "0o755", "outbound": "0o755", "inbound": "0o2733", "feedback": "0o711"}


@pytest.mark.slow
def test_without_the_students_file_fetch_fails_for_want_of_a_course_id(trip, tmp_path):
    _, exchange, _, _, _ = trip
    (tmp_path / "home").mkdir()
    status, output = run(tmp_path, tmp_path / "home", "fetch_assignment", ASSIGNMENT,
                         f"--Exchange.root={exchange}", check=False)
    assert status != 0 and "No course id specified" in output, output


# --- an instructor and a student who are not root -----------------------------------------------

def reachable(path):
    """Whether every user can reach ``path`` (every folder down to it lets others through)."""
    path = Path(path).resolve()
    return path.exists() and all(p.stat().st_mode & stat.S_IXOTH for p in [path, *path.parents])


@functools.cache
def python_for_others():
    """An interpreter of this Python version that users other than root can run, or None."""
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    for candidate in (sys.executable, f"/usr/local/bin/python{version}", f"/usr/bin/python{version}"):
        if reachable(candidate) and os.path.isfile(candidate):
            found = subprocess.run([candidate, "-I", "-S", "-c", "import sys; print(sys.version_info[:2])"],
                                   capture_output=True, text=True, timeout=60).stdout.strip()
            if found == str(sys.version_info[:2]):
                return os.path.realpath(candidate)
    return None


def attempt(user, call, *paths):
    """Call ``os.<call>(*paths)`` as ``user``: the name of the error it raised, or 'done'."""
    code = (f"import os, sys\ntry:\n    {call}(*sys.argv[1:])\nexcept OSError as error:\n"
            "    print(type(error).__name__)\nelse:\n    print('done')")
    account = pwd.getpwnam(user)
    result = subprocess.run([python_for_others(), "-I", "-S", "-c", code, *map(str, paths)], capture_output=True,
                            text=True, user=account.pw_uid, group=account.pw_gid, extra_groups=[], timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@pytest.fixture
def shared():
    """A temporary folder other users can reach, sticky and writable by all like /var/tmp; removed after."""
    parent = tempfile.gettempdir() if reachable(tempfile.gettempdir()) else "/tmp"
    folder = owned_folder("catkit-exchange-", parent)
    folder.chmod(0o1777)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.slow
@pytest.mark.root
@pytest.mark.skipif(os.geteuid() != 0, reason="runs commands as two other users: needs root")
def test_an_instructor_and_a_student_who_are_not_root(shared):
    if python_for_others() is None or not reachable(SITE):
        pytest.skip(f"no Python {sys.version_info[0]}.{sys.version_info[1]} that other users can run, or they "
                    f"cannot reach {SITE}")
    instructor, student = "daemon", "nobody"
    for user in (instructor, student):
        assert pwd.getpwnam(user).pw_uid != 0
    exchange = shared / "exchange"
    root = make_course(shared / "course", f"\nc.Exchange.root = {str(exchange)!r}\n")
    homes = {user: shared / f"{user}-home" for user in (instructor, student)}
    (homes[student] / ".jupyter").mkdir(parents=True)
    (homes[student] / ".jupyter" / "nbgrader_config.py").write_text(students_file(exchange))
    (homes[student] / "work").mkdir()
    homes[instructor].mkdir()
    for user, folders in ((instructor, [root, homes[instructor]]), (student, [homes[student]])):
        for folder in folders:
            for path in [folder, *folder.rglob("*")]:
                os.chown(path, pwd.getpwnam(user).pw_uid, pwd.getpwnam(user).pw_gid)

    # The instructor makes the exchange with the README's command, then releases.
    made = re.search(r"\n    (mkdir -m 1777 )(\S+)\n", section("For instructors"))
    assert made and made.group(2) == course_root_setting(), "the README's mkdir of the exchange"
    command(shared, homes[instructor], [*shlex.split(made.group(1)), str(exchange)], user=instructor)
    run(root, homes[instructor], "release_assignment", ASSIGNMENT, user=instructor)
    assert exchange.stat().st_uid == pwd.getpwnam(instructor).pw_uid and mode(exchange) == 0o1777

    work = homes[student] / "work"
    run(work, homes[student], "fetch_assignment", ASSIGNMENT, user=student)
    make_checkpoints(work / ASSIGNMENT)
    for path in (work / ASSIGNMENT).rglob(".ipynb_checkpoints"):
        for made_path in [path, *path.iterdir()]:
            os.chown(made_path, pwd.getpwnam(student).pw_uid, pwd.getpwnam(student).pw_gid)
    run(work, homes[student], "submit", ASSIGNMENT, user=student)
    # The student can neither list the submissions nor move the course's folder away (the sticky bit).
    assert attempt(student, "os.listdir", exchange / COURSE_ID / "inbound") == "PermissionError"
    assert attempt(student, "os.rename", exchange / COURSE_ID, exchange / "elsewhere") == "PermissionError"

    run(root, homes[instructor], "collect", ASSIGNMENT, user=instructor)
    collected = files_in(root / "submitted" / student / ASSIGNMENT)
    assert NOTEBOOK in collected and not [name for name in collected if ".ipynb_checkpoints" in name], collected
