"""The MIME builder: parts built once, per-person values, DKIM, threaded replies."""

import base64
import email
import email.policy
import shutil
import subprocess

import dkim
import pytest

from campaigns.mail import render
from campaigns.mail.compose import CampaignComposer, Recipient, build_reply, qp
from campaigns.mail.dkim import DkimSigner
from campaigns.mail.headers import encode_words, format_address, header, one_line
from tests.mail.test_render import BODY
from tests.support.campaigns import parse

CONTEXT = {"first_name": "Ada", "company": "Labs", "unsubscribe_url": "https://x.test/u/1"}


def composer(**kwargs):
    templates = render.build_templates("Hi {{ first_name }}", render.compile_mjml(BODY))
    options = {"from_name": "Olive", "from_email": "olive@example.com",
               "reply_domain": "reply.example.com", "bounce_domain": None, **kwargs}
    return CampaignComposer(templates, **options)


def recipient(email_="ada@example.com", name="Ada L"):
    return Recipient(email_, name, "<m1@example.com>", "tok", "https://x.test/u/1")


def test_each_message_decodes_to_the_rendered_parts():
    envelope = composer().envelope(recipient(), CONTEXT)
    message = parse(envelope.data)
    expected = render.render(composer().templates, CONTEXT)
    assert message.get_body(("html",)).get_content() == expected.html
    assert message.get_body(("plain",)).get_content() == expected.text
    assert envelope.sender == "olive@example.com"  # no bounce domain: the sender's address


def test_static_html_is_encoded_once_and_reused_for_the_next_person():
    built = composer()
    first = built.envelope(recipient(), CONTEXT).data
    cached = dict(built._static_qp)
    second = built.envelope(recipient("bob@example.com", "Bob"), {**CONTEXT,
                                                                  "first_name": "Bob"}).data
    assert built._static_qp == cached and cached
    assert b"Hi Bob," in second.replace(b"=\r\n", b"") and b"Hi Ada," in first


def test_quoted_printable_never_starts_a_line_with_a_dot():
    encoded = qp(b".one\r\n.two")
    assert encoded == b"=2Eone\r\n=2Etwo"
    assert email.quoprimime.body_decode(encoded.decode()) == ".one\n.two"


@pytest.mark.parametrize("value, line", [
    ("Plain", b"Subject: Plain\r\n"),
    ("Caf\u00e9", b"Subject: =?utf-8?b?Q2Fmw6k=?=\r\n"),
    ("a\r\nBcc: x@y", b"Subject: a Bcc: x@y\r\n"),
])
def test_header_values_are_one_line_and_encoded_when_not_ascii(value, line):
    assert header("Subject", value) == line


def test_long_headers_fold_and_encoded_words_stay_short():
    folded = header("Subject", "word " * 40).decode()
    assert all(len(part) <= 78 for part in folded.split("\r\n"))
    assert all(len(word) <= 75 for word in encode_words("é" * 100).split())
    assert parse(header("Subject", "é" * 100) + b"\r\n")["Subject"] == "é" * 100


def test_addresses_quote_specials_and_strip_line_breaks():
    assert format_address('Ann "The" O\'Neil, PhD', "a@x.org") == \
        '"Ann \\"The\\" O\'Neil, PhD" <a@x.org>'
    assert format_address("Bob\nEvil", "b@x.org") == "Bob Evil <b@x.org>"
    assert one_line("a\x00b\u2028c") == "a b c"


def test_an_international_domain_goes_out_in_idna_form():
    envelope = composer().envelope(recipient("zoe@bücher.example"), CONTEXT)
    assert envelope.recipients == ("zoe@xn--bcher-kva.example",)


@pytest.fixture(scope="module")
def rsa_key(tmp_path_factory):
    """A fresh RSA key (PEM) and its public half (DER), made with openssl."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a DKIM key")
    folder = tmp_path_factory.mktemp("dkim")
    subprocess.run(["openssl", "genrsa", "-out", folder / "key.pem", "2048"], check=True,
                   capture_output=True)
    public = subprocess.run(["openssl", "rsa", "-in", folder / "key.pem", "-pubout",
                             "-outform", "DER"], check=True, capture_output=True).stdout
    return (folder / "key.pem").read_bytes(), public


def test_dkim_signs_both_list_unsubscribe_headers_and_verifies(rsa_key):
    private, public = rsa_key
    signer = DkimSigner(domain="example.com", selector="s1", private_key=private)
    data = composer(dkim=signer).envelope(recipient(), CONTEXT).data
    signature = parse(data)["DKIM-Signature"]
    signed = {h.strip() for h in signature.split("h=")[1].split(";")[0].split(":")}
    assert {"list-unsubscribe", "list-unsubscribe-post", "from", "subject"} <= signed
    record = b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)
    assert dkim.verify(data, dnsfunc=lambda name, timeout=5: record)
    assert not dkim.verify(data.replace(b"https://x.test/u/1", b"https://evil.test/u/1"),
                           dnsfunc=lambda name, timeout=5: record)


def test_a_reply_is_threaded_plain_text_from_the_campaigns_sender():
    envelope = build_reply(from_name="Olive", from_email="olive@example.com",
                           to_name="Ada\r\nBcc: x@evil.test", to_email="ada@example.com",
                           subject="Coffee?", text="Sure.\nThursday?",
                           message_id="<r1@example.com>", in_reply_to="<their@mail>",
                           references=["<m1@example.com>", "<their@mail>\r\nX-Evil: 1"])
    message = parse(envelope.data)
    assert message["Subject"] == "Re: Coffee?"
    assert message["In-Reply-To"] == "<their@mail>"
    assert message["References"] == "<m1@example.com> <their@mail>"
    assert "X-Evil" not in message and "Bcc" not in message
    assert message.get_content_type() == "text/plain"
    assert message.get_content() == "Sure.\r\nThursday?"
    assert envelope.recipients == ("ada@example.com",)


def test_a_reply_with_html_is_multipart_and_keeps_an_existing_re():
    envelope = build_reply(from_name="O", from_email="o@example.com", to_name="", to_email="a@b.c",
                           subject="RE: Coffee?", text="Hi", html="<p>Hi</p>",
                           message_id="<r2@example.com>", in_reply_to="<x@y>")
    message = parse(envelope.data)
    assert message["Subject"] == "RE: Coffee?"
    assert message["References"] == "<x@y>"
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]
