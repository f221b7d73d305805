"""Inbound HTML made inert for display."""

from __future__ import annotations

import pytest

from campaigns.mail.inbound.sanitize import sanitize_html


@pytest.mark.parametrize(("html", "forbidden"), [
    ("<script>alert(1)</script><p>hi</p>", "script"),
    ('<p onclick="steal()">hi</p>', "onclick"),
    ('<img src=x onerror="steal()">', "onerror"),
    ('<a href="javascript:steal()">x</a>', "javascript"),
    ('<form action="https://evil.example"><input name=p></form>', "form"),
    ('<iframe src="https://evil.example"></iframe>', "iframe"),
    ('<p style="position:fixed;top:0">x</p>', "position"),
    ('<p style="background:url(https://t.example/p.gif)">x</p>', "url("),
    ('<svg><script>alert(1)</script></svg>', "alert"),
    ('<meta http-equiv="refresh" content="0;url=https://evil.example">', "refresh"),
])
def test_active_content_is_removed(html, forbidden):
    assert forbidden not in sanitize_html(html).lower()


def test_remote_images_are_blocked_but_kept_for_a_later_opt_in():
    out = sanitize_html('<img src="https://cdn.example/photo.png" alt="photo">')
    assert 'data-blocked-src="https://cdn.example/photo.png"' in out
    assert " src=" not in out


@pytest.mark.parametrize("pixel", [
    '<img src="https://t.example/open.gif" width="1" height="1">',
    '<img src="https://t.example/open.gif" width="0" height="0">',
    '<img src="https://t.example/open.gif" style="display:none">',
])
def test_tracking_pixels_are_removed(pixel):
    assert "img" not in sanitize_html(f"<p>hi</p>{pixel}")


def test_cid_images_are_rewritten_by_the_resolver():
    out = sanitize_html('<img src="cid:logo@x">', cid_resolver=lambda cid: f"/att/{cid}")
    assert 'src="/att/logo@x"' in out


def test_cid_images_without_a_resolver_are_dropped():
    assert "img" not in sanitize_html('<img src="cid:logo@x">')


def test_safe_formatting_survives():
    out = sanitize_html('<p style="color: red; font-weight: bold">Hi <b>there</b></p>')
    assert out == '<p style="color: red; font-weight: bold">Hi <b>there</b></p>'


def test_links_do_not_leak_the_referrer():
    assert 'rel="noopener noreferrer nofollow"' in sanitize_html('<a href="https://x.example">x</a>')
