"""Progress of a class being graded (or its feedback written): a bar on a terminal, a log line
every few items elsewhere.

On a terminal the bar (tqdm) shows done / total, the rate and the time left, and nbgrader's own
log lines are written above it instead of through it. When stderr is not a terminal (CI logs,
the formgrader's log), a plain line every ``every`` items says the same ("Graded 10/40 submissions
(...)", or what ``done`` and ``unit`` say).
"""

import logging
import os
import sys
import time

from tqdm import tqdm


class _AboveTheBar:
    """A stream for logging handlers that writes above the progress bar."""

    def __init__(self, stream):
        self.stream = stream

    def write(self, text):
        tqdm.write(text, file=self.stream, end="")

    def flush(self):
        self.stream.flush()


class _WhateverTheirLevel(logging.Handler):
    """Hands each record to the handlers ``logger``'s records reach (its own and its ancestors'),
    past their level: nbgrader sets its console handler (and log file) to the command's
    --log-level, WARN when ``catkit grade`` runs it, which would hide every progress line."""

    def __init__(self, logger):
        super().__init__(logging.INFO)
        self.logger = logger

    def emit(self, record):
        logger = self.logger
        while logger is not None:
            for handler in logger.handlers:
                handler.handle(record)  # (a handler's level is checked by the logger, not here)
            logger = logger.parent if logger.propagate else None


class Progress:
    def __init__(self, total, log, every=5, stream=None, desc="Grading", unit="submission", done="Graded"):
        self.total, self.every = total, every
        self.unit, self.done_word = unit, done
        # Its own logger at INFO: the lines show even when nbgrader runs with --log-level=WARN.
        self.log = log.getChild("progress") if isinstance(log, logging.Logger) else log
        if isinstance(self.log, logging.Logger):
            self.log.setLevel(logging.INFO)
            self.log.handlers = [_WhateverTheirLevel(log)]
            self.log.propagate = False
        self.stream = stream or sys.stderr
        self.done, self.start = 0, time.monotonic()
        self.bar = None
        self._handlers = []
        if total > 0 and self._terminal_width() > 0:
            self.bar = tqdm(total=total, unit=unit, desc=desc, file=self.stream, dynamic_ncols=True,
                            smoothing=0)  # the rate and time left from the whole run so far
            for handler in self._stream_handlers(log):
                self._handlers.append((handler, handler.stream))
                handler.setStream(_AboveTheBar(handler.stream))

    def _terminal_width(self):
        """Columns of the terminal on the stream; 0 when it is not one (or has no size)."""
        try:
            return os.get_terminal_size(self.stream.fileno()).columns if self.stream.isatty() else 0
        except (OSError, ValueError, AttributeError):
            return 0

    @staticmethod
    def _stream_handlers(log):
        logger = log if isinstance(log, logging.Logger) else getattr(log, "logger", None)
        handlers = []
        while logger is not None:
            handlers += [h for h in logger.handlers if isinstance(h, logging.StreamHandler)
                         and getattr(h, "stream", None) in (sys.stderr, sys.stdout)]
            logger = logger.parent if logger.propagate else None
        return handlers

    def advance(self):
        self.done += 1
        if self.bar is not None:
            self.bar.update(1)
            if self.done >= self.total:
                self.close()
        elif self.done % self.every == 0 or self.done == self.total:
            elapsed = time.monotonic() - self.start
            rate = self.done / elapsed if elapsed > 0 else 0.0
            left = (self.total - self.done) / rate if rate > 0 else 0.0
            self.log.info("%s %d/%d %ss (%.1f per minute, about %.0f s left)",
                          self.done_word, self.done, self.total, self.unit, 60 * rate, left)

    def close(self):
        if self.bar is not None:
            self.bar.close()
            self.bar = None
        for handler, stream in self._handlers:
            handler.setStream(stream)
        self._handlers = []
