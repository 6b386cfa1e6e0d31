"""What a plugin reports when two accounts of one person are merged (the `merge_accounts` hook)."""

from dataclasses import dataclass
from typing import ClassVar

from lms.events import DomainEvent


@dataclass(frozen=True)
class MergeItem:
    """One kind of record that moves from the merged account to the kept one.

    `label` is what staff read ("Vé sự kiện"), `count` how many rows move, `note` what happens
    to rows that cannot exist twice ("2 bài học đã học ở cả hai tài khoản: giữ lần học sớm hơn")."""

    label: str
    count: int
    note: str = ""


@dataclass(frozen=True)
class AccountsMerged(DomainEvent):
    """Staff merged account `merged_id` into `kept_id`: figures computed per person may change."""

    name: ClassVar[str] = "core.accounts_merged"
    kept_id: int
    merged_id: int
