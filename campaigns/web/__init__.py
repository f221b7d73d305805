"""Server-rendered HTML: one blueprint per area of the UI."""

from __future__ import annotations

from flask import Flask, flash

from campaigns.errors import CampaignsError


def flash_error(error: CampaignsError) -> None:
    """Show a domain error to the user as a flash message."""
    flash(error.message, "error")


def init_app(app: Flask) -> None:
    """Register the UI blueprints and the template helpers they share."""
    from campaigns.web import (
        auth,
        campaigns,
        consent,
        inbox,
        messages,
        outbox,
        results,
        settings,
        subscribers,
        triage,
    )
    from campaigns.web.helpers import register_template_helpers

    # consent: the public unsubscribe and signup pages; outbox: the one-process demo loop.
    for module in (auth, inbox, triage, messages, campaigns, results, subscribers, consent,
                   settings, outbox):
        app.register_blueprint(module.bp)
    register_template_helpers(app)
    for code in _ERROR_TEXT:
        app.register_error_handler(code, render_error)


_ERROR_TEXT = {
    400: ("Bad request", "The request could not be understood."),
    403: ("Not allowed", "You do not have access to this page."),
    404: ("Not found", "There is nothing here. It may have been deleted."),
    405: ("Not allowed", "This address does not accept that kind of request."),
    413: ("Too large", "That upload is larger than this server accepts."),
    429: ("Slow down", "Too many attempts. Wait a minute and try again."),
    500: ("Something broke", "The error was logged. Try again, or tell whoever runs this server."),
}


def render_error(error):  # noqa: ANN001, ANN201 - a werkzeug HTTPException
    """Render an HTTP error as a page (the API renders its own as JSON)."""
    from flask import jsonify, render_template, request

    code = getattr(error, "code", 500) or 500
    title, text = _ERROR_TEXT.get(code, (str(code), getattr(error, "description", "")))
    if request.path.startswith("/api/"):
        return jsonify(error=title.lower().replace(" ", "_"), message=text), code
    return render_template("errors/error.html", code=code, title=title, text=text), code
