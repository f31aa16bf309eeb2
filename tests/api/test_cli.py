from models import User, db


def test_create_admin_asks_for_the_password_and_creates_the_account(app, api):
    result = app.test_cli_runner().invoke(args=["create-admin", "boss"], input="boss-password\nboss-password\n")
    assert result.exit_code == 0, result.output
    assert "Created admin 'boss'." in result.output
    assert api.login("boss", "boss-password")["user"]["role"] == "admin"


def test_create_admin_can_create_an_hr_officer(app):
    result = app.test_cli_runner().invoke(args=["create-admin", "officer", "--role", "hr", "--password", "officer-pass"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.session.query(User).filter_by(username="officer").one().role.value == "hr"


def test_create_admin_refuses_short_passwords_and_duplicates(app):
    runner = app.test_cli_runner()
    short = runner.invoke(args=["create-admin", "boss", "--password", "short"])
    assert short.exit_code != 0 and "at least 8 characters" in short.output
    duplicate = runner.invoke(args=["create-admin", "admin", "--password", "long-enough-password"])
    assert duplicate.exit_code != 0 and "already exists" in duplicate.output


def test_init_db_reports_the_database(app):
    result = app.test_cli_runner().invoke(args=["init-db"])
    assert result.exit_code == 0 and result.output.startswith("Database ready: ")
    with app.app_context():
        from models import db

        url = db.engine.url
    assert url.render_as_string(hide_password=True) in result.output
    if url.password:
        assert f":{url.password}@" not in result.output and ":***@" in result.output
