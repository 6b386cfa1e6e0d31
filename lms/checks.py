"""What a checker of files people write (course packs, the FAQ pack) reports: where, and what
is wrong, in Vietnamese."""

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Problem:
    path: Path
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"
