"""What plugins offer for the commune loudspeaker bulletin (the plan's weekly broadcast).

The bulletin page lists every plugin's choices beside the lessons; a choice is spoken by the
machine voice from its text, or played from audio already made and kept in media storage."""

from dataclasses import dataclass


@dataclass(frozen=True)
class BulletinChoice:
    key: str  # unique across plugins ("tin-tuc:12"): the value the form sends back
    group: str  # the heading it is listed under ("Tin tức")
    title: str  # read out before the item
    text: str = ""  # words for the machine voice, numbers and all (they are expanded)
    media_key: str | None = None  # an MP3/M4A/OGG already in media storage, played instead

    def __post_init__(self) -> None:
        if not self.key or not self.title or not (self.text or self.media_key):
            raise ValueError("a bulletin choice needs a key, a title and words or audio")
