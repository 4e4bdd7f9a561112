"""nbgrader settings for the students of the course catvnoncat.

Save this file as ~/.jupyter/nbgrader_config.py (make the folder first: mkdir -p ~/.jupyter). Then, in
the folder where you keep your work (not inside an assignment's folder), ASSIGNMENT being its name:

    nbgrader fetch_assignment ASSIGNMENT    # makes ./ASSIGNMENT/
    nbgrader submit ASSIGNMENT              # again after any change: your latest one counts
    nbgrader fetch_feedback ASSIGNMENT      # once your instructor released it: ./ASSIGNMENT/feedback/

and in ./ASSIGNMENT/, before submitting: nbgrader validate NOTEBOOK.ipynb
"""

c = get_config()  # noqa: F821 - provided by nbgrader when it loads this file

c.CourseDirectory.course_id = 'catvnoncat'  # so that no command needs --course
c.Exchange.root = '/var/tmp/nbgrader-exchange'  # where your instructor releases assignments and collects submissions
# Never submitted: Jupyter's autosaved copies (.ipynb_checkpoints), Python's caches, fetched feedback.
c.CourseDirectory.ignore = ['.ipynb_checkpoints', '*.pyc', '__pycache__', 'feedback']
