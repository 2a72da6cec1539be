"""Which slice of a class a shard grades: `--shard K/N`, by a hash of each student's id.

A student belongs to shard `sha256(id) mod N + 1`: the same on every machine and whatever
order the class folder is listed in, and a student added to the class moves no other
student to another shard (sorted ids dealt round-robin would move every one after them).
The price is slices of uneven size in a small class; a shard may hold no student at all,
and then writes an empty class. With `grade batch all`, a student's exercises stay in one
shard: the id alone decides.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass

from grader.errors import UsageError

_FORM = re.compile(r"\s*(\d+)\s*/\s*(\d+)\s*")


@dataclass(frozen=True)
class Shard:
    """The `index`-th (from 1) of `count` slices of a class."""

    index: int
    count: int

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    def holds(self, student: str) -> bool:
        return of(student, self.count) == self.index


def of(student: str, count: int) -> int:
    """The shard (1 to `count`) that grades `student`. The id is NFC-normalised first: a
    Mac writes "é" in a folder name as two code points, Linux keeps what it is given."""
    name = unicodedata.normalize("NFC", student).encode("utf-8", "surrogateescape")
    return int.from_bytes(hashlib.sha256(name).digest()[:8], "big") % count + 1


def parse(text: str) -> Shard:
    """`K/N` as a Shard.

    Raises:
        UsageError: not two whole numbers with 1 <= K <= N.
    """
    m = _FORM.fullmatch(text)
    if m is None or not 1 <= int(m[1]) <= int(m[2]):
        raise UsageError(
            f"--shard {text!r} is not a slice of the class: give K/N with 1 <= K <= N, as "
            "in '--shard 2/4' (the second of four shards); run the N shards, each with its "
            "own --out, then join them with 'grade merge'."
        )
    return Shard(int(m[1]), int(m[2]))
