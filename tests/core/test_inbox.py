"""The inbox list: filters, search over people and messages, order and paging."""

from campaigns.core import inbox
from campaigns.core.inbox import InboxFilter
from campaigns.db import db
from campaigns.models import FollowUpStatus
from tests.support import factories


def names(flt: InboxFilter) -> list[str]:
    return [f.subscriber.first_name for f in inbox.inbox_page(flt)[0]]


def test_newest_conversations_come_first(app_ctx):
    factories.followup(factories.subscriber(first_name="Old"), minutes_ago=60)
    factories.followup(factories.subscriber(first_name="New"), minutes_ago=1)
    assert names(InboxFilter()) == ["New", "Old"]
    assert names(InboxFilter(sort="oldest")) == ["Old", "New"]


def test_search_finds_people_by_company_and_conversations_by_message_text(app_ctx):
    factories.followup(factories.subscriber(first_name="Ann", company="Acme"), text="hi")
    factories.followup(factories.subscriber(first_name="Bob"), text="Let's talk about Rust")
    assert names(InboxFilter(q="acme")) == ["Ann"]
    assert names(InboxFilter(q="rust")) == ["Bob"]


def test_search_treats_percent_and_underscore_literally(app_ctx):
    factories.followup(factories.subscriber(first_name="Ann"), text="100% in")
    factories.followup(factories.subscriber(first_name="Bob"), text="1000 in")
    assert names(InboxFilter(q="100%")) == ["Ann"]


def test_filters_by_campaign_and_waiting_side(app_ctx):
    coffee, intro = factories.campaign("Coffee"), factories.campaign("Intro")
    factories.followup(factories.subscriber(first_name="Ann"), coffee, waiting_on="them")
    factories.followup(factories.subscriber(first_name="Bob"), intro)
    assert names(InboxFilter(campaign_id=coffee.id)) == ["Ann"]
    assert names(InboxFilter(waiting_on="me")) == ["Bob"]


def test_paging_returns_every_conversation_once(app_ctx):
    for n in range(inbox.PAGE_SIZE + 7):
        factories.followup(minutes_ago=n % 5)  # many share a timestamp: the id breaks ties
    seen, cursor = [], None
    while True:
        rows, cursor = inbox.inbox_page(InboxFilter(after=cursor))
        seen += [r.id for r in rows]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == inbox.PAGE_SIZE + 7


def test_counts_by_state(app_ctx):
    factories.followup()
    factories.followup(status=FollowUpStatus.DONE, outcome="declined", unread=False)
    db.session.flush()
    counts = inbox.counts()
    assert (counts["open"], counts["done"], counts["unread"], counts["all"]) == (1, 1, 1, 2)


def test_tab_counts_of_a_small_inbox_are_always_exact(app_ctx):
    factories.followup()
    assert inbox.counts_for_tabs()["open"] == 1
    factories.followup()
    assert inbox.counts_for_tabs()["open"] == 2


def test_tab_counts_of_a_big_inbox_may_be_seconds_old(app_ctx, monkeypatch):
    monkeypatch.setattr(inbox, "BIG_INBOX", 1)
    # The cache is per process and per database: start from none, whatever ran before.
    monkeypatch.setattr(inbox, "_counts_cache", {})
    factories.followup()
    assert inbox.counts_for_tabs()["open"] == 1
    factories.followup()
    assert inbox.counts_for_tabs()["open"] == 1  # reused
    monkeypatch.setattr(inbox, "COUNTS_MAX_AGE", 0)
    assert inbox.counts_for_tabs()["open"] == 2
