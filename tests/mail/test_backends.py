"""Mail backends: SMTP against a real server, the file outbox, console and memory."""

import pytest

from campaigns.errors import (
    ConfigurationError,
    PermanentMailError,
    TransientMailError,
    UncertainDeliveryError,
)
from campaigns.mail.backends import Envelope, backend_from_url
from campaigns.mail.backends.smtp import SmtpBackend
from tests.support.smtp import SmtpServer, free_port

MESSAGE = (b"From: a@example.com\r\nTo: {to}\r\nSubject: Hi\r\n\r\nHello\r\n"
           b".leading dot line\r\n")


def envelope(to: str) -> Envelope:
    return Envelope("bounces@example.com", (to,), MESSAGE.replace(b"{to}", to.encode()))


@pytest.fixture
def smtp_server():
    with SmtpServer() as server:
        yield server


def test_smtp_reuses_one_connection_for_a_batch(smtp_server, tmp_path):
    with backend_from_url(smtp_server.url, instance_path=tmp_path) as backend:
        for n in range(5):
            assert backend.send(envelope(f"p{n}@example.com")) == {}
    assert len(smtp_server.handler.messages) == 5
    assert smtp_server.handler.connections == 1


def test_smtp_keeps_the_message_bytes_including_leading_dots(smtp_server, tmp_path):
    with backend_from_url(smtp_server.url, instance_path=tmp_path) as backend:
        backend.send(envelope("p@example.com"))
    assert b"\r\n.leading dot line" in smtp_server.handler.messages[0].data


def test_a_5xx_refusal_is_permanent_and_the_connection_carries_on(smtp_server, tmp_path):
    with backend_from_url(smtp_server.url, instance_path=tmp_path) as backend:
        with pytest.raises(PermanentMailError, match="550"):
            backend.send(envelope("reject@example.com"))
        backend.send(envelope("ok@example.com"))
    assert [m.recipients for m in smtp_server.handler.messages] == [["ok@example.com"]]
    assert smtp_server.handler.connections == 1


def test_a_4xx_answer_is_transient(smtp_server, tmp_path):
    with backend_from_url(smtp_server.url, instance_path=tmp_path) as backend:
        with pytest.raises(TransientMailError, match="451"):
            backend.send(envelope("tempfail@example.com"))
        backend.send(envelope("ok@example.com"))
    assert len(smtp_server.handler.messages) == 1


def test_a_hang_up_after_the_data_is_uncertain_and_the_next_send_reconnects(smtp_server,
                                                                          tmp_path):
    with backend_from_url(smtp_server.url, instance_path=tmp_path) as backend:
        with pytest.raises(UncertainDeliveryError):
            backend.send(envelope("drop@example.com"))
        backend.send(envelope("ok@example.com"))
    assert smtp_server.handler.connections == 2


def test_no_server_listening_is_transient(tmp_path):
    backend = SmtpBackend("127.0.0.1", free_port(), timeout=2)
    with backend, pytest.raises(TransientMailError, match="cannot connect"):
        backend.send(envelope("p@example.com"))


def test_mail_urls_carry_security_and_credentials():
    backend = SmtpBackend.from_url("smtp+starttls://us%40er:p%3Ass@relay.example")
    assert (backend.host, backend.port, backend.security) == ("relay.example", 587, "starttls")
    assert (backend.username, backend.password) == ("us@er", "p:ss")
    assert SmtpBackend.from_url("smtps://relay.example").port == 465


def test_an_unknown_mail_url_is_a_configuration_error(tmp_path):
    with pytest.raises(ConfigurationError):
        backend_from_url("carrier-pigeon://coop", instance_path=tmp_path)


def test_the_file_backend_writes_one_eml_per_message_in_the_outbox(tmp_path):
    with backend_from_url("file://", instance_path=tmp_path) as backend:
        backend.send(envelope("a@example.com"))
        backend.send(envelope("b@example.com"))
    files = sorted((tmp_path / "outbox").glob("*.eml"))
    assert len(files) == 2
    assert b"To: a@example.com" in files[0].read_bytes() + files[1].read_bytes()
    assert not list((tmp_path / "outbox").glob(".*.tmp"))


def test_the_console_backend_prints_the_message(tmp_path, capsys):
    with backend_from_url("console://", instance_path=tmp_path) as backend:
        backend.send(envelope("a@example.com"))
    assert "To: a@example.com" in capsys.readouterr().out
