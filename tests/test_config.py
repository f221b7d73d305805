"""Settings: defaults, then instance/config.py, then CAMPAIGNS_* variables, then the test map."""

from campaigns import create_app, database_uri
from campaigns.config import coerce, load_settings


def test_defaults_apply_when_nothing_is_set(tmp_path, monkeypatch):
    monkeypatch.delenv("CAMPAIGNS_MAIL_URL", raising=False)
    assert load_settings(tmp_path, None)["MAIL_URL"] == "file://"


def test_instance_file_overrides_defaults(tmp_path):
    (tmp_path / "config.py").write_text('MAIL_URL = "console://"\nlower = "ignored"\n')
    settings = load_settings(tmp_path, None)
    assert settings["MAIL_URL"] == "console://"
    assert "lower" not in settings


def test_environment_overrides_instance_file(tmp_path, monkeypatch):
    (tmp_path / "config.py").write_text('MAIL_URL = "console://"\n')
    monkeypatch.setenv("CAMPAIGNS_MAIL_URL", "smtp://relay:2525")
    assert load_settings(tmp_path, None)["MAIL_URL"] == "smtp://relay:2525"


def test_test_mapping_overrides_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("CAMPAIGNS_MAIL_URL", "smtp://relay:2525")
    assert load_settings(tmp_path, {"MAIL_URL": "memory://"})["MAIL_URL"] == "memory://"


def test_environment_values_take_the_type_of_their_default():
    assert coerce("250", 200) == 250
    assert coerce("false", True) is False
    assert coerce("a, b", []) == ["a", "b"]
    assert coerce('[{"url": "imap://x"}]', []) == [{"url": "imap://x"}]


def test_empty_database_url_means_sqlite_in_the_instance_folder(tmp_path):
    assert database_uri("", tmp_path) == f"sqlite:///{tmp_path / 'campaigns.sqlite3'}"


def test_postgres_urls_use_psycopg_3(tmp_path):
    assert database_uri("postgresql://u@h/db", tmp_path) == "postgresql+psycopg://u@h/db"
    assert database_uri("postgres://u@h/db", tmp_path) == "postgresql+psycopg://u@h/db"


def test_secret_key_is_generated_once_and_kept(tmp_path):
    first = create_app({"INSTANCE_PATH": str(tmp_path), "TESTING": True})
    second = create_app({"INSTANCE_PATH": str(tmp_path), "TESTING": True})
    assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"]
    assert len(first.config["SECRET_KEY"]) >= 32
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_cookies_are_secure_when_the_base_url_is_https(tmp_path):
    app = create_app({"INSTANCE_PATH": str(tmp_path), "BASE_URL": "https://c.example",
                      "SECRET_KEY": "x"})
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True


def test_processes_starting_together_all_get_the_same_whole_secret_key(tmp_path):
    import multiprocessing

    from campaigns import _instance_secret

    with multiprocessing.get_context("fork").Pool(6) as pool:
        keys = pool.map(_instance_secret, [tmp_path] * 6)
    assert len(set(keys)) == 1 and len(keys[0]) == 64
