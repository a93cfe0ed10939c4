"""Customer tracking links: what a customer sees without an account, and what nobody may see through them."""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import parse_qs

import pytest
from django.core import signing
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from config.kernel.errors import Conflict, Forbidden, ValidationFailed
from orders.models import OrderRating, TrackingLink
from orders.sales import transitions
from orders.tracking import services as tracking
from tests.factories import (
    CustomerFactory,
    ProductFactory,
    UserFactory,
    complete_by_hand,
    make_order,
    start_by_hand,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    # Local-memory caches live as long as the process: start each test with no request counted.
    cache.clear()


def url(link: TrackingLink) -> str:
    return tracking.tracking_path(link)


def rating_form(link: TrackingLink, **fields) -> dict:
    """The rating form's fields as the page renders them (the nonce of this link)."""
    return {"form_nonce": tracking.rating_form_nonce(link), **fields}


def released(sales, planner, **kwargs):
    order = make_order(owner=sales, confirmed=True, **kwargs)
    return transitions.order_release(actor=planner, order=order)


def shipped(sales, planner, manager, **kwargs):
    order = released(sales, planner, **kwargs)
    order = start_by_hand(order)
    order = complete_by_hand(order)
    return transitions.order_ship(actor=manager, order=order)


@pytest.fixture
def link(sales, planner):
    order = released(sales, planner, customer_po="PO-4711", remarks="Margin is thin: internal only")
    return tracking.tracking_link_create(actor=sales, order=order, expires_in_days=30)


# --- what the customer sees -----------------------------------------------------------------------------
def test_a_customer_opens_the_link_without_an_account(client, link):
    response = client.get(url(link))
    assert response.status_code == 200
    page = response.content.decode()
    assert link.order.number in page
    assert "PO-4711" in page
    assert "Released to production" in page


def test_the_page_carries_the_manufacturers_name_when_set(client, link, settings):
    settings.COMPANY_NAME = "Harbour Metalworks"
    page = client.get(url(link)).content.decode()
    assert page.count("Harbour Metalworks") == 3  # header, title, footer
    assert "one order number from CRM to MES" not in page


def test_the_page_shows_nothing_internal(client, sales, link):
    other = make_order(owner=sales, customer=link.order.customer, customer_po="PO-OTHER")
    page = client.get(url(link)).content.decode()
    assert "Margin is thin" not in page  # remarks
    assert sales.username not in page  # staff names
    assert other.number not in page and "PO-OTHER" not in page  # the customer's other orders
    assert reverse("orders:order_list") not in page  # no way into the application


def test_the_public_page_is_private_uncached_and_sends_no_referrer(client, link):
    response = client.get(url(link))
    assert "no-store" in response["Cache-Control"]
    assert response["Referrer-Policy"] == "no-referrer"
    assert "noindex" in response["X-Robots-Tag"]


def test_opening_the_link_is_counted_for_customer_service(client, link):
    client.get(url(link))
    client.get(url(link))
    link.refresh_from_db()
    assert link.open_count == 2
    assert link.last_opened_at is not None


def test_the_page_speaks_the_customers_language(client, sales, planner):
    customer = CustomerFactory(language="zh-hans")
    order = released(sales, planner, customer=customer)
    link = tracking.tracking_link_create(actor=sales, order=order)
    response = client.get(url(link))
    assert response["Content-Language"] == "zh-hans"
    assert '<html lang="zh-hans">' in response.content.decode()
    assert "已下达" in response.content.decode()


def test_a_chinese_customer_reads_the_products_chinese_name_and_unit(client, sales, planner):
    door = ProductFactory(name="Steel cabinet door", name_zh="钢制柜门", unit="pcs")
    order = released(sales, planner, customer=CustomerFactory(language="zh-hans"), product=door)
    link = tracking.tracking_link_create(actor=sales, order=order)

    page = client.get(url(link)).content.decode()

    assert "钢制柜门" in page and "Steel cabinet door" not in page
    assert " 件</span>" in page and " pcs</span>" not in page


def test_an_english_reader_of_the_same_link_reads_the_english_name_and_unit(client, sales, planner):
    door = ProductFactory(name="Steel cabinet door", name_zh="钢制柜门", unit="pcs")
    order = released(sales, planner, customer=CustomerFactory(language="zh-hans"), product=door)
    link = tracking.tracking_link_create(actor=sales, order=order)

    page = client.get(url(link) + "?lang=en").content.decode()

    assert "Steel cabinet door" in page and "钢制柜门" not in page
    assert " pcs</span>" in page


def test_the_customer_may_switch_the_language(client, sales, planner):
    order = released(sales, planner, customer=CustomerFactory(language="zh-hans"))
    link = tracking.tracking_link_create(actor=sales, order=order)
    response = client.get(url(link) + "?lang=en")
    assert response["Content-Language"] == "en"
    assert "Released to production" in response.content.decode()


def test_milestones_carry_the_dates_the_order_reached_them(sales, planner, manager):
    order = shipped(sales, planner, manager)
    link = tracking.tracking_link_create(actor=sales, order=order)
    view = tracking.tracking_view(link=link)
    reached = {m.key: m for m in view.milestones}
    assert all(m.done for m in view.milestones)
    assert reached["shipped"].reached_at is not None
    assert reached["confirmed"].reached_at <= reached["shipped"].reached_at
    assert view.percent_complete == 100


def test_a_held_order_shows_the_milestones_reached_before_the_hold(sales, planner, link):
    transitions.order_hold(actor=planner, order=link.order, reason="Quality hold: internal detail")
    link.refresh_from_db()
    view = tracking.tracking_view(link=link)
    assert [m.done for m in view.milestones] == [True, True, False, False, False]
    assert view.status == "on_hold"


# --- links that must not open -----------------------------------------------------------------------------
def test_an_expired_link_answers_410_and_shows_no_order(client, link):
    TrackingLink.objects.filter(pk=link.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    response = client.get(url(link))
    assert response.status_code == 410
    assert link.order.number not in response.content.decode()
    assert "expired" in response.content.decode()


def test_a_revoked_link_answers_410_at_once(client, sales, link):
    tracking.tracking_link_revoke(actor=sales, link=link)
    response = client.get(url(link))
    assert response.status_code == 410
    assert link.order.number not in response.content.decode()


def test_a_tampered_token_answers_404(client, link):
    token = tracking.tracking_token(link)
    public_id, signature = token.split(".")
    flipped = public_id[:-1] + ("A" if public_id[-1] != "A" else "B")
    for bad in (f"{flipped}.{signature}", f"{public_id}.{signature[:-2]}xx", public_id, "x" * 40):
        response = client.get(reverse("tracking:track", kwargs={"token": bad}))
        assert response.status_code == 404, bad
        assert link.order.number not in response.content.decode()


def test_another_orders_link_id_with_this_links_signature_shows_nothing(client, sales, planner, link):
    other = tracking.tracking_link_create(actor=sales, order=released(sales, planner))
    signature = tracking.tracking_token(link).split(".")[1]
    response = client.get(reverse("tracking:track", kwargs={"token": f"{other.public_id}.{signature}"}))
    assert response.status_code == 404
    assert other.order.number not in response.content.decode()


def test_a_signed_but_unknown_id_answers_404(client, link):
    token = signing.Signer(salt=tracking.SIGNING_SALT, sep=".").sign("no-such-link-id")
    assert client.get(reverse("tracking:track", kwargs={"token": token})).status_code == 404


def test_a_token_signed_for_another_purpose_is_refused(client, link):
    token = signing.Signer(sep=".").sign(link.public_id)  # Django's default salt, not the tracking one
    assert client.get(reverse("tracking:track", kwargs={"token": token})).status_code == 404


def test_too_many_requests_from_one_client_are_refused(client, link, settings):
    settings.TRACKING_RATE_PER_MINUTE = 3
    statuses = [client.get(url(link)).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]


def test_without_trusted_proxies_a_forged_forwarded_header_does_not_escape_the_limit(client, link, settings):
    settings.TRUSTED_PROXY_COUNT = 0
    settings.TRACKING_RATE_PER_MINUTE = 2
    statuses = [client.get(url(link), HTTP_X_FORWARDED_FOR=f"203.0.113.{n}").status_code for n in range(3)]
    assert statuses == [200, 200, 429]


def test_behind_a_proxy_each_customer_has_their_own_limit(client, link, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.TRACKING_RATE_PER_MINUTE = 2
    proxy = {"REMOTE_ADDR": "10.0.0.2"}  # every request arrives from the proxy
    first = [client.get(url(link), HTTP_X_FORWARDED_FOR="203.0.113.7", **proxy).status_code for _ in range(3)]
    other = client.get(url(link), HTTP_X_FORWARDED_FOR="198.51.100.20", **proxy).status_code
    assert first == [200, 200, 429]
    assert other == 200


def test_a_client_guessing_tokens_is_blocked_even_for_a_real_link(client, link, settings):
    settings.TRACKING_BAD_TOKENS_PER_HOUR = 2
    for guess in range(3):
        client.get(reverse("tracking:track", kwargs={"token": f"guess{guess}.abc"}))
    assert client.get(url(link)).status_code == 429


# --- ratings -----------------------------------------------------------------------------------------------
def test_the_customer_rates_a_delivered_order_once(client, sales, planner, manager):
    order = shipped(sales, planner, manager)
    link = tracking.tracking_link_create(actor=sales, order=order)
    first = client.post(
        reverse("tracking:rate", kwargs={"token": tracking.tracking_token(link)}),
        rating_form(link, score="4"),
    )
    assert first.status_code == 302
    second = client.post(
        reverse("tracking:rate", kwargs={"token": tracking.tracking_token(link)}),
        rating_form(link, score="1", comment="x"),
    )
    assert second.status_code == 409
    assert "already been rated" in second.content.decode()
    rating = OrderRating.objects.get(order=order)
    assert (rating.score, rating.comment) == (4, "")


def test_a_second_rating_through_another_link_is_refused_too(sales, planner, manager):
    order = shipped(sales, planner, manager)
    first = tracking.tracking_link_create(actor=sales, order=order)
    second = tracking.tracking_link_create(actor=sales, order=order)
    tracking.order_rating_submit(link=first, score=5, comment="Great")
    with pytest.raises(Conflict) as refused:
        tracking.order_rating_submit(link=second, score=2)
    assert refused.value.code == "already_rated"


def test_an_order_not_yet_delivered_cannot_be_rated(client, link):
    response = client.post(
        reverse("tracking:rate", kwargs={"token": tracking.tracking_token(link)}),
        rating_form(link, score="5"),
    )
    assert response.status_code == 409
    assert not OrderRating.objects.exists()


@pytest.mark.parametrize("score", ["0", "6", "five", ""])
def test_a_score_outside_one_to_five_names_the_field(sales, planner, manager, score):
    link = tracking.tracking_link_create(actor=sales, order=shipped(sales, planner, manager))
    with pytest.raises(ValidationFailed) as refused:
        tracking.order_rating_submit(link=link, score=score)
    assert "score" in refused.value.fields


def test_a_rating_is_refused_through_a_revoked_link(client, sales, planner, manager):
    link = tracking.tracking_link_create(actor=sales, order=shipped(sales, planner, manager))
    tracking.tracking_link_revoke(actor=sales, link=link)
    response = client.post(
        reverse("tracking:rate", kwargs={"token": tracking.tracking_token(link)}),
        rating_form(link, score="5"),
    )
    assert response.status_code == 410
    assert not OrderRating.objects.exists()


def test_a_customer_without_cookies_rates_through_the_form(sales, planner, manager):
    link = tracking.tracking_link_create(actor=sales, order=shipped(sales, planner, manager))
    browser = Client(enforce_csrf_checks=True)
    page = browser.get(url(link))
    assert not page.cookies  # nothing to store: the page sets no cookie at all
    nonce = re.search(r'name="form_nonce" value="([^"]+)"', page.content.decode()).group(1)
    browser.cookies.clear()  # and the phone sends none back
    response = browser.post(
        reverse("tracking:rate", kwargs={"token": tracking.tracking_token(link)}),
        {"form_nonce": nonce, "score": "5", "comment": "Quick delivery"},
    )
    assert response.status_code == 302
    assert OrderRating.objects.get(order=link.order).score == 5


@pytest.mark.parametrize("nonce", ["", "forged", "of-another-link", "expired"])
def test_a_rating_without_a_valid_form_nonce_saves_nothing(sales, planner, manager, nonce, monkeypatch):
    order = shipped(sales, planner, manager)
    link = tracking.tracking_link_create(actor=sales, order=order)
    other = tracking.tracking_link_create(actor=sales, order=shipped(sales, planner, manager))
    if nonce == "of-another-link":
        nonce = tracking.rating_form_nonce(other)
    elif nonce == "expired":
        nonce = tracking.rating_form_nonce(link)
        monkeypatch.setattr(tracking, "RATING_FORM_MAX_AGE", dt.timedelta(seconds=-1))  # already too old
    response = Client(enforce_csrf_checks=True).post(
        reverse("tracking:rate", kwargs={"token": tracking.tracking_token(link)}),
        {"form_nonce": nonce, "score": "5", "comment": "kept"},
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "expired" in page and "kept" in page  # the customer's comment is kept in the new form
    assert not OrderRating.objects.exists()


def test_a_rating_form_sent_a_second_time_is_refused_as_already_used(sales, planner, manager):
    link = tracking.tracking_link_create(actor=sales, order=shipped(sales, planner, manager))
    path = reverse("tracking:rate", kwargs={"token": tracking.tracking_token(link)})
    form = rating_form(link, score="5", comment="Quick delivery")
    assert Client().post(path, form).status_code == 302
    replay = Client().post(path, {**form, "score": "1", "comment": "Changed my mind"})
    assert replay.status_code == 409
    assert "already been rated: this form can no longer be sent" in replay.content.decode()
    assert OrderRating.objects.get(order=link.order).score == 5


def test_two_forms_sent_at_once_still_make_one_rating(sales, planner, manager):
    link = tracking.tracking_link_create(actor=sales, order=shipped(sales, planner, manager))
    path = reverse("tracking:rate", kwargs={"token": tracking.tracking_token(link)})
    first = Client().post(path, rating_form(link, score="5"))
    second = Client().post(path, rating_form(link, score="1"))
    assert (first.status_code, second.status_code) == (302, 409)
    assert OrderRating.objects.get(order=link.order).score == 5


# --- staff: create, revoke, the panel ---------------------------------------------------------------------
def test_several_links_per_order_each_with_its_own_expiry(sales, planner):
    order = released(sales, planner)
    short = tracking.tracking_link_create(actor=sales, order=order, expires_in_days=7)
    long = tracking.tracking_link_create(actor=sales, order=order, expires_in_days=90)
    assert short.public_id != long.public_id
    assert (long.expires_at - short.expires_at).days == 83


def test_creating_and_revoking_is_recorded_with_who(sales, planner, link):
    tracking.tracking_link_revoke(actor=sales, link=link, reason="Sent to the wrong person")
    records = list(link.history.order_by("history_date"))
    assert [r.history_user for r in records] == [sales, sales]
    assert records[-1].history_change_reason == "Sent to the wrong person"


def test_the_panel_offers_an_email_to_the_customer_in_the_customers_language(client, sales, planner):
    customer = CustomerFactory(language="zh-hans", email="buyer@customer.example")
    order = released(sales, planner, customer=customer, customer_po="PO-88")
    link = tracking.tracking_link_create(actor=sales, order=order)
    client.force_login(sales)
    page = client.get(reverse("orders:order_detail", kwargs={"number": order.number})).content.decode()
    mailto = re.search(r'data-testid="tracking-mail"\s+href="([^"]+)"', page).group(1).replace("&amp;", "&")
    address, query = mailto.removeprefix("mailto:").split("?", 1)
    fields = parse_qs(query)
    assert address == "buyer@customer.example"
    assert fields["subject"] == [f"跟踪您的订单 {order.number}"]
    assert "PO-88" in fields["body"][0]
    assert fields["body"][0].endswith(f"http://testserver{url(link)}")


def test_behind_a_proxy_the_panel_gives_the_public_url_not_the_requests_host(
    client, sales, planner, settings
):
    settings.PUBLIC_URL = "https://track.plant.example"
    order = released(sales, planner)
    link = tracking.tracking_link_create(actor=sales, order=order)
    client.force_login(sales)
    page = client.get(reverse("orders:order_detail", kwargs={"number": order.number})).content.decode()
    shown = re.search(r'data-testid="tracking-url">([^<]+)</textarea>', page).group(1)
    mailto = re.search(r'data-testid="tracking-mail"\s+href="([^"]+)"', page).group(1).replace("&amp;", "&")
    assert shown == f"https://track.plant.example{url(link)}"
    assert parse_qs(mailto.split("?", 1)[1])["body"][0].endswith(shown)


@pytest.mark.parametrize(
    ("public_url", "expected"),
    [
        ("", "http://orderbridge.internal:8000"),
        ("https://track.plant.example", "https://track.plant.example"),
    ],
)
def test_a_tracking_url_built_without_a_request_uses_the_public_url_else_the_site_url(
    settings, link, public_url, expected
):
    settings.PUBLIC_URL, settings.SITE_URL = public_url, "http://orderbridge.internal:8000"
    assert tracking.tracking_url(link) == f"{expected}{url(link)}"


def test_revoking_twice_is_a_conflict(sales, link):
    tracking.tracking_link_revoke(actor=sales, link=link)
    with pytest.raises(Conflict):
        tracking.tracking_link_revoke(actor=sales, link=link)


def test_a_draft_order_cannot_be_shared(sales):
    with pytest.raises(Conflict):
        tracking.tracking_link_create(actor=sales, order=make_order(owner=sales))


@pytest.mark.parametrize("days", [0, 366, "soon"])
def test_the_expiry_must_be_between_one_day_and_a_year(sales, planner, days):
    with pytest.raises(ValidationFailed) as refused:
        tracking.tracking_link_create(actor=sales, order=released(sales, planner), expires_in_days=days)
    assert "expires_in_days" in refused.value.fields


def test_roles_without_the_permission_cannot_share(sales, planner, outsider):
    order = released(sales, planner)
    for actor in (planner, outsider):
        with pytest.raises(Forbidden):
            tracking.tracking_link_create(actor=actor, order=order)


def test_sales_cannot_share_another_sales_persons_order(sales, other_sales, planner):
    with pytest.raises(Forbidden):
        tracking.tracking_link_create(actor=other_sales, order=released(sales, planner))


def test_customer_service_creates_a_link_from_the_order_page(client, sales, planner, service_agent):
    order = released(sales, planner)
    client.force_login(service_agent)
    response = client.post(
        reverse("service:tracking_link_create", args=[order.number]), {"expires_in_days": "7"}
    )
    assert response.status_code == 302
    link = TrackingLink.objects.get(order=order)
    assert link.created_by == service_agent
    detail = client.get(reverse("orders:order_detail", args=[order.number])).content.decode()
    assert tracking.tracking_path(link) in detail


def test_the_panel_answers_htmx_with_the_new_link_to_copy(client, sales, planner):
    order = released(sales, planner)
    client.force_login(sales)
    response = client.post(
        reverse("service:tracking_link_create", args=[order.number]),
        {"expires_in_days": "30"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    link = TrackingLink.objects.get(order=order)
    assert tracking.tracking_path(link) in response.content.decode()
    assert "data-ob-copy" in response.content.decode()


def test_revoking_from_the_order_page_stops_the_link(client, sales, link):
    client.force_login(sales)
    response = client.post(reverse("service:tracking_link_revoke", args=[link.order.number, link.pk]))
    assert response.status_code == 302
    link.refresh_from_db()
    assert link.revoked_by == sales
    client.logout()
    assert client.get(url(link)).status_code == 410


def test_an_outsider_cannot_create_links_or_see_the_order(client, outsider, link):
    client.force_login(outsider)
    response = client.post(reverse("service:tracking_link_create", args=[link.order.number]))
    assert response.status_code == 404
    assert TrackingLink.objects.count() == 1


def test_a_link_id_of_another_order_cannot_be_revoked_through_this_order(client, sales, planner, link):
    other_order = released(sales, planner)
    client.force_login(sales)
    client.post(reverse("service:tracking_link_revoke", args=[other_order.number, link.pk]))
    link.refresh_from_db()
    assert link.revoked_at is None


def test_the_panel_is_hidden_from_roles_without_tracking_permissions(client, planner, link):
    client.force_login(planner)
    page = client.get(reverse("orders:order_detail", args=[link.order.number])).content.decode()
    assert 'data-testid="panel-tracking-link"' not in page


def test_the_rating_shows_on_the_order_page(client, sales, planner, manager):
    order = shipped(sales, planner, manager)
    link = tracking.tracking_link_create(actor=sales, order=order)
    tracking.order_rating_submit(link=link, score=3, comment="Late but fine")
    client.force_login(UserFactory(role="customer_service"))
    page = client.get(reverse("orders:order_detail", args=[order.number])).content.decode()
    assert "Late but fine" in page


def test_a_finished_order_announces_no_expected_date_any_more(client, sales, planner, manager):
    link = tracking.tracking_link_create(actor=sales, order=shipped(sales, planner, manager))
    page = client.get(url(link)).content.decode()
    assert 'data-testid="tracking-expected"' not in page
    assert 'data-testid="tracking-rating"' in page  # but asks for a rating


def test_an_open_order_announces_its_expected_date(client, link):
    page = client.get(url(link)).content.decode()
    assert 'data-testid="tracking-expected"' in page
    assert link.order.promised_date.strftime("%Y") in page


def test_a_new_link_by_default_works_past_the_orders_promised_completion(sales, planner):
    promised = timezone.localdate() + dt.timedelta(days=60)
    order = released(sales, planner, promised_date=promised)

    link = tracking.tracking_link_create(actor=sales, order=order)

    assert link.expires_at.date() >= promised + dt.timedelta(days=tracking.AFTER_COMPLETION_DAYS)


def test_an_order_due_soon_gets_the_usual_thirty_day_link(sales, planner):
    soon = timezone.localdate() + dt.timedelta(days=3)
    order = released(sales, planner, requested_date=soon, promised_date=soon)

    assert tracking.default_expiry_days(order) == tracking.DEFAULT_EXPIRY_DAYS


def test_the_panel_preselects_the_expiry_that_covers_the_expected_completion(client, sales, planner):
    order = released(sales, planner, promised_date=timezone.localdate() + dt.timedelta(days=70))
    client.force_login(sales)

    page = client.get(f"/orders/{order.number}/").content.decode()

    assert '<option value="90" selected>' in page
