"""The ``catkit`` command: the course's main job, grading, and data tools. Run it in the course root.

    catkit demo                      generate, grade the bundled example submissions of every assignment
    catkit grade ASSIGNMENT --submissions DIR [--force] [--scheduler tcp://HOST:PORT]
    catkit serve [--status] [--scheduler tcp://HOST:PORT]   grade submissions as they arrive through the exchange
    catkit report ASSIGNMENT         the class report (reports/ASSIGNMENT.html), after grading
    catkit similarity ASSIGNMENT [--threshold T]   similar answers per function (exports/, reports/), after grading
    catkit export ASSIGNMENT --canvas CANVAS.csv --column COLUMN --out OUT.csv [--match "SIS Login ID"] [--force]
                                     the totals into the gradebook CSV Canvas exported, ready to import
    catkit examples                  rewrite the bundled example submissions after editing the notebook
    catkit student-config            the students' nbgrader_config.py: this course's id and exchange
    catkit data check [DIR]          check a data folder (default: the course's bundled one)
    catkit data synth [--out DIR] [--seed N]
    catkit data from-photos --cat DIR --non-cat DIR [--out DIR] [--test-fraction F] [--seed N]

Problems the user can fix (a :class:`~catkit.errors.CatkitError`) end with one clear message on
stderr and exit status 2; anything else is a bug in the kit and shows its traceback.
"""

from __future__ import annotations

import argparse
import functools
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from catkit.errors import CatkitError, NotGraded

if TYPE_CHECKING:  # (imported where used: nbgrader takes seconds to import, argparse's --help should not)
    from catkit.course import Course
    from catkit.nbgrader_commands import AutogradeRun
    from catkit.workflow import StudentResult


def grade(course: Course, assignment: str, submissions: str, force: bool = False, scheduler: str | None = None) -> None:
    from catkit import cluster, nbgrader_commands, workflow
    from catkit.course import SECRET_MADE

    course.notebooks(assignment)  # bad input is refused before anything is made
    workflow.find_submissions(submissions, assignment)
    try:  # made now, once, and said here (nbgrader's log, at level WARN, would not show it)
        _, made = course.secret()
    except NotGraded as error:
        raise CatkitError(str(error)) from None
    if made:
        print(f"catkit: {SECRET_MADE.format(course.secret_path)}", file=sys.stderr)
    autograde = (functools.partial(cluster.autograde, scheduler=scheduler) if scheduler
                 else nbgrader_commands.autograde)
    maxima, results, run = workflow.grade(course, assignment, submissions, force, autograde, say=_phase)
    print(workflow.table(maxima, results))
    print(f"\nAutograded notebooks: {course.autograded_dir('<student>', assignment)}/")
    print(f"Feedback:             {course.feedback_dir('<student>', assignment)}/*.html")
    export = workflow.export_path(course)
    print(f"Grades (CSV):         {export} (all assignments), "
          f"{export.with_name(f'grades_{assignment}.csv')} (points per function)")
    if any(result.graded for result in results):
        _phase("Writing the class report")
        print(f"Class report:         {class_report(course, assignment)}")
    not_graded = [result for result in results if not result.graded]
    if not_graded:
        raise CatkitError(_not_graded_message(course, assignment, submissions, results, not_graded, run))
    if run.returncode:  # every submission of this folder is graded: the failure is another one's
        print(f"catkit: warning: nbgrader autograde failed for other submissions in "
              f"{course.submitted_dir('*', assignment).parent.parent}; see {run.log}", file=sys.stderr)


def _phase(text: str) -> None:
    """One line on stderr per phase of ``catkit grade`` (nbgrader's own output goes there too)."""
    print(f"catkit: {text}...", file=sys.stderr, flush=True)


def class_report(course: Course, assignment: str) -> Path:
    from catkit import report
    return report.write(course, assignment)


def _not_graded_message(course: Course, assignment: str, submissions: str, results: Sequence[StudentResult],
                        not_graded: Sequence[StudentResult], run: AutogradeRun) -> str:
    """Who was not graded and why, where their work is, how to grade it again."""
    from catkit.course import INCOMPLETE
    reasons = "\n".join(f"  {result.student}: {result.status}" for result in not_graded)
    message = (f"{len(not_graded)} of {len(results)} submissions were not graded:\n{reasons}\n"
               f"Their work is untouched in {course.submitted_dir('<student>', assignment)}/. To grade them, "
               f"fix the cause there if it is the submission's (a renamed notebook, say), then run "
               f"'nbgrader autograde {assignment}' in {course.root}, or 'catkit grade {assignment} --submissions "
               f"{submissions}' again: submissions already graded are skipped.")
    if run.returncode:
        message += f"\nnbgrader autograde exited with status {run.returncode}; its log is {run.log}"
        if any(INCOMPLETE in result.status for result in not_graded):  # no reason known: the log may tell
            message += f", ending with:\n{run.log_tail}"
    return message


def canvas_export(course: Course, args: argparse.Namespace) -> None:
    from catkit import canvas
    filled = canvas.export(course, args.assignment, args.canvas, args.column, args.out, args.match, args.force)
    print(f"wrote {args.out}: {filled.graded} totals in {args.column!r}, {len(filled.empty)} left empty (not graded "
          "or no submission: empty, never 0)")
    if filled.not_in_canvas:
        print(f"graded but not in the Canvas file: {', '.join(filled.not_in_canvas)}")
    if filled.not_in_course:
        print(f"in the Canvas file but not in the course: {', '.join(filled.not_in_course)}")


def examples(course: Course) -> None:
    from catkit.examples import write_examples
    for assignment in course.assignments():
        for notebook in course.notebooks(assignment):
            for path in write_examples(course, assignment, notebook.name):
                print(f"wrote {path}")


def demo(course: Course) -> None:
    """Grade the bundled example submissions of every assignment that has some, in a course of
    their own (``.catkit/demo/``): the real course is left as it was."""
    from catkit import workflow
    from catkit.datasets import commands as data
    print(data.check(None, _assignment_folders(course)))
    bundled = course.root / "examples" / "submissions"
    showcase = workflow.demo_course(course)
    print(f"The demo grades the bundled examples in a course of its own, {showcase.root}: the course in "
          f"{course.root} is left as it was.")
    for assignment in showcase.assignments():
        if list(bundled.glob(f"*/{assignment}/*.ipynb")):
            print(f"\n== {assignment} ==")
            grade(showcase, assignment, str(bundled))


STUDENT_CONFIG = '''"""nbgrader settings for the students of the course {course_id}.

Save this file as ~/.jupyter/nbgrader_config.py (make the folder first: mkdir -p ~/.jupyter). Then, in
the folder where you keep your work (not inside an assignment's folder), ASSIGNMENT being its name:

    nbgrader fetch_assignment ASSIGNMENT    # makes ./ASSIGNMENT/
    nbgrader submit ASSIGNMENT              # again after any change: your latest one counts
    nbgrader fetch_feedback ASSIGNMENT      # once your instructor released it: ./ASSIGNMENT/feedback/

and in ./ASSIGNMENT/, before submitting: nbgrader validate NOTEBOOK.ipynb
"""

c = get_config()  # noqa: F821 - provided by nbgrader when it loads this file

c.CourseDirectory.course_id = {course_id!r}  # so that no command needs --course
c.Exchange.root = {root!r}  # where your instructor releases assignments and collects submissions
# Never submitted: Jupyter's autosaved copies (.ipynb_checkpoints), Python's caches, fetched feedback.
c.CourseDirectory.ignore = ['.ipynb_checkpoints', '*.pyc', '__pycache__', 'feedback']
'''


def student_config(course: Course) -> str:
    """The students' ``nbgrader_config.py`` (students/nbgrader_config.py for this repository's course):
    the course id and exchange folder the course's configuration sets."""
    from nbgrader.exchange.default import Exchange
    if not course.coursedir.course_id:
        raise CatkitError(f"{course.root / 'nbgrader_config.py'} sets no c.CourseDirectory.course_id: students "
                          "need it to fetch and submit")
    return STUDENT_CONFIG.format(course_id=course.coursedir.course_id, root=Exchange(config=course.config).root)


def _assignment_folders(course: Course) -> list[Path]:
    return [course.source_dir(assignment) for assignment in course.assignments()]


def parser() -> argparse.ArgumentParser:
    from catkit.datasets.commands import add_data_parser
    from catkit.serve.command import add_parser as add_serve_parser
    from catkit.similarity.command import add_parser as add_similarity_parser
    main = argparse.ArgumentParser(prog="catkit", description=(__doc__ or "").split("\n\n")[0])
    commands = main.add_subparsers(dest="command", required=True)
    commands.add_parser("demo", help="grade the bundled example submissions on the default data")
    commands.add_parser("examples", help="rewrite examples/submissions/ from release/ and source/")
    commands.add_parser("student-config", help="print the students' nbgrader_config.py (course id, exchange)")
    graded = commands.add_parser("grade", help="generate, autograde, feedback and export for a folder of submissions")
    graded.add_argument("assignment")
    graded.add_argument("--submissions", required=True, help="folder of <student>/<assignment>/*.ipynb")
    graded.add_argument("--force", action="store_true",
                        help="regrade every submission (by default those already graded are skipped)")
    graded.add_argument("--scheduler", metavar="tcp://HOST:PORT",
                        help="grade on this dask.distributed cluster (README: A class on several machines)")
    reported = commands.add_parser("report", help="write the class report reports/<assignment>.html (after grading)")
    reported.add_argument("assignment")
    exported = commands.add_parser("export", help="fill a column of Canvas's gradebook export with the totals")
    exported.add_argument("assignment")
    exported.add_argument("--canvas", required=True, type=Path, help="the gradebook CSV exported from Canvas")
    exported.add_argument("--column", required=True, help="the Canvas column to fill (its name, with or without "
                          "the '(id)' Canvas adds)")
    exported.add_argument("--out", required=True, type=Path, help="the CSV to write, ready to import into Canvas")
    exported.add_argument("--match", default="SIS Login ID", help="the Canvas column holding the course's student ids "
                          "(default: SIS Login ID)")
    exported.add_argument("--force", action="store_true", help="replace --out if it exists")
    add_similarity_parser(commands)
    add_serve_parser(commands)
    add_data_parser(commands)
    return main


def run(args: argparse.Namespace) -> None:
    from catkit.course import Course
    course = Course.at(Path.cwd())  # every command runs in a course root
    if args.command == "demo":
        demo(course)
    elif args.command == "examples":
        examples(course)
    elif args.command == "student-config":
        print(student_config(course), end="")
    elif args.command == "report":
        print(class_report(course, args.assignment))
    elif args.command == "grade":
        grade(course, args.assignment, args.submissions, args.force, args.scheduler)
    elif args.command == "export":
        canvas_export(course, args)
    elif args.command == "serve":
        from catkit.serve import command as serve
        serve.run(course, args)
    elif args.command == "similarity":
        from catkit.similarity import command as similarity
        similarity.run(course, args)
    else:
        from catkit.datasets import commands as data
        data.run(args, _assignment_folders(course))


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        run(args)
    except CatkitError as error:
        print(f"catkit: error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())

