"""The `campaigns` command: users create and users token, as ARCHITECTURE.md promises."""

from campaigns.cli import main


def test_users_create_reads_the_password_from_stdin(runner, app):
    result = runner.invoke(args=["users", "create", "ann@example.com", "--password-stdin",
                                 "--role", "owner"], input="a good password\n")
    assert result.exit_code == 0, result.output
    assert "owner ann@example.com" in result.output


def test_users_create_refuses_a_short_password(runner):
    result = runner.invoke(args=["users", "create", "ann@example.com", "--password-stdin"],
                           input="short\n")
    assert result.exit_code != 0
    assert "at least 10" in result.output


def test_a_token_printed_by_the_cli_opens_the_api(runner, client):
    runner.invoke(args=["users", "create", "ann@example.com", "--password-stdin"],
                  input="a good password\n")
    result = runner.invoke(args=["users", "token", "ann@example.com"])
    token = result.output.strip()
    assert token.startswith("cmp_")
    response = client.get("/api/v1/openapi.json", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert response.json["openapi"].startswith("3.")


def test_users_token_for_an_unknown_user_fails_clearly(runner):
    result = runner.invoke(args=["users", "token", "nobody@example.com"])
    assert result.exit_code != 0
    assert "No user" in result.output


def test_worker_refuses_to_start_without_a_broker(runner, app):
    app.config["BROKER_URL"] = ""
    result = runner.invoke(args=["worker"])
    assert result.exit_code != 0
    assert "No broker configured" in result.output


def test_the_console_script_lists_the_commands():
    from click.testing import CliRunner

    result = CliRunner().invoke(main, ["--help"])
    for command in ("db", "run", "users", "worker"):
        assert command in result.output
