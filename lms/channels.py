"""What plugins publish to the commune's channels (the plan's §II.2) and what they offer as
evidence of a plan task done (§III).

Feeds, the portal widget, the hall's screen and the commune page all list ChannelItem entries
gathered from every plugin; the plan's follow-up links a task to EvidenceChoice entries."""

from dataclasses import dataclass
from datetime import datetime

# Kinds a channel knows, with the words shown for each.
KIND_LABELS = {
    "news": "Tin tức",
    "course": "Khóa học",
    "event": "Sự kiện",
    "model": "Mô hình tiêu biểu",
}


@dataclass(frozen=True)
class ChannelItem:
    kind: str  # one of KIND_LABELS
    key: str  # unique across plugins and stable ("tin-tuc:12"): a feed entry's id is made from it
    title: str
    summary: str  # plain text, a sentence or two
    url: str  # path on this site, starting with "/"
    published: datetime  # aware, UTC
    updated: datetime  # aware, UTC; a feed entry changes when this does
    commune_id: int | None = None  # None: for the whole installation
    starts_at: datetime | None = None  # events: when it begins (aware, UTC)
    place: str = ""  # events: where
    image_url: str | None = None  # a picture on this site (path), if the item has one

    def __post_init__(self) -> None:
        if self.kind not in KIND_LABELS:
            raise ValueError(f"unknown channel kind {self.kind!r}")
        if not self.key or not self.title or not self.url.startswith("/"):
            raise ValueError("a channel item needs a key, a title and a path on this site")
        for moment in (self.published, self.updated, self.starts_at):
            if moment is not None and moment.tzinfo is None:
                raise ValueError("channel item times must be aware")

    @property
    def kind_label(self) -> str:
        return KIND_LABELS[self.kind]


@dataclass(frozen=True)
class EvidenceChoice:
    key: str  # unique across plugins and stable ("events:12"): what a plan task stores
    group: str  # the heading it is listed under ("Sự kiện đã tổ chức")
    title: str
    url: str  # path on this site
    at: datetime  # when it happened or was published (aware, UTC)
    commune_id: int | None = None

    def __post_init__(self) -> None:
        if not self.key or not self.title or not self.url.startswith("/"):
            raise ValueError("an evidence choice needs a key, a title and a path on this site")
        if self.at.tzinfo is None:
            raise ValueError("evidence times must be aware")
