"""Progress shown to the person at the terminal: one rich bar style (count, rate, elapsed, ETA) for
eval, verify, init-model and the campaign steps, and the tally that makes an eval bar count theorems
decided, so pass@k early stopping and a resume do not leave it short or starting from zero."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Sequence

from rich.console import Console
from rich.progress import (BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TaskProgressColumn, TextColumn,
                           TimeElapsedColumn, TimeRemainingColumn)

from search.records import AttemptRecord


def progress_bar(console: Console | None = None, *fields: str) -> Progress:
    """A bar with M/N, percent, elapsed and ETA; `fields` are extra task fields shown after the count
    (e.g. "proved"). Off a terminal (a log, CI) rich prints nothing until the end, so logs stay clean."""
    extra = [TextColumn(f"{f} {{task.fields[{f}]}}") for f in fields]
    return Progress(SpinnerColumn(), TextColumn("[bold]{task.description}"), BarColumn(bar_width=24), MofNCompleteColumn(),
                    TaskProgressColumn(), *extra, TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
                    console=console or Console(), transient=False)


@dataclass
class TheoremTally:
    """Which theorems of an eval are decided: proved (an early stop ends the rest of its attempts)
    or out of attempts. Built from the records already on disk, so a resumed eval starts where it was."""

    theorem_ids: Sequence[str]
    attempts: int
    stop_on_success: bool = True
    proved: set[str] = field(default_factory=set)
    tried: dict[str, set[int]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._wanted = set(self.theorem_ids)

    def add(self, rec: AttemptRecord) -> None:
        if rec.theorem_id not in self._wanted:
            return
        self.tried.setdefault(rec.theorem_id, set()).add(rec.attempt)
        if rec.proved:
            self.proved.add(rec.theorem_id)

    def extend(self, records: Iterable[AttemptRecord]) -> "TheoremTally":
        for r in records:
            self.add(r)
        return self

    def decided(self) -> int:
        return sum(1 for t in self._wanted
                   if (t in self.proved and self.stop_on_success) or len(self.tried.get(t, ())) >= self.attempts)

    def attempts_done(self) -> int:
        return sum(len(a) for a in self.tried.values())


class StepProgress:
    """A campaign step's line: "round 3 · search: 12/48 theorems" with ETA, given to Searcher.prove
    as its per-record callback. A context manager around one step."""

    def __init__(self, description: str, theorem_ids: Sequence[str], attempts: int = 1, stop_on_success: bool = True,
                 done: Iterable[AttemptRecord] = ()):
        self.tally = TheoremTally(theorem_ids, attempts, stop_on_success).extend(done)
        self.bar = progress_bar(None, "proved")
        self.task = self.bar.add_task(description, total=len(theorem_ids), completed=self.tally.decided(),
                                      proved=len(self.tally.proved))

    def __call__(self, rec: AttemptRecord) -> None:
        self.tally.add(rec)
        self.bar.update(self.task, completed=self.tally.decided(), proved=len(self.tally.proved))

    def __enter__(self) -> "StepProgress":
        self.bar.start()
        return self

    def __exit__(self, *exc) -> None:
        self.bar.stop()


class TrainProgress:
    """A training step's line ("round 3 · train: step 40/120, loss 0.41") with ETA; the instance is
    the `on_step(step, total, loss)` callback train_sft takes."""

    def __init__(self, description: str):
        self.bar = progress_bar(None, "loss")
        self.task = self.bar.add_task(description, total=None, loss="-")

    def __call__(self, step: int, total: int, loss: float) -> None:
        self.bar.update(self.task, total=total, completed=step, loss=f"{loss:.3f}")

    def __enter__(self) -> "TrainProgress":
        self.bar.start()
        return self

    def __exit__(self, *exc) -> None:
        self.bar.stop()
