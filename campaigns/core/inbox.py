"""The inbox list: filter, search, sort and page follow-ups; count them by state."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Select, and_, false, func, literal_column, or_, select
from sqlalchemy import text as sql_text
from sqlalchemy.orm import contains_eager, selectinload

from campaigns.db import db, utcnow
from campaigns.models import (
    Campaign,
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
             .options(contains_eager(FollowUp.subscriber),
                      # the list shows a campaign's name and a snippet of the last message:
                      # never load the templates or anything else the row does not show
                      selectinload(FollowUp.campaign).load_only(Campaign.id, Campaign.name),
                      selectinload(FollowUp.messages).load_only(
                          FollowUpMessage.direction, FollowUpMessage.text,
                          FollowUpMessage.created_at)))
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
    """Match the person (email, names, company) or any message text of the conversation.

    Substring search uses the trigram indexes of migration 0003 (FTS5 on SQLite, pg_trgm
    on PostgreSQL) when the text is rare. A common text is matched row by row along the
    list's own order instead, which stops after a page because matches are dense; a text
    shorter than a trigram is always matched row by row.
    """
    pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    person = _person_text().ilike(pattern, escape="\\")
    # A correlated scalar subquery, not EXISTS: PostgreSQL would hash an EXISTS over every
    # message, while this is checked per row and so stops with the page.
    message = select(literal_column("1")).where(
        FollowUpMessage.followup_id == FollowUp.id,
        FollowUpMessage.text.ilike(pattern, escape="\\")).limit(1).scalar_subquery().is_not(None)
    if len(text) < 3 or db.engine.dialect.name not in ("sqlite", "postgresql"):
        return or_(person, message)
    if db.engine.dialect.name == "sqlite":
        people, messages = _sqlite_fts_hits(text)
    else:
        people = select(Subscriber.id).where(person)
        messages = select(FollowUpMessage.id).where(
            FollowUpMessage.text.ilike(pattern, escape="\\"))
    conditions, found_ids = [], set()
    if _more_than(people, DENSE_HITS):
        conditions.append(person)
    else:
        found_ids.update(db.session.scalars(
            select(FollowUp.id).where(FollowUp.subscriber_id.in_(people))))
    if _more_than(messages, DENSE_HITS):
        conditions.append(message)
    else:
        found_ids.update(db.session.scalars(
            select(FollowUpMessage.followup_id).where(FollowUpMessage.id.in_(messages))))
    if found_ids:
        # Concrete ids let the database fetch the few matches by key instead of scanning.
        conditions.append(FollowUp.id.in_(sorted(found_ids)))
    return or_(*conditions) if conditions else false()


DENSE_HITS = 2000  # more index hits than this: scanning in order finds a page sooner


def _person_text():  # noqa: ANN202 - a SQL expression
    """The searchable text of a person; PostgreSQL's trigram index covers this expression."""
    space = literal_column("' '")
    return (Subscriber.email.op("||")(space).op("||")(Subscriber.first_name).op("||")(space)
            .op("||")(Subscriber.last_name).op("||")(space).op("||")(Subscriber.company))


def _more_than(query: Select, limit: int) -> bool:
    """Tell whether a query returns more than `limit` rows (reads at most limit + 1)."""
    return (db.session.scalar(select(func.count()).select_from(
        query.limit(limit + 1).subquery())) or 0) > limit


def _sqlite_fts_hits(text: str) -> tuple[Select, Select]:
    """Return the subscriber ids and message ids whose text contains `text` (FTS5 trigram)."""
    phrase = '"' + text.replace('"', '""') + '"'
    people = select(literal_column("rowid")).select_from(sql_text("subscribers_fts")).where(
        sql_text("subscribers_fts MATCH :people_phrase").bindparams(people_phrase=phrase))
    messages = select(literal_column("rowid")).select_from(sql_text("followup_messages_fts")).where(
        sql_text("followup_messages_fts MATCH :message_phrase").bindparams(message_phrase=phrase))
    return people, messages


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


BIG_INBOX = 10_000  # from this many conversations on, the tab counts may be a few seconds old
COUNTS_MAX_AGE = 5.0
_counts_cache: dict[str, tuple[float, dict[str, int]]] = {}
_counts_lock = threading.Lock()


def counts_for_tabs() -> dict[str, int]:
    """Return the counts the inbox tabs show: exact, or at most 5 s old for a big inbox.

    Counting 100k conversations by state is a scan of their index (~15 ms on PostgreSQL) on
    every page view; a big inbox reuses this process's last count for a few seconds, so the
    list itself (always live) stays fast.
    """
    key = str(db.engine.url)
    now = time.monotonic()
    with _counts_lock:
        cached = _counts_cache.get(key)
    if cached and now - cached[0] < COUNTS_MAX_AGE and cached[1]["all"] >= BIG_INBOX:
        return cached[1]
    fresh = counts()
    with _counts_lock:
        _counts_cache[key] = (now, fresh)
    return fresh


def overdue(followup: FollowUp) -> bool:
    """Tell whether a conversation's due date has passed."""
    return followup.due_at is not None and followup.due_at < utcnow() \
        and followup.status != FollowUpStatus.DONE
