"""The plugin host: a plugin installed through entry points adds pages, nav, templates,
static files, migrations, commands, course pack folders, figures and event handlers."""

import inspect

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from lms import hookspecs
from lms.app import create_app
from lms.cli import build_cli
from lms.events import record
from lms.plugin_host import PluginError, build_plugin_manager, flatten
from tests.factories import login, make_places, make_user, text_of

EVERYTHING = {"everything": "tests.plugins.everything.plugin"}


@pytest.fixture
def everything_app(install_plugins, settings, engine):
    install_plugins(EVERYTHING)
    return create_app(settings)


def check_register_routers(app, **_):
    with TestClient(app) as client:
        page = client.get("/hello")
    assert page.status_code == 200
    assert "Xin chào từ plugin" in page.text


def check_template_dirs(app, **_):
    with TestClient(app) as client:
        page = client.get("/hello").text
    # The plugin's template extends the site's base layout.
    assert '<h1 class="hello">' in page and 'lang="vi"' in page


def check_static_dirs(app, **_):
    with TestClient(app) as client:
        url = app.state.static.url("everything/hello.css")
        assert url in client.get("/hello").text
        css = client.get(url)
    assert css.status_code == 200 and ".hello" in css.text
    assert "immutable" in css.headers["cache-control"]


def check_nav_items(app, **_):
    with TestClient(app) as client:
        home = client.get("/").text
    assert '<a href="/hello">Xin chào</a>' in home


def check_register_commands(settings, **_):
    result = CliRunner().invoke(build_cli(settings), ["hello"])
    assert result.exit_code == 0 and "Xin chào từ plugin" in result.output


def check_course_pack_dirs(app, **_):
    folders = flatten(app.state.pm.hook.course_pack_dirs())
    assert any(folder.name == "packs" and (folder / "README.md").exists() for folder in folders)


def check_stats_figures(app, **_):
    figures = flatten(app.state.pm.hook.stats_figures(scope="all", period=None))
    assert {(f.key, f.value) for f in figures if f.key == "hello"} == {("hello", 42)}


def check_on_event(app, **_):
    from lms.core.models import OutboxEvent
    from tests.plugins.everything import plugin

    with app.state.context.transaction() as db:
        record(db, plugin.HelloSaid(words="xin chào"))
    received = plugin.received_events[-1]
    assert isinstance(received, plugin.HelloSaid) and received.words == "xin chào"
    with app.state.context.reading() as db:
        row = db.exec(sa.select(OutboxEvent).order_by(OutboxEvent.id.desc())).scalars().first()
    assert row.name == "everything.hello_said" and row.delivered_at is not None
    assert "everything" in row.handled


def check_migration_dirs(settings, database_url, **_):
    from lms import migrations

    migrations.upgrade(settings, url=database_url)
    engine = sa.create_engine(database_url)
    try:
        tables = set(sa.inspect(engine).get_table_names())
        assert {"everything_note", "core_user"} <= tables
        migrations.downgrade(settings, revision="everything@base", url=database_url)
        assert "everything_note" not in set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def check_page_sections(app, **_):
    with TestClient(app) as client:
        home = client.get("/").text
        account_free = client.get("/login").text
    assert '<section id="everything-home"><h2>Góc thử nghiệm</h2></section>' in home
    assert "everything-home" not in account_free


def check_sms_gateways(settings, **_):
    import re

    from sqlmodel import Session

    from tests.factories import post_form
    from tests.plugins.everything import plugin

    app = create_app(settings.model_copy(update={"sms_gateway": "everything"}))
    with Session(app.state.engine, expire_on_commit=False) as db:
        user = make_user(db, settings)
    with TestClient(app, follow_redirects=False) as client:
        page = post_form(client, "/forgot", {"phone": user.phone}, page="/forgot")
    assert page.status_code == 200, page.text
    phone, text = plugin.sent_messages[-1]
    assert phone == user.phone and re.search(r"\b\d{6}\b", text)
    app.state.engine.dispose()

    # Chosen in the first-run guide instead of the environment: the guide offers it by name.
    app = create_app(settings)
    with Session(app.state.engine, expire_on_commit=False) as db:
        admin = make_user(db, settings, role="admin")
    with TestClient(app, follow_redirects=False) as client:
        login(client, admin.phone)
        assert 'value="everything"' in client.get("/staff/bat-dau/tin-nhan").text
        saved = post_form(client, "/staff/bat-dau/tin-nhan", {"sms_gateway": "everything"},
                          page="/staff/bat-dau/tin-nhan")
        assert saved.status_code == 303
        post_form(client, "/forgot", {"phone": user.phone}, page="/forgot")
    app.state.engine.dispose()
    assert len(plugin.sent_messages) == 2 and plugin.sent_messages[-1][0] == user.phone


def check_merge_accounts(app, settings, **_):
    from sqlmodel import Session

    from lms.merging import MergeItem
    from tests.plugins.everything import plugin

    plugin.NOTES.create(app.state.engine, checkfirst=True)
    with Session(app.state.engine, expire_on_commit=False) as db:
        keep, drop, actor = (make_user(db, settings) for _ in range(3))
        db.execute(plugin.NOTES.insert().values(user_id=drop.id, text="ghi chú"))
        db.commit()
        items = flatten(app.state.pm.hook.merge_accounts(db=db, keep=keep, drop=drop, actor=actor, apply=False))
        assert MergeItem("Ghi chú thử nghiệm", 1) in items
        assert db.execute(sa.select(plugin.NOTES.c.user_id)).scalars().all() == [drop.id]
    # Applied, the hook runs inside the merge's unit of work.
    with app.state.context.transaction() as db:
        flatten(app.state.pm.hook.merge_accounts(db=db, keep=keep, drop=drop, actor=actor, apply=True))
    with Session(app.state.engine) as db:
        assert db.execute(sa.select(plugin.NOTES.c.user_id)).scalars().all() == [keep.id]


def check_merge_villages(app, settings, **_):
    """A plugin's rows show in the merge's preview, move inside the merge's transaction, and a
    plugin that fails undoes the whole merge (the people stay where they were)."""
    from fastapi.testclient import TestClient
    from sqlmodel import Session

    from lms.core.models import Place, User
    from tests.factories import login, make_places, make_user, post_form, text_of
    from tests.plugins.everything import plugin

    with Session(app.state.engine, expire_on_commit=False) as db:
        places = make_places(db)  # Thôn Đông, Thôn Đoài
        east, west = places.villages
        staff = make_user(db, settings, role="staff", commune=places.commune)
        resident = make_user(db, settings, village=west)
    query = f"/staff/villages/gop?bo={west.id}&vao={east.id}"
    with TestClient(app, follow_redirects=False) as browser:
        login(browser, staff.phone)
        preview = text_of(browser.get(query).text)
        assert "Bảng tin thử nghiệm của thôn: 2" in preview and "Người dân sống ở thôn: 1" in preview
        assert plugin.village_moves[-1] == (east.id, west.id, False)
        plugin.village_merge_fails = True
        try:
            with pytest.raises(RuntimeError):
                post_form(browser, "/staff/villages/gop", {"bo": west.id, "vao": east.id}, page=query)
        finally:
            plugin.village_merge_fails = False
        with Session(app.state.engine) as db:
            assert db.get(User, resident.id).village_id == west.id and db.get(Place, west.id).active
        done = post_form(browser, "/staff/villages/gop", {"bo": west.id, "vao": east.id}, page=query)
        assert "bảng tin thử nghiệm của thôn 2" in text_of(done.text)
    assert plugin.village_moves[-1] == (east.id, west.id, True)
    with Session(app.state.engine) as db:
        assert db.get(User, resident.id).village_id == east.id and not db.get(Place, west.id).active


def _with_a_note(app, settings):
    from sqlmodel import Session

    from tests.plugins.everything import plugin

    plugin.NOTES.create(app.state.engine, checkfirst=True)
    with Session(app.state.engine, expire_on_commit=False) as db:
        person, actor = make_user(db, settings), make_user(db, settings, role="admin")
        db.execute(plugin.NOTES.insert().values(user_id=person.id, text="ghi chú riêng"))
        db.commit()
    return person, actor, plugin


def check_personal_data_export(app, settings, **_):
    from sqlmodel import Session

    person, _actor, _plugin = _with_a_note(app, settings)
    with Session(app.state.engine) as db:
        sections = flatten(app.state.pm.hook.personal_data_export(db=db, user=person))
    notes = [s for s in sections if s.table == "everything_note"]
    assert [s.rows for s in notes] == [[{"Nội dung": "ghi chú riêng"}]]


def check_personal_data_erase(app, settings, **_):
    from sqlmodel import Session

    from lms.core.personal_data_services import erase

    person, actor, plugin = _with_a_note(app, settings)
    notes = erase(app.state.context, actor=actor, user_id=person.id)
    assert [(n.action, n.count) for n in notes if n.table == "everything_note"] == [("deleted", 1)]
    with Session(app.state.engine) as db:
        assert db.execute(sa.select(plugin.NOTES)).all() == []


def check_consent_purposes(app, settings, **_):
    """A plugin's purpose is asked when joining, shown on the account page with its text, and its
    withdrawal reaches the plugin as core.consent_changed."""
    from fastapi.testclient import TestClient
    from sqlmodel import Session

    from tests.factories import login, make_places, make_user, post_form, text_of
    from tests.plugins.everything import plugin

    with TestClient(app, follow_redirects=False) as browser:
        assert "Tôi đồng ý nhận thư thử nghiệm." in browser.get("/signup").text
        with Session(app.state.engine, expire_on_commit=False) as db:
            person = make_user(db, settings, village=make_places(db).villages[0])
        login(browser, person.phone)
        assert "Thư thử nghiệm: chưa đồng ý" in text_of(browser.get("/account").text)
        post_form(browser, "/account/consents/everything_letters", {"granted": "1"}, page="/account")
        assert "Thư thử nghiệm: đã đồng ý" in text_of(browser.get("/account").text)
        post_form(browser, "/account/consents/everything_letters", {"granted": "0"}, page="/account")
        page = text_of(browser.get("/account?saved=withdrawn").text)
        post_form(browser, "/account/consents/everything_letters", {"granted": "1"}, page="/account")
    assert "Thư thử nghiệm: chưa đồng ý" in page and "Đã rút lại sự đồng ý" in page
    changes = [e for e in plugin.received_events if getattr(e, "name", "") == "core.consent_changed"
               and e.user_id == person.id]
    # A first agreement changes nothing; the withdrawal stops, giving it again starts.
    assert [(e.purpose, e.granted) for e in changes] == [("everything_letters", False), ("everything_letters", True)]


def check_offline_pages(app, settings, **_):
    """A plugin's page named for reading offline is marked so; its members' page is not."""
    from fastapi.testclient import TestClient
    from sqlmodel import Session

    from tests.factories import login, make_places, make_user

    with TestClient(app, follow_redirects=False) as browser:
        assert browser.get("/hello").headers["x-offline-copy"] == "this"
        with Session(app.state.engine, expire_on_commit=False) as db:
            member = make_user(db, settings, role="team_member", commune=make_places(db).commune)
        login(browser, member.phone)
        assert browser.get("/hello").headers["x-offline-copy"] == "public"
        members = browser.get("/hello/members")
    assert members.status_code == 200 and "x-offline-copy" not in members.headers


def check_offline_forms(app, **_):
    """A plugin's form named for sending later is one the service worker keeps when offline."""
    import json
    import re

    from fastapi.testclient import TestClient

    with TestClient(app) as browser:
        script = browser.get("/sw.js").text
    forms = json.loads(re.search(r"const FORMS = (\[.*?\])\.map", script).group(1))
    greeting = next(form for form in forms if form["label"] == "Lời chào thử")
    assert re.match(greeting["pattern"], "/hello/lan/greet") and not re.match(greeting["pattern"], "/hello/lan")
    assert {"Đăng ký sự kiện", "Đánh dấu đã học xong bài"} <= {form["label"] for form in forms}


def check_bulletin_choices(app, settings, **_):
    """A plugin's choice is listed on the bulletin form for the staff it is offered to and goes
    into the MP3; a key not offered to that person is refused."""
    import re

    from fastapi.testclient import TestClient
    from sqlmodel import Session

    from lms.plugins.courses import audio
    from tests.factories import csrf, login, make_places, make_user

    with Session(app.state.engine, expire_on_commit=False) as db:
        staff = make_user(db, settings, role="staff", commune=make_places(db).commune)
        admin = make_user(db, settings, role="admin")
    with TestClient(app, follow_redirects=False) as browser:
        login(browser, staff.phone)
        form = browser.get("/studio-bulletin").text
        assert re.search(r'<legend>Lời chào</legend>.*value="hello:1"> Chào bà con thôn mình', form, re.S)
        token = csrf(browser, "/studio-bulletin")
        made = browser.post("/studio-bulletin", data={"csrf_token": token, "item": "hello:1"})
        forged = browser.post("/studio-bulletin", data={"csrf_token": token, "item": "hello:2"})
        login(browser, admin.phone)
        assert "hello:1" not in browser.get("/studio-bulletin").text
        token = csrf(browser, "/studio-bulletin")
        refused = browser.post("/studio-bulletin", data={"csrf_token": token, "item": "hello:1"})
    assert made.status_code == 200 and made.headers["content-type"] == "audio/mpeg"
    # The intro, the choice's group and title, its words (numbers read out), the close.
    spoken = [f"Bản tin Bình dân học vụ số của Xã Minh Châu, ngày {audio.vietnamese_date(audio.today())}. "
              "Bản tin gồm một mục.", "Lời chào: Chào bà con thôn mình.", "Xin chào hai mươi lăm hộ gia đình.",
              "Hết bản tin. Cảm ơn bà con đã lắng nghe."]
    expected = sum(audio.synthesize(words)[1] + audio.BULLETIN_PAUSE for words in spoken)
    assert abs(audio.inspect(made.content).duration - expected) < 1.0
    for response in (forged, refused):
        assert response.status_code == 422 and "Hãy chọn ít nhất một bài học hoặc một tin" in text_of(response.text)


def check_inline_scripts(app, **_):
    """A plugin's inline script is allowed by its hash; a script one byte different is not."""
    import base64
    import hashlib

    from fastapi.testclient import TestClient

    from tests.plugins.everything.plugin import HELLO_SCRIPT

    def source(script: str) -> str:
        return "'sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() + "'"

    with TestClient(app) as browser:
        policy = browser.get("/hello").headers["content-security-policy"]
    script_src = next(part for part in policy.split(";") if part.strip().startswith("script-src")).split()
    assert source(HELLO_SCRIPT) in script_src
    assert source(HELLO_SCRIPT + " ") not in script_src and "'unsafe-inline'" not in script_src


def check_channel_items(app, settings, **_):
    """A plugin's item is in the installation's and every commune's feed, on the commune page and
    the hall screen."""
    import feedparser
    from fastapi.testclient import TestClient
    from sqlmodel import Session

    from tests.factories import login, make_places, make_user

    with Session(app.state.engine, expire_on_commit=False) as db:
        commune = make_places(db).commune
        member = make_user(db, settings, role="team_member", commune=commune)
    title = "Chào bà con: lớp học điện thoại tối thứ Năm"
    with TestClient(app, follow_redirects=False) as browser:
        for path in ("/feed.atom", f"/xa/{commune.id}/feed.atom"):
            feed = feedparser.parse(browser.get(path).content)
            assert not feed.bozo and [e.title for e in feed.entries if e.id.endswith("/hello")] == [title], path
        assert title in browser.get(f"/xa/{commune.id}").text
        login(browser, member.phone)
        assert title in browser.get("/staff/man-hinh").text


def check_evidence_choices(app, settings, **_):
    """A plugin's evidence is offered on a plan task's page to the staff it is offered to and can be
    attached; a key not offered is refused."""
    from fastapi.testclient import TestClient
    from sqlalchemy import select
    from sqlmodel import Session

    from lms.plugins.ke_hoach.models import Evidence, Task
    from tests.factories import csrf, login, make_places, make_user

    with Session(app.state.engine, expire_on_commit=False) as db:
        commune = make_places(db).commune
        staff = make_user(db, settings, role="staff", commune=commune)
    with TestClient(app, follow_redirects=False) as browser:
        login(browser, staff.phone)
        token = csrf(browser, "/staff/ke-hoach")
        assert browser.post("/staff/ke-hoach/nhap-mau", data={"csrf_token": token}).status_code == 303
        with Session(app.state.engine) as db:
            task_id = db.execute(select(Task.id).order_by(Task.id)).scalars().first()
        page = browser.get(f"/staff/ke-hoach/viec/{task_id}").text
        assert 'value="hello:evidence"' in page and "Buổi chào bà con thôn Đông" in page
        forged = browser.post(f"/staff/ke-hoach/viec/{task_id}/minh-chung",
                              data={"csrf_token": token, "key": "hello:other"})
        made = browser.post(f"/staff/ke-hoach/viec/{task_id}/minh-chung",
                            data={"csrf_token": token, "key": "hello:evidence"})
    assert forged.status_code == 422 and made.status_code == 303
    with Session(app.state.engine) as db:
        rows = db.execute(select(Evidence.key, Evidence.title)).all()
    assert rows == [("hello:evidence", "Buổi chào bà con thôn Đông")]


def check_lesson_embed(app, settings, **_):
    """A lesson paragraph `[[hello:1]]` shows the plugin's card; one it does not know shows nothing."""
    import tempfile
    from pathlib import Path

    from fastapi.testclient import TestClient
    from sqlmodel import Session

    from tests.courses.packtools import BODY, sync_dirs, write_pack

    body = BODY.format(n=1).replace("## Nguồn", "[[hello:1]]\n\n[[hello:2]]\n\n## Nguồn")
    with tempfile.TemporaryDirectory() as folder, Session(app.state.engine, expire_on_commit=False) as db:
        write_pack(Path(folder), "loi-chao", lessons=["bai-mot"], bodies={"bai-mot": body})
        sync_dirs(db, [Path(folder)])
    with TestClient(app, follow_redirects=False) as browser:
        page = browser.get("/courses/loi-chao/bai-mot").text
    assert page.count('<aside class="hello-card">Lời chào của thôn Đông</aside>') == 1
    assert "[[hello" not in page


def check_setup_checks(app, settings, **_):
    """A plugin's missing piece is listed on the check page, first and with its link, and counted
    on the guide's overview; what it reports done is listed as done."""
    import re

    from fastapi.testclient import TestClient
    from sqlmodel import Session

    from tests.factories import login, make_places, make_user

    with Session(app.state.engine, expire_on_commit=False) as db:
        make_places(db)
        admin = make_user(db, settings, role="admin")
    with TestClient(app, follow_redirects=False) as browser:
        login(browser, admin.phone)
        page = browser.get("/staff/bat-dau/kiem-tra").text
        overview = browser.get("/staff/bat-dau").text
    missing, rest = page.split("<h2>Nên biết", 1) if "<h2>Nên biết" in page else page.split("<h2>Đã xong", 1)
    assert re.search(r"<strong>Lời chào của thôn chưa được viết</strong><br><span>Thử nghiệm: 1 xã.</span>"
                     r'<br><a href="/hello">Viết lời chào</a>', missing)
    assert "Bảng tin thử nghiệm đã sẵn sàng" in rest.split("<h2>Đã xong", 1)[-1]
    assert "lời chào của thôn chưa được viết" in overview.lower()


def check_help_pages(app, settings, **_):
    """A plugin's help page is listed for its role and the roles above, in the core's layout; a
    visitor is sent to log in and a learner refused."""
    from sqlmodel import Session

    with Session(app.state.engine, expire_on_commit=False) as db:
        places = make_places(db)
        learner = make_user(db, settings, village=places.villages[0])
        member = make_user(db, settings, role="team_member", commune=places.commune)
    with TestClient(app, follow_redirects=False) as browser:
        assert "/huong-dan/loi-chao" not in browser.get("/huong-dan").text
        assert browser.get("/huong-dan/loi-chao").headers["location"] == "/login?next=/huong-dan/loi-chao"
        login(browser, learner.phone)
        assert browser.get("/huong-dan/loi-chao").status_code == 403
    with TestClient(app, follow_redirects=False) as browser:
        login(browser, member.phone)
        index = browser.get("/huong-dan").text
        page = browser.get("/huong-dan/loi-chao").text
    team = index.split(">Tổ công nghệ số cộng đồng</h2>")[1].split(">Người học</h2>")[0]
    assert ('<a class="choice" href="/huong-dan/loi-chao">Chào bà con thôn Đông'
            "<small>Trang hướng dẫn thử nghiệm cho tổ.</small></a>") in team
    assert '<p class="hello-help">Ra nhà văn hóa' in page and '<h1 id="help-title">Chào bà con thôn Đông</h1>' in page


HOOK_CHECKS = {
    "setup_checks": check_setup_checks,
    "help_pages": check_help_pages,
    "lesson_embed": check_lesson_embed,
    "channel_items": check_channel_items,
    "evidence_choices": check_evidence_choices,
    "inline_scripts": check_inline_scripts,
    "bulletin_choices": check_bulletin_choices,
    "offline_forms": check_offline_forms,
    "offline_pages": check_offline_pages,
    "consent_purposes": check_consent_purposes,
    "page_sections": check_page_sections,
    "register_routers": check_register_routers,
    "template_dirs": check_template_dirs,
    "static_dirs": check_static_dirs,
    "migration_dirs": check_migration_dirs,
    "nav_items": check_nav_items,
    "register_commands": check_register_commands,
    "course_pack_dirs": check_course_pack_dirs,
    "stats_figures": check_stats_figures,
    "on_event": check_on_event,
    "sms_gateways": check_sms_gateways,
    "merge_accounts": check_merge_accounts,
    "merge_villages": check_merge_villages,
    "personal_data_export": check_personal_data_export,
    "personal_data_erase": check_personal_data_erase,
}


def test_every_hookspec_has_a_check():
    specs = {name for name, fn in inspect.getmembers(hookspecs, inspect.isfunction)
             if hasattr(fn, "lms_spec")}
    assert specs == set(HOOK_CHECKS), "a hookspec without a test, or a test without a hookspec"


def test_the_test_plugin_implements_every_hookspec(install_plugins, settings):
    install_plugins(EVERYTHING)
    pm = build_plugin_manager(settings)
    plugin = pm.get_plugin("everything")
    implemented = {impl.name for impl in pm.get_hookcallers(plugin)}
    assert implemented == set(HOOK_CHECKS)


@pytest.mark.parametrize("hook", sorted(HOOK_CHECKS))
def test_hook(hook, install_plugins, make_settings, engine, database_url, tmp_path):
    install_plugins(EVERYTHING)
    settings = make_settings()
    if hook == "migration_dirs":
        # Migrations run on an empty database of their own.
        database_url = database_url.replace("test.db", "migrated.db")
        settings = make_settings(database_url=database_url)
        if database_url.startswith("postgresql"):
            with sa.create_engine(database_url).begin() as conn:
                conn.exec_driver_sql("DROP TABLE IF EXISTS core_place CASCADE")
                for table in sa.inspect(conn).get_table_names():
                    conn.exec_driver_sql(f'DROP TABLE IF EXISTS "{table}" CASCADE')
    # An empty database has no shared keys yet, so no app starts on it (nor is one needed).
    app = None if hook == "migration_dirs" else create_app(settings)
    HOOK_CHECKS[hook](app=app, settings=settings, database_url=database_url)


def test_plugin_page_respects_its_access_policy(everything_app, db, settings):
    places = make_places(db)
    learner = make_user(db, settings, village=places.villages[0])
    member = make_user(db, settings, role="team_member", commune=places.commune)
    with TestClient(everything_app, follow_redirects=False) as client:
        assert client.get("/hello/members").status_code == 303
        login(client, learner.phone)
        assert client.get("/hello/members").status_code == 403
    with TestClient(everything_app, follow_redirects=False) as client:
        login(client, member.phone)
        assert "Chỉ dành cho tổ" in text_of(client.get("/hello/members").text)


def test_a_disabled_plugin_is_not_loaded(install_plugins, make_settings, engine):
    install_plugins(EVERYTHING)
    app = create_app(make_settings(plugins_disable=["everything"]))
    with TestClient(app) as client:
        assert client.get("/hello").status_code == 404
        assert "/hello" not in client.get("/").text


def test_disable_list_comes_from_the_environment(monkeypatch):
    from lms.settings import Settings

    monkeypatch.setenv("LMS_PLUGINS_DISABLE", "everything, courses")
    assert Settings().plugins_disable == ["everything", "courses"]


def test_a_misspelt_hook_implementation_stops_start_up(install_plugins, make_settings):
    install_plugins({"misspelt": "tests.plugins.misspelt_hook"})
    with pytest.raises(PluginError, match="misspelt.*nav_item"):
        build_plugin_manager(make_settings())


def test_core_cannot_be_disabled(make_settings):
    with pytest.raises(PluginError, match="essential"):
        build_plugin_manager(make_settings(plugins_disable=["core"]))


def test_missing_requirement_is_a_clear_error(install_plugins, make_settings):
    install_plugins({"requires_missing": "tests.plugins.requires_missing"})
    with pytest.raises(PluginError, match="requires_missing requires no_such"):
        build_plugin_manager(make_settings())


def test_a_route_without_access_policy_stops_start_up(install_plugins, make_settings, engine):
    install_plugins({"no_policy": "tests.plugins.no_policy"})
    with pytest.raises(PluginError, match="without an access policy: \\['GET'\\] /no-policy"):
        create_app(make_settings())
