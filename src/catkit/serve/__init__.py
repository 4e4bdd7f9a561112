"""``catkit serve``: grade each submission as it arrives through nbgrader's exchange, and release its feedback.

One long-running process in the course root (:mod:`catkit.serve.service`) watches the exchange's
inbound folder (:mod:`catkit.serve.inbox`), keeps one pending submission per student and
assignment, the latest, in a fair queue (:mod:`catkit.serve.queue`), and for each: copies it into
``submitted/`` (links, special files and oversized submissions refused), runs nbgrader's own
``Autograde``, ``GenerateFeedback`` and ``ExchangeReleaseFeedback`` through their Python API with
the kit's warm grading processes, and writes one line to its journal (:mod:`catkit.serve.journal`),
which makes a restart after ``kill -9`` grade what is left, and nothing twice. Submissions that
cannot be graded, or wait, get a page of their own (:mod:`catkit.serve.pages`) that the student's
stock ``nbgrader fetch_feedback`` finds.
"""
