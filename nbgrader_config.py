"""nbgrader configuration of the course: stock workflow, with the kit's plugins.

Run every nbgrader command from this directory (the course root):
``nbgrader generate_assignment logistic_regression``, ``nbgrader autograde logistic_regression``,
``nbgrader generate_feedback logistic_regression``, ``nbgrader export``.
"""

import warnings

c = get_config()  # noqa: F821 - provided by nbgrader when it loads this file

# nbgrader's Gradebook.add_submission builds a SubmittedAssignment (and its SubmittedNotebooks)
# through relationships before adding it to the session; a lazy load on the way autoflushes, and
# SQLAlchemy 2 (which no longer cascades backrefs into the session) warns that the pending objects
# are "not in session". They are added and committed right after, so nothing is lost: exactly
# these warnings are silenced, any other SAWarning still shows.
warnings.filterwarnings("ignore", message=r"Object of type <Submitted(Assignment|Notebook)> not in session, "
                        r"add operation along '(Student|Assignment|Notebook)\.submissions' will not proceed")

c.CourseDirectory.course_id = "catvnoncat"

# The exchange, the folder release_assignment, fetch_assignment, submit, collect, release_feedback
# and fetch_feedback go through. nbgrader 0.9.6's default, /usr/local/share/nbgrader/exchange, only
# root can create; this one any user can, on one machine (students' accounts, or a JupyterHub, on
# the machine the instructor uses). It must exist and be writable by every student (nbgrader refuses
# otherwise): the instructor makes it once, without root, world-writable and sticky (a student then
# cannot remove or rename the course's folder in it):
#     mkdir -m 1777 /var/tmp/nbgrader-exchange
# (if it is missing, release_assignment creates it itself, 0777 without the sticky bit). nbgrader then
# makes <root>/catvnoncat/ with outbound/ (0755: the releases, readable by all), inbound/ (2733:
# students drop submissions there and cannot list them) and, at release_feedback, feedback/ (0711).
# Students name the same folder and course id in their ~/.jupyter/nbgrader_config.py
# (students/nbgrader_config.py; `catkit student-config` prints it for the values set here). Elsewhere
# (an administrator's `sudo install -d -m 1777 /srv/nbgrader/exchange`, a file system every students'
# server mounts at the same path; some systems, Ubuntu's, empty /var/tmp of files untouched for 30
# days): change it here and give students the new `catkit student-config`.
c.Exchange.root = "/var/tmp/nbgrader-exchange"
# lr_utils.py and images/ travel with the notebook; nothing else from source/ is released.
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback"]

# Autograde, sanitising: the instructor's cells come back whatever the submission did to them.
c.Autograde.sanitize_preprocessors = [
    "catkit.nbgrader_plugins.links.DropLinkedFiles",
    "nbgrader.preprocessors.ClearOutput",
    "nbgrader.preprocessors.DeduplicateIds",
    "nbgrader.preprocessors.OverwriteKernelspec",
    "catkit.nbgrader_plugins.restore.RestoreGradedCells",
    # nbgrader's OverwriteCells, minus its false "checksum has changed" warning for every released
    # hidden-test cell (see catkit/nbgrader_plugins/overwrite.py); real changes still warn.
    "catkit.nbgrader_plugins.overwrite.OverwriteCellsQuietly",
    "nbgrader.preprocessors.CheckCellMetadata",
]
c.OverwriteCells.add_missing_cells = True

# Autograde, grading: each function is scored on its own, in a sandbox, by code the
# submission cannot reach (see catkit/nbgrader_plugins/execute.py), instead of nbgrader's
# Execute, which runs the whole notebook in the student's kernel.
c.Autograde.autograde_preprocessors = [
    "catkit.nbgrader_plugins.execute.IsolatedExecute",
    "nbgrader.preprocessors.IgnorePattern",
    "nbconvert.preprocessors.ClearMetadataPreprocessor",
    "nbgrader.preprocessors.LimitOutput",
    # The autograded notebook holds no output or raw cell that a viewer would run (untrusted.py).
    "catkit.nbgrader_plugins.untrusted.NeutraliseSubmission",
    "nbgrader.preprocessors.SaveAutoGrades",
    "nbgrader.preprocessors.AssignLatePenalties",
    "nbgrader.preprocessors.CheckCellMetadata",
    "catkit.nbgrader_plugins.resume.MarkGraded",  # last: the stamp says "completely graded"
]
# A run that was killed is finished by the same command: submissions whose grading was
# interrupted (no MarkGraded stamp) are removed from autograded/ first, and graded again.
c.Autograde.exporter_class = "catkit.nbgrader_plugins.resume.ResumableExporter"
c.IsolatedExecute.sandbox = "auto"  # "bwrap" to refuse grading without the sandbox
c.IsolatedExecute.cgroups = "auto"  # a control group per sandbox; "required" to refuse without
c.IsolatedExecute.timeout = 30      # seconds per call of a student's function
c.IsolatedExecute.submission_budget = 60  # seconds for all test cells of a submission (fair shares)
c.IsolatedExecute.memory_limit_mb = 1536  # per sandbox, everything it starts included
c.IsolatedExecute.max_processes = 32      # per sandbox, its own (not shared with other users' processes)
c.IsolatedExecute.workers = 0       # grading processes working ahead of nbgrader; 0: one per core
# Grade on a dask.distributed cluster instead of local grading processes: nbgrader stays here, each
# submission is graded by a Dask worker with the sandbox of its own machine (bubblewrap, control
# groups, resolved there). Equivalent: `nbgrader autograde A --IsolatedExecute.scheduler=tcp://...`.
# `catkit grade A --submissions DIR --scheduler tcp://...` also runs one nbgrader per worker when the
# gradebook is PostgreSQL (README: "A class on several machines").
# c.IsolatedExecute.scheduler = "tcp://grader-0.example.org:8786"
# Hidden tests draw their inputs from this secret (made on first grading; keep it, never release it).
c.IsolatedExecute.secret_file = ".catkit/course_secret"

# Where a notebook does run in a kernel (nbgrader validate, or autograde with the stock
# Execute), the long demonstrations tagged "autograde-skip" are skipped.
c.Execute.skip_cells_with_tag = "autograde-skip"

# `catkit serve` (README: "Feedback on submission"): grades each submission as it arrives in the
# exchange and releases its feedback. Its settings, with their defaults:
# c.Serve.poll_seconds = 0.25       # how often the inbound folder is looked at
# c.Serve.min_interval = 0          # rate limit: seconds between two gradings of one student's
#                                   # submissions of an assignment (0: off); later ones wait, and
#                                   # the student's fetch_feedback says until when
# c.Serve.max_submission_mb = 100   # a larger submission (all its files) is not graded: it says why
# c.Serve.check_owner = True        # grade only submissions owned by the student they name

# Feedback: points per function on top, verdicts and messages, never the hidden tests; a progress
# bar (a line every 5 notebooks when stderr is not a terminal), as autograde has.
c.GenerateFeedback.preprocessors = [
    "catkit.nbgrader_plugins.feedback.FeedbackProgress",
    "nbgrader.preprocessors.GetGrades",
    "catkit.nbgrader_plugins.feedback.FunctionScores",
    "catkit.nbgrader_plugins.feedback.HideHiddenTests",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]
# Feedback pages open in a browser: no script or event handler from a submission may run there, and
# they load nothing. nbgrader's feedback template renders markdown cells without nbconvert's
# sanitize_html, so this exporter cleans the rendered markdown and the outputs (bleach: the
# instructor's cells keep the table above, headings, maths, code and images; a submission's text is
# framed, without class, id, style, link or image; see catkit/nbgrader_plugins/safe_html.py), and
# draws the maths, a submission's within a budget (catkit/nbgrader_plugins/maths.py).
c.GenerateFeedback.exporter_class = "catkit.nbgrader_plugins.safe_html.SanitizingHTMLExporter"

# The formgrader shows a submission with nbconvert's HTMLExporter (its class is fixed, its settings come
# from here): markdown rendered by the kit's SafeMarkdown (the instructor's cells as written, anything
# the submission wrote cleaned, framed and labelled, links and images shown as text), outputs and raw
# cells cleaned, no JavaScript or widget output. The feedback's exporter keeps its own renderer.
c.HTMLExporter.sanitize_html = True
c.HTMLExporter.filters = {
    "markdown2html": "catkit.nbgrader_plugins.safe_markdown.SafeMarkdown",
    "clean_html": "catkit.nbgrader_plugins.safe_markdown.clean_output",
    # printed output and tracebacks without control characters, long lines wrapped inside their box
    "ansi2html": "catkit.nbgrader_plugins.formgrader.wrapped_text",
}
# The formgrader's page of a submission opens with its points per function (from the gradebook), each
# test cell's points linked to its score box, and what went wrong (catkit/nbgrader_plugins/formgrader.py).
c.HTMLExporter.preprocessors = ["catkit.nbgrader_plugins.formgrader.FunctionPoints"]

# nbgrader export: one row per student, one column per function (sigmoid ... model), total.
c.ExportApp.plugin_class = "catkit.nbgrader_plugins.export.PerFunctionCsvExport"
