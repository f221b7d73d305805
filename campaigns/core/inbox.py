"""The inbox list: filter, search, sort and page follow-ups; count them by state."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Select, and_, exists, func, or_, select
from sqlalchemy.orm import contains_eager

from campaigns.db import db, utcnow
from campaigns.models import (
    FollowUp,
    FollowUpMessage,
    FollowUpStatus,
    Subscriber,
)

PAGE_SIZE = 50
SORTS = ("newest", "oldest", "due")
VIEWS = ("open", "snoozed", "done", "all")


@dataclass(frozen=True)
class InboxFilter:
    """What the user asked the inbox to show."""

    view: str = "open"  # open | snoozed | done | all
    campaign_id: int | None = None
    outcome: str = ""
    assignee_id: int | None = None  # 0 = unassigned
    waiting_on: str = ""  # "me" | "them" | ""
    unread_only: bool = False
    q: str = ""
    sort: str = "newest"
    after: tuple[datetime, int] | None = None  # keyset cursor: (sort key, id) of the last row
    exclude: tuple[int, ...] = field(default=())


def inbox_query(flt: InboxFilter) -> Select:
    """Return the SELECT for one page of the inbox, subscribers loaded with the rows."""
    query = (select(FollowUp).join(FollowUp.subscriber)
             .options(contains_eager(FollowUp.subscriber)))
    query = _filtered(query, flt)
    key = _sort_key(flt.sort)
    descending = flt.sort == "newest"
    if flt.after is not None:
        value, last_id = flt.after
        if descending:
            query = query.where(or_(key < value, and_(key == value, FollowUp.id < last_id)))
        else:
            query = query.where(or_(key > value, and_(key == value, FollowUp.id > last_id)))
    order = (key.desc(), FollowUp.id.desc()) if descending else (key.asc(), FollowUp.id.asc())
    return query.order_by(*order).limit(PAGE_SIZE)


def _sort_key(sort: str):  # noqa: ANN202 - a column expression
    """Return the column a sort orders by; "due" puts undated ones last via a far date."""
    if sort == "due":
        return func.coalesce(FollowUp.due_at, FollowUp.snoozed_until, datetime(9999, 1, 1))
    return FollowUp.last_message_at


def _filtered(query: Select, flt: InboxFilter) -> Select:
    """Apply every filter except paging and order."""
    if flt.view in ("open", "snoozed", "done"):
        query = query.where(FollowUp.status == FollowUpStatus(flt.view))
    if flt.campaign_id:
        query = query.where(FollowUp.campaign_id == flt.campaign_id)
    if flt.outcome:
        query = query.where(FollowUp.outcome == flt.outcome)
    if flt.assignee_id is not None:
        query = query.where(FollowUp.assignee_id == (flt.assignee_id or None))
    if flt.waiting_on in ("me", "them"):
        query = query.where(FollowUp.waiting_on == flt.waiting_on)
    if flt.unread_only:
        query = query.where(FollowUp.unread.is_(True))
    if flt.q.strip():
        query = query.where(_matches(flt.q.strip()))
    if flt.exclude:
        query = query.where(FollowUp.id.not_in(flt.exclude))
    return query


def _matches(text: str):  # noqa: ANN202 - a SQL condition
    """Match the person (email, names, company) or any message text of the conversation."""
    pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    person = or_(*(column.ilike(pattern, escape="\\") for column in (
        Subscriber.email, Subscriber.first_name, Subscriber.last_name, Subscriber.company)))
    message = exists().where(FollowUpMessage.followup_id == FollowUp.id,
                             FollowUpMessage.text.ilike(pattern, escape="\\"))
    return or_(person, message)


def inbox_page(flt: InboxFilter) -> tuple[list[FollowUp], tuple[datetime, int] | None]:
    """Return one page of follow-ups and the cursor of the next page (None at the end)."""
    rows = list(db.session.scalars(inbox_query(flt)).unique())
    if len(rows) < PAGE_SIZE:
        return rows, None
    last = rows[-1]
    if flt.sort == "due":
        key = last.due_at or last.snoozed_until or datetime(9999, 1, 1)
    else:
        key = last.last_message_at
    return rows, (key, last.id)


def counts() -> dict[str, int]:
    """Return how many follow-ups are open, snoozed and done, and how many unread open."""
    rows = db.session.execute(
        select(FollowUp.status, func.count()).group_by(FollowUp.status)).all()
    result = {view: 0 for view in ("open", "snoozed", "done")}
    result.update({status: n for status, n in rows})
    result["unread"] = db.session.scalar(select(func.count()).where(
        FollowUp.status == FollowUpStatus.OPEN, FollowUp.unread.is_(True))) or 0
    result["all"] = sum(result[v] for v in ("open", "snoozed", "done"))
    return result


def overdue(followup: FollowUp) -> bool:
    """Tell whether a conversation's due date has passed."""
    return followup.due_at is not None and followup.due_at < utcnow() \
        and followup.status != FollowUpStatus.DONE
