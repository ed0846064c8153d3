"""Parts of a job's source that could not be read (a static catalog's dead child link, say).

They belong to no item, so they are kept on the job row: how many, and the first few in full. A
job with any of them cannot have fully succeeded (`shared.jobs.states.derive_job_state`).

Recording is idempotent per plan page: `through_page` is the last page whose problems were counted,
and a page at or before it (a redelivered or redriven plan message) adds nothing. Pages are
recorded in order because the planner records a page's problems before it sends the next page.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

# Enough to show what kind of breakage it is; the count says how much.
MAX_KEPT: Final = 20
# Each kept message; the job row's property must stay far below a Table property's 32 K chars.
MAX_MESSAGE_CHARS: Final = 500


@dataclass(frozen=True)
class JobProblem:
    code: str
    # Without query string (a SAS never reaches the job record).
    url: str | None
    message: str


@dataclass(frozen=True)
class SourceProblems:
    count: int = 0
    first: tuple[JobProblem, ...] = ()
    through_page: int = -1

    def add(self, page: int, problems: Sequence[JobProblem]) -> SourceProblems:
        """These problems found on plan page `page`; unchanged for a page already counted."""
        if page <= self.through_page or not problems:
            return self
        kept = list(self.first)
        for problem in problems:
            if len(kept) >= MAX_KEPT:
                break
            kept.append(JobProblem(problem.code, problem.url, problem.message[:MAX_MESSAGE_CHARS]))
        return SourceProblems(self.count + len(problems), tuple(kept), page)

    def to_json(self) -> str:
        return json.dumps(
            {
                "count": self.count,
                "throughPage": self.through_page,
                "first": [{"code": p.code, "url": p.url, "message": p.message} for p in self.first],
            },
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, text: str | None) -> SourceProblems:
        if not text:
            return cls()
        body: dict[str, Any] = json.loads(text)
        return cls(
            count=int(body.get("count", 0)),
            first=tuple(
                JobProblem(str(p["code"]), p.get("url"), str(p.get("message", "")))
                for p in body.get("first", [])
            ),
            through_page=int(body.get("throughPage", -1)),
        )
