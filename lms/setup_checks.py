"""What an installation still needs before people can use it: the first-run guide's check page.

The core checks its own parts (places, villages, staff, keys, address); each plugin adds its
own through the hook `setup_checks` (a course for every audience, say)."""

from dataclasses import dataclass

SHOWN_NAMES = 5  # places named in one check; the rest are counted


def some_names(names: list[str]) -> str:
    """"Xã A, Xã B và 3 nơi khác": the first few names, the rest counted."""
    more = len(names) - SHOWN_NAMES
    return ", ".join(names[:SHOWN_NAMES]) + (f" và {more} nơi khác" if more > 0 else "")


@dataclass(frozen=True)
class SetupCheck:
    """One thing the check page looks at.

    `done` False and `advice` False: something is missing (listed first, counted).
    `advice` True: worth knowing, not missing (an installation without an SMS gateway works)."""

    title: str
    done: bool
    detail: str = ""
    href: str = ""  # where to put it right
    action: str = ""  # the link's text
    advice: bool = False
    order: int = 50

    @property
    def missing(self) -> bool:
        return not self.done and not self.advice
