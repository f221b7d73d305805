"""Subscribers: the list, a person's page, imports, segments and the signup form snippet."""

from __future__ import annotations

from flask import Blueprint
from werkzeug.exceptions import NotFound as HTTPNotFound

from campaigns.errors import NotFound
from campaigns.web import render_error

bp = Blueprint("subscribers", __name__, url_prefix="/subscribers")

from campaigns.web.subscribers import (  # noqa: E402, F401 - register their routes on bp
    imports,
    listing,
    person,
    segments,
    signup_form,
    suppressions,
)


@bp.errorhandler(NotFound)
def _not_found(error: NotFound):  # noqa: ANN202
    """A subscriber, segment or import that does not exist is a 404 page."""
    return render_error(HTTPNotFound())
