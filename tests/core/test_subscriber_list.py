"""The list: search, filters, sorting and keyset paging in both directions."""

from datetime import timedelta

import pytest

from campaigns.core import consent, subscriber_list, subscribers
from campaigns.core.subscriber_list import ListFilter
from campaigns.db import db, utcnow
from campaigns.models import ConsentSource, Subscriber


@pytest.fixture
def crowd(app_ctx):
    start = utcnow() - timedelta(days=1)
    for i in range(23):
        person = subscribers.create_subscriber(
            f"p{i:02d}@example.com", first_name=f"First{i % 5}", last_name=f"Last{i % 7}",
            company="Acme" if i % 2 else "Globex", tags=["odd"] if i % 2 else [])
        person.created_at = start + timedelta(minutes=i // 2)  # pairs share a timestamp
    db.session.commit()


def walk(list_filter, sort, limit=5):
    """Page forward to the end, then back to the start; return both orders of emails."""
    forward, pages, cursor = [], [], None
    while True:
        page = subscriber_list.page(list_filter, sort, after=cursor, limit=limit)
        pages.append(page)
        forward += [s.email for s in page.subscribers]
        if not page.next_cursor:
            break
        cursor = page.next_cursor
    backward, cursor = [], pages[-1].prev_cursor
    while cursor:
        page = subscriber_list.page(list_filter, sort, before=cursor, limit=limit)
        backward = [s.email for s in page.subscribers] + backward
        cursor = page.prev_cursor
    return forward, backward + [s.email for s in pages[-1].subscribers]


@pytest.mark.parametrize("sort, key, reverse", [
    ("newest", lambda s: (s.created_at, s.id), True),
    ("oldest", lambda s: (s.created_at, s.id), False),
    ("email", lambda s: (s.email, s.id), False),
    ("name", lambda s: (s.last_name, s.first_name, s.id), False),
])
def test_paging_forward_and_back_visits_everyone_once_in_order(crowd, sort, key, reverse):
    expected = [s.email for s in sorted(db.session.scalars(db.select(Subscriber)), key=key,
                                        reverse=reverse)]
    forward, backward = walk(ListFilter(), sort)
    assert forward == expected
    assert backward == expected


def test_the_first_page_has_no_previous_page_and_the_last_no_next(crowd):
    first = subscriber_list.page(ListFilter(), "email", limit=20)
    assert first.prev_cursor is None and first.next_cursor
    last = subscriber_list.page(ListFilter(), "email", after=first.next_cursor, limit=20)
    assert len(last.subscribers) == 3 and last.next_cursor is None and last.prev_cursor


def test_a_damaged_cursor_starts_from_the_beginning(crowd):
    page = subscriber_list.page(ListFilter(), "email", after="not-a-cursor", limit=2)
    assert [s.email for s in page.subscribers] == ["p00@example.com", "p01@example.com"]


def test_search_words_must_each_match_a_name_address_or_company(crowd):
    assert subscriber_list.count(ListFilter(q="first1 acme")) == 3  # p01, p11, p21
    assert subscriber_list.count(ListFilter(q="P07@EXAMPLE")) == 1
    assert subscriber_list.count(ListFilter(q="%")) == 0


def test_filters_by_tag_status_and_paging_together(crowd):
    consent.unsubscribe(subscribers.find_by_email("p01@example.com"), ConsentSource.MANUAL)
    assert subscriber_list.count(ListFilter(tag="ODD")) == 11
    assert subscriber_list.count(ListFilter(tag="odd", status="subscribed")) == 10
    assert subscriber_list.count(ListFilter(status="suppressed")) == 1
    forward, _ = walk(ListFilter(tag="odd", status="subscribed"), "email", limit=3)
    assert len(forward) == 10 and "p01@example.com" not in forward
