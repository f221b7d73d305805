"""HTML bodies as text, with and without their quoted history."""

from __future__ import annotations

import pytest

from campaigns.mail.inbound.htmltext import html_texts


@pytest.mark.parametrize("quote", [
    '<div class="gmail_quote"><div>On Mon, Sam wrote:</div><blockquote>Free?</blockquote></div>',
    '<blockquote type="cite">Free?</blockquote>',
    '<div class="moz-cite-prefix">On 03/03/2025 Sam wrote:</div><blockquote>Free?</blockquote>',
    '<div id="appendonsend"></div><hr><div id="divRplyFwdMsg"><b>From:</b> Sam</div><p>Free?</p>',
    '<div class="yahoo_quoted"><div>On Monday, Sam wrote:</div><div>Free?</div></div>',
])
def test_quoted_markup_is_left_out_of_the_new_text(quote):
    full, new = html_texts(f"<div>Yes, Tuesday!</div>{quote}")
    assert new == "Yes, Tuesday!"
    assert "Free?" in full


def test_scripts_and_styles_are_never_text():
    full, _ = html_texts("<style>p{color:red}</style><p>Hi</p><script>alert(1)</script>")
    assert full == "Hi"


def test_line_breaks_and_entities_survive():
    assert html_texts("<p>Fish &amp; chips<br>at 1</p><p>OK</p>")[0] == "Fish & chips\nat 1\n\nOK"
