"""Bookkeeping that is not a product concept: leases for periodic work."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from campaigns.db import db


class Lease(db.Model):
    """A named lease one process holds until it expires (e.g. "who runs this sweep")."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    holder: Mapped[str] = mapped_column(String(100), default="")
    expires_at: Mapped[datetime]
