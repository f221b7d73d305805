"""The signup form: a hosted page link and an HTML snippet to paste into any website."""

from __future__ import annotations

from flask import render_template, request

from campaigns.core import subscribers
from campaigns.core.signup import form_token
from campaigns.web.consent import public_url
from campaigns.web.subscribers import bp


@bp.route("/signup-form")
def signup_form():
    """Show the hosted signup page link and the embeddable snippet (optionally tagging)."""
    tag = request.args.get("tag", "").strip()[:100]
    token = form_token(tag)
    action = public_url("consent.signup")
    snippet = render_template("consent/_embed_snippet.html", action=action, token=token)
    return render_template("subscribers/signup_form.html", tag=tag, snippet=snippet,
                           page_url=public_url("consent.signup", form=token),
                           tags=subscribers.tag_names())
