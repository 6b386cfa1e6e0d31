"""The core's hook specifications: everything a plugin can contribute."""

from typing import Any

import pluggy

hookspec = pluggy.HookspecMarker("lms")
hookimpl = pluggy.HookimplMarker("lms")


@hookspec
def register_routers() -> list[Any]:
    """Return FastAPI APIRouters to include in the app."""


@hookspec
def template_dirs() -> list[Any]:
    """Return folders of Jinja templates; the site's templates/ always wins."""


@hookspec
def static_dirs() -> list[Any]:
    """Return (name, folder) pairs served under /static/<name>/ with hashed names."""


@hookspec
def migration_dirs() -> list[Any]:
    """Return Alembic version folders of a plugin's own migration branch."""


@hookspec
def nav_items(request: Any, user: Any) -> list[Any]:
    """Return NavItem entries for the page header, given the request and user (or None)."""


@hookspec
def register_commands(cli: Any) -> None:
    """Add Typer commands or groups to the `lms` command."""


@hookspec
def course_pack_dirs() -> list[Any]:
    """Return folders holding course packs (one sub-folder per course)."""


@hookspec
def stats_figures(scope: Any, period: Any) -> list[Any]:
    """Return figures for the statistics dashboard, for a place scope and a period.

    `scope` is an lms.stats_scope.StatsScope (a read session, commune ids or None for
    the whole installation, audience, village and course filters) and `period` an
    lms.stats_scope.StatsPeriod (local start and end days). Return Figure objects: a
    `facts` query (rows of at, user_id, course_id) that the statistics plugin filters
    by scope and period, groups and pre-aggregates by week itself, or a ready `value`
    for this scope and period; and StatsDimension objects naming the ids figures use
    (e.g. course titles). Return [] for a scope that is not a StatsScope."""


@hookspec
def on_event(event: Any, context: Any) -> None:
    """React to a domain event, after the transaction that raised it committed.

    Delivered at least once from the outbox, so be idempotent; an exception is logged and
    the event retried later for this plugin only. `context` is an lms.context.Context
    (engine, pm, settings; `context.transaction()` for writing). Mark the implementation
    with lms.events.listens_to(names…) to receive only those events."""


@hookspec
def page_sections(request: Any, user: Any, slot: str) -> list[Any]:
    """Return HTML (markupsafe.Markup) to show in a named slot of a page: "home", "account" (core
    pages) and "lesson" (under every lesson, after its pager)."""


@hookspec
def sms_gateways(context: Any) -> list[Any]:
    """Return gateways that send a text message (SMS, Zalo ZNS) to a phone number.

    A gateway has `name` (what LMS_SMS_GATEWAY selects), `label`, and `send(phone, text)`,
    which returns once the provider took the message and otherwise raises (a
    lms.errors.ServiceError's message is shown to the person). `phone` is the canonical
    0xxxxxxxxx form. Never log the phone, the text or credentials. `context` is an
    lms.context.Context (settings; `transaction()` for a gateway that stores messages)."""


@hookspec
def merge_accounts(db: Any, keep: Any, drop: Any, actor: Any, apply: bool) -> list[Any]:
    """Move this plugin's rows of a person from the account `drop` to the account `keep`.

    Staff merge two accounts of one person (both learners). The hook is called first with
    `apply=False` for the preview: read only, return what would move. Then with `apply=True`
    inside the merge's single transaction (`db`, a write session): move the rows, combining
    the ones that cannot exist twice (the same lesson done in both accounts) rather than losing
    them, and return the same items. Never commit; an exception undoes the whole merge.
    `keep`, `drop` and `actor` (the staff member) are core User rows. Return a list of
    lms.merging.MergeItem (skip kinds with nothing to move)."""


@hookspec
def merge_villages(db: Any, keep: Any, drop: Any, apply: bool) -> list[Any]:
    """Move this plugin's rows from the village `drop` to the village `keep` (one commune's).

    Staff merge two villages (two names for one thôn, or two thôn made one). Called first with
    `apply=False` for the preview: read only, return what would move; then with `apply=True`
    inside the merge's transaction (`db`, a write session): move the rows, return the same items.
    Never commit; an exception undoes the whole merge. `keep` and `drop` are core Place rows.
    Return a list of lms.merging.MergeItem (skip kinds with nothing to move)."""


@hookspec
def personal_data_export(db: Any, user: Any) -> list[Any]:
    """Return lms.personal_data.DataSection entries: this plugin's data about `user` (a core
    User), one section per table that can hold a person's data, with JSON-friendly rows and
    Vietnamese labels (a section with no rows when there is nothing)."""


@hookspec
def personal_data_erase(db: Any, user: Any, actor: Any) -> list[Any]:
    """Erase or anonymise this plugin's data about `user` inside the caller's transaction (`db`)
    and return one lms.personal_data.ErasureNote per table: what was deleted or anonymised, and
    what is kept on which legal basis. Counts in statistics may stay; the person may not."""


@hookspec
def consent_purposes() -> list[Any]:
    """Return lms.consents.ConsentPurpose entries: the purposes this plugin processes personal
    data for. When a person withdraws one, the plugin stops that processing on the event
    `core.consent_changed` (lms.consents.ConsentChanged)."""


@hookspec
def offline_pages() -> list[Any]:
    """Return route paths (as declared, e.g. "/courses/{slug}") of pages that hold no personal
    data when nobody is signed in: the service worker keeps them for reading offline
    (lms.offline). A page whose anonymous answer names a person must not be listed."""


@hookspec
def inline_scripts() -> list[Any]:
    """Return the exact text of `<script>` elements the plugin's pages carry inline (a few lines
    a page needs with no extra request). The Content-Security-Policy allows each by its hash;
    any other inline script is blocked. The text must be constant: no user input in it."""


@hookspec
def bulletin_choices(db: Any, user: Any) -> list[Any]:
    """Return lms.bulletin.BulletinChoice entries this staff member may put in a loudspeaker
    bulletin (their commune's news, announcements), newest first. Called for the bulletin form
    and again when it is sent: only keys offered then are accepted."""


@hookspec
def offline_forms() -> list[Any]:
    """Return lms.offline.OfflineForm entries: route paths and labels of forms the service worker
    may keep and send later when the phone is offline (lms.offline). Sending one twice must do
    it once (a key in the form, made on the phone, or an action that is the same done twice),
    and a refusal must show the form again with the person's input (a CSRF failure on a
    PUBLIC_FORM route does)."""


@hookspec
def channel_items(db: Any, commune_id: int | None, limit: int) -> list[Any]:
    """Return lms.channels.ChannelItem entries this plugin publishes, for the commune's feed,
    portal widget, hall screen and page (`commune_id`), or the whole installation's (None: every
    commune's items and the installation's own). Published items only, nothing personal: news and
    courses newest first, events upcoming and soonest first; at most `limit` of each kind."""


@hookspec
def evidence_choices(db: Any, user: Any) -> list[Any]:
    """Return lms.channels.EvidenceChoice entries the staff member `user` may link to a task of
    the commune's plan as its evidence: what their commune did (events held, courses and news
    published, bulletins sent), newest first, at most a few hundred."""


@hookspec
def lesson_embed(db: Any, ref: str) -> Any:
    """Return HTML (markupsafe.Markup) of a card a lesson shows where its text has a paragraph of
    only `[[ref]]` (e.g. `[[mo-hinh:tiem-tap-hoa-so]]`), or None when `ref` is not this plugin's
    or names nothing published now. Asked on every view, so keep it to one indexed read."""


@hookspec
def setup_checks(db: Any, settings: Any) -> list[Any]:
    """Return lms.setup_checks.SetupCheck entries: what this plugin needs before the installation
    is ready (done or still missing, with where to put it right), for the first-run guide's check
    page. `db` is a read session; keep it to a few counting queries."""


@hookspec
def help_pages() -> list[Any]:
    """Return lms.help.HelpPage entries: short how-to pages ("Hướng dẫn", `/huong-dan/<slug>`) for
    the tasks of this plugin's pages, each written for the lowest role that does them and printable
    on one A4 sheet. Name only real button labels and addresses; the template extends
    "core/help/page.html"."""
