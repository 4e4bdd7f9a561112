"""The ``catkit`` command: the course's main job, grading, and data tools.

    catkit demo                      generate, grade the bundled example submissions of every assignment
    catkit grade ASSIGNMENT --submissions DIR [--force] [--scheduler tcp://HOST:PORT]
    catkit report ASSIGNMENT         the class report (reports/ASSIGNMENT.html), after grading
    catkit examples                  rewrite the bundled example submissions after editing the notebook
    catkit data check [DIR]          check a data folder (default: the one the notebook would load)
    catkit data synth [--out DIR] [--seed N]   (default DIR: source/logistic_regression/data, the bundled set)
    catkit data from-photos --cat DIR --non-cat DIR [--out DIR] [--test-fraction F] [--seed N]

Problems end with one clear message on stderr and exit status 2, never a traceback.
"""

import argparse
import os
import sys
from pathlib import Path

from catkit.errors import CatkitError

ASSIGNMENT = "logistic_regression"  # the assignment whose data set the `catkit data` tools build and check
# The bundled data set lives in the assignment's folder, so nbgrader releases it with the notebook
# (release/<assignment>/data/) and the loader, walking up from the notebook, finds it there.
BUNDLED_DATA = Path("source") / ASSIGNMENT / "data"


def _dataset_error():
    from catkit.datasets.h5io import load_lr_utils
    return load_lr_utils().DatasetError


def data_check(directory):
    from catkit.datasets.h5io import load_lr_utils
    lr_utils = load_lr_utils()
    if directory is None and not os.environ.get(lr_utils.ENV_VAR) and BUNDLED_DATA.is_dir():
        directory = str(BUNDLED_DATA)  # in the course root: the folder the instructor's notebook loads
    train_x, train_y, test_x, test_y, classes = lr_utils.load_dataset(directory)
    where = directory or "the folder the notebook finds"
    print(f"Data set OK ({where}): {train_x.shape[0]} training pictures ({int(train_y.sum())} cats), "
          f"{test_x.shape[0]} test pictures ({int(test_y.sum())} cats), {train_x.shape[1]}x{train_x.shape[2]} "
          f"pixels, classes {[c.decode() for c in classes]}")


def data_synth(out, seed):
    from catkit.datasets.synthetic import build_default
    for path in build_default(out, seed=seed):
        print(f"wrote {path}")


def data_from_photos(cat, non_cat, out, test_fraction, seed, overwrite):
    from catkit.datasets.photos import build_from_folders
    for path in build_from_folders(cat, non_cat, out, test_fraction=test_fraction, seed=seed,
                                   overwrite=overwrite):
        print(f"wrote {path}")


def grade(root, assignment, submissions, force=False, scheduler=None):
    from catkit import course
    maxima, results, run = course.grade(root, assignment, submissions, force, scheduler)
    print(course.table(maxima, results))
    print(f"\nAutograded notebooks: {Path(root) / 'autograded'}/<student>/{assignment}/")
    print(f"Feedback:             {Path(root) / 'feedback'}/<student>/{assignment}/*.html")
    print(f"Grades (CSV):         {Path(root) / 'exports' / 'grades.csv'} (all assignments), "
          f"{Path(root) / 'exports' / f'grades_{assignment}.csv'} (points per function)")
    if any(result.graded for result in results):
        print(f"Class report:         {class_report(root, assignment)}")
    not_graded = [result for result in results if not result.graded]
    if not_graded:
        raise CatkitError(_not_graded_message(root, assignment, submissions, results, not_graded, run))
    if run.returncode:  # every submission of this folder is graded: the failure is another one's
        print(f"catkit: warning: nbgrader autograde failed for other submissions in "
              f"{Path(root) / 'submitted'}; see {run.log}", file=sys.stderr)


def class_report(root, assignment):
    from catkit import report
    return report.write(root, assignment)


def _not_graded_message(root, assignment, submissions, results, not_graded, run):
    """Who was not graded and why, where their work is, how to grade it again."""
    from catkit.nbgrader_plugins.status import INCOMPLETE
    reasons = "\n".join(f"  {result.student}: {result.status}" for result in not_graded)
    message = (f"{len(not_graded)} of {len(results)} submissions were not graded:\n{reasons}\n"
               f"Their work is untouched in {Path(root) / 'submitted'}/<student>/{assignment}/. To grade them, "
               f"fix the cause there if it is the submission's (a renamed notebook, say), then run "
               f"'nbgrader autograde {assignment}' in {root}, or 'catkit grade {assignment} --submissions "
               f"{submissions}' again: submissions already graded are skipped.")
    if run.returncode:
        message += f"\nnbgrader autograde exited with status {run.returncode}; its log is {run.log}"
        if any(INCOMPLETE in result.status for result in not_graded):  # no reason known: the log may tell
            message += f", ending with:\n{run.log_tail}"
    return message


def examples(root):
    from catkit import course
    from catkit.examples import write_examples
    for assignment in course.assignments(root):
        for notebook in course.notebooks(root, assignment):
            for path in write_examples(root, assignment, notebook.name):
                print(f"wrote {path}")


def demo(root):
    """Grade the bundled example submissions of every assignment that has some."""
    from catkit import course
    root = Path(root)
    data_check(None)
    bundled = root / "examples" / "submissions"
    for assignment in course.assignments(root):
        if list(bundled.glob(f"*/{assignment}/*.ipynb")):
            print(f"\n== {assignment} ==")
            grade(root, assignment, bundled)


def parser():
    main = argparse.ArgumentParser(prog="catkit", description=__doc__.split("\n\n")[0])
    commands = main.add_subparsers(dest="command", required=True)
    commands.add_parser("demo", help="grade the bundled example submissions on the default data")
    commands.add_parser("examples", help="rewrite examples/submissions/ from release/ and source/")
    graded = commands.add_parser("grade", help="generate, autograde, feedback and export for a folder of submissions")
    graded.add_argument("assignment")
    graded.add_argument("--submissions", required=True, help="folder of <student>/<assignment>/*.ipynb")
    graded.add_argument("--force", action="store_true",
                        help="regrade every submission (by default those already graded are skipped)")
    graded.add_argument("--scheduler", metavar="tcp://HOST:PORT",
                        help="grade on this dask.distributed cluster (README: A class on several machines)")
    reported = commands.add_parser("report", help="write the class report reports/<assignment>.html (after grading)")
    reported.add_argument("assignment")
    data = commands.add_parser("data", help="data set tools").add_subparsers(dest="action", required=True)
    check = data.add_parser("check", help="check a data folder")
    check.add_argument("directory", nargs="?", default=None)
    synth = data.add_parser("synth", help="(re)build the default synthetic data set")
    synth.add_argument("--out", default=str(BUNDLED_DATA))
    synth.add_argument("--seed", type=int, default=0)
    photos = data.add_parser("from-photos", help="build a data set from folders of photos")
    photos.add_argument("--cat", required=True, help="folder of cat photos")
    photos.add_argument("--non-cat", required=True, help="folder of non-cat photos")
    photos.add_argument("--out", default=str(BUNDLED_DATA))
    photos.add_argument("--test-fraction", type=float, default=0.2)
    photos.add_argument("--seed", type=int, default=0)
    photos.add_argument("--overwrite", action="store_true", help="replace existing data files")
    return main


def run(args):
    if args.command == "demo":
        demo(Path.cwd())
    elif args.command == "examples":
        examples(Path.cwd())
    elif args.command == "report":
        print(class_report(Path.cwd(), args.assignment))
    elif args.command == "grade":
        grade(Path.cwd(), args.assignment, args.submissions, args.force, args.scheduler)
    elif args.action == "check":
        data_check(args.directory)
    elif args.action == "synth":
        data_synth(args.out, args.seed)
    else:
        data_from_photos(args.cat, args.non_cat, args.out, args.test_fraction, args.seed, args.overwrite)


def main(argv=None):
    args = parser().parse_args(argv)
    try:
        run(args)
    except (CatkitError, _dataset_error(), OSError, ValueError) as error:
        print(f"catkit: error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
