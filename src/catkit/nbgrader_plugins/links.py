"""DropLinkedFiles: nothing a submission links to stays in its autograded folder.

Before grading, nbgrader copies a submission's files into ``autograded/`` following symbolic
links, so a link to the gradebook or to ``source/`` would leave a copy of it there. The
sandbox never shows that folder to student code, but the copy should not exist either: this
step, first in the sanitising pipeline, deletes every file that was a link in the submission.
"""

import os
from pathlib import Path

from nbgrader.preprocessors import NbGraderPreprocessor

from catkit.course import Course


class DropLinkedFiles(NbGraderPreprocessor):

    def preprocess(self, nb, resources):
        info = resources["nbgrader"]
        course = Course.of(self)
        submitted = course.submitted_dir(info["student"], info["assignment"])
        autograded = course.autograded_dir(info["student"], info["assignment"])
        for folder, _, files in os.walk(submitted):  # does not follow links to folders
            for name in files:
                link = Path(folder) / name
                copy = autograded / link.relative_to(submitted)
                if link.is_symlink() and (copy.exists() or copy.is_symlink()):
                    self.log.warning("Deleting %s: it was a symbolic link in the submission", copy)
                    copy.unlink()
        return nb, resources
