"""The progress of `grade batch`: a bar or a line per submission, then the final table.

It writes only to the stream it is given (cli passes sys.stderr) and never exits.
"""

from __future__ import annotations

import os
from typing import Any, TextIO

from grader.batch import Event, Finished, Summary
from grader.render.escape import inert
from grader.report import STATUSES


class Progress:
    """The batch's progress on stderr: a rich bar (counts, who is being graded, ETA) on a
    terminal; a plain line per submission when not, or under CI."""

    def __init__(self, total: int, stream: TextIO) -> None:
        self.total = total
        self.stream = stream
        self.fancy = stream.isatty() and not os.environ.get("CI")
        self.bar: Any = None
        if self.fancy:
            from rich import progress
            from rich.console import Console

            self.console = Console(file=stream)
            self.bar = progress.Progress(
                progress.SpinnerColumn(),
                progress.BarColumn(),
                progress.MofNCompleteColumn(),
                progress.TimeElapsedColumn(),
                progress.TextColumn("ETA"),
                progress.TimeRemainingColumn(),
                progress.TextColumn("{task.description}", markup=False),
                console=self.console,
            )
            self.task = self.bar.add_task("", total=total)

    def __enter__(self) -> Progress:
        if self.bar is not None:
            self.bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()

    def event(self, event: Event) -> None:
        """Show one event of the batch: who is being graded now, or one that finished."""
        now = ", ".join(inert(f"{j.student} {j.exercise.id}", 60) for j in event.running)
        if not isinstance(event, Finished):
            if self.bar is not None:
                self.bar.update(self.task, description=f"grading {now}" if now else "")
            return
        r = event.report
        how = f"{r.status}, reused" if event.reused else r.status
        line = (f"[{event.done}/{event.total}] {inert(event.job.student, 60)} {r.exercise}: "
                f"{r.score:g}/{r.max_score:g} ({how})"
                + ("" if event.reused else f" {event.seconds:.1f} s"))  # fmt: skip
        if self.bar is None:
            print(line, file=self.stream, flush=True)
            return
        from rich.text import Text

        if not event.reused:
            self.bar.console.print(Text(line))
        self.bar.update(self.task, advance=1, description=f"grading {now}" if now else "")

    def summary(self, summary: Summary) -> None:
        """The end-of-batch table: per exercise, how many of each status, the mean score."""
        head = ["exercise", "students", *STATUSES, "mean score"]
        rows = []
        for k in summary.classes:
            counts = [sum(r.status == s for r in k.reports) for s in STATUSES]
            mean = sum(r.score for r in k.reports) / len(k.reports) if k.reports else 0.0
            rows.append([k.exercise, str(len(k.reports)), *map(str, counts),
                         f"{mean:.2f} / {k.max_score:g}"])  # fmt: skip
        done = (f"{summary.done} of {len(summary.plan.jobs)} submissions in "
                f"{summary.seconds:.1f} s ({summary.graded} graded now, {summary.reused} "
                f"reused); open {summary.plan.overview}")  # fmt: skip
        if self.bar is not None:
            from rich.table import Table

            table = Table(*head, title="grade batch", title_justify="left")
            for row in rows:
                table.add_row(*row)
            self.console.print(table)
            self.console.print(done, markup=False, highlight=False)
            return
        widths = [max(len(x) for x in col) for col in zip(head, *rows, strict=True)]
        for row in (head, *rows):
            print(
                "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip(),
                file=self.stream,
            )
        print(done, file=self.stream, flush=True)
