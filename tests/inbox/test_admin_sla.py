"""The admins' SLA screen: policies and business hours, validated by the clock, audited, admin-only."""
import html
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from inbox.extensions import db
from inbox.models import AuditLog, BusinessHours, SlaPolicy
from inbox.services import sla, sla_settings
from routing import sla as clock
from tests.conftest import login, post

RAMADAN = {"name": "Ramadan", "first_day": "2026-02-19", "last_day": "2026-03-19", "hours": "09:00-15:00"}


@pytest.fixture
def admin(client, people):
    login(client, people.admin.email)
    return client


def policies_form(app, **changes) -> dict:
    with app.app_context():
        fields = dict(sla_settings.form().policies)
    return fields | changes


def hours_form(overrides=(), **changes) -> dict:
    fields = {"timezone": "Asia/Amman", "holidays": "", **{f"hours-{day}": "08:00-20:00" for day in
                                                           ("sunday", "monday", "tuesday", "wednesday", "thursday")}}
    for key in ("name", "first_day", "last_day", "hours"):
        fields[f"override-{key}"] = [row[key] for row in overrides]
    return fields | changes


def audit(app, action: str) -> list[dict]:
    with app.app_context():
        return [row.data for row in db.session.scalars(select(AuditLog).where(AuditLog.action == action))]


def page(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def test_the_screen_shows_the_defaults(admin):
    response = admin.get("/admin/sla")
    assert response.status_code == 200
    text = page(response)
    assert 'name="p1-first_response_minutes" value="15"' in text
    assert 'name="hours-sunday" value="08:00-20:00"' in text
    assert 'name="hours-friday" value=""' in text
    assert 'value="Asia/Amman"' in text
    assert 'href="/admin/sla"' in page(admin.get("/admin/"))


def test_saving_policies_applies_them_and_audits_the_change(app, admin, people):
    fields = policies_form(app, **{"p3-first_response_minutes": "90", "p3-next_response_minutes": "",
                                   "p3-business_hours": "1", "p1-name": "Critical"})
    response = post(admin, "/admin/sla/policies", fields)
    assert response.status_code == 303
    with app.app_context():
        normal = db.session.scalar(select(SlaPolicy).where(SlaPolicy.priority == 3))
        assert (normal.first_response_minutes, normal.next_response_minutes) == (90, None)
        current = sla.policies()
        assert current[3].first_response == timedelta(minutes=90) and current[3].next_response is None
        assert current[1].name == "Critical" and current[1].business_hours is False
    [entry] = audit(app, "sla.policies_saved")
    assert entry["changed"]["3"]["to"]["first_response_minutes"] == 90
    assert set(entry["changed"]) == {"1", "2", "3", "4"}  # nothing was stored before: the defaults were in use
    # Saving the same again changes nothing, and says so.
    assert post(admin, "/admin/sla/policies", fields).status_code == 303
    assert audit(app, "sla.policies_saved")[1]["changed"] == {}


@pytest.mark.parametrize(("field", "value", "message"), [
    ("p2-first_response_minutes", "-5", "first_response_minutes: '-5' is not a positive whole number"),
    ("p4-resolution_minutes", "1.5", "resolution_minutes: '1.5' is not a positive whole number"),
    ("p3-name", " ", "name: must not be empty"),
])
def test_a_bad_policy_is_shown_next_to_its_field_and_nothing_is_saved(app, admin, field, value, message):
    response = post(admin, "/admin/sla/policies", policies_form(app, **{field: value}))
    assert response.status_code == 422
    text = page(response)
    assert f'data-testid="error-{field}">{message}' in text
    assert f'name="{field}" value="{value}"' in text  # what was typed comes back
    with app.app_context():
        assert db.session.scalars(select(SlaPolicy)).all() == []
    assert audit(app, "sla.policies_saved") == []


def test_saving_business_hours_with_a_holiday_and_ramadan(app, admin):
    eid_eve = {"name": "Eid eve", "first_day": "2026-03-19", "last_day": "", "hours": "closed"}
    fields = hours_form([RAMADAN, eid_eve, {"name": "", "first_day": "", "last_day": "", "hours": ""}],
                        **{"holidays": "2026-05-25\n2026-01-01", "hours-thursday": "08:00-12:00, 13:00-16:00"})
    response = post(admin, "/admin/sla/hours", fields)
    assert response.status_code == 303, page(response)
    with app.app_context():
        config = db.session.scalar(select(BusinessHours.config))
        hours = sla.business_hours()
    assert config == hours.to_dict()
    assert config["holidays"] == ["2026-01-01", "2026-05-25"]
    assert config["weekly"]["thursday"] == [["08:00", "12:00"], ["13:00", "16:00"]]
    assert [o["name"] for o in config["overrides"]] == ["Ramadan", "Eid eve"]
    assert hours.hours_on(date(2026, 3, 1)) == (clock.Interval.parse("09:00", "15:00"),)
    assert hours.hours_on(date(2026, 3, 19)) == ()
    [entry] = audit(app, "sla.business_hours_saved")
    assert entry["from"] is None and entry["to"] == config
    text = page(admin.get("/admin/sla"))
    assert 'name="override-name" value="Ramadan"' in text and 'name="override-hours" value="09:00-15:00"' in text


@pytest.mark.parametrize(("changes", "overrides", "field", "message"), [
    ({"hours-sunday": "20:00-08:00"}, [], "hours-sunday",
     "weekly: sunday: interval 1: end 08:00 is not after start 20:00"),
    ({"hours-monday": "08:00-12:00, 11:00-14:00"}, [], "hours-monday", "weekly: monday: 08:00-12:00 and 11:00-14:00"),
    ({"holidays": "2026-13-01"}, [], "holidays", "holidays: '2026-13-01' is not a date"),
    ({"timezone": "Asia/Zarqa"}, [], "timezone", "timezone: unknown time zone 'Asia/Zarqa'"),
    ({}, [{"name": "", "first_day": "", "last_day": "", "hours": ""}, {**RAMADAN, "last_day": "2026-02-01"}],
     "override-1", "override 1 (Ramadan): last_day: 2026-02-01 is before first_day 2026-02-19"),
])
def test_bad_business_hours_are_shown_next_to_their_field(app, admin, changes, overrides, field, message):
    response = post(admin, "/admin/sla/hours", hours_form(overrides, **changes))
    assert response.status_code == 422
    assert f'data-testid="error-{field}">{message}' in page(response)
    with app.app_context():
        assert db.session.scalar(select(BusinessHours)) is None
    assert audit(app, "sla.business_hours_saved") == []


def test_only_admins_may_see_or_change_sla_settings(app, people):
    for email in (people.agent_a.email, people.supervisor.email):
        client = app.test_client()
        login(client, email)
        assert client.get("/admin/sla").status_code == 403
        assert post(client, "/admin/sla/policies", policies_form(app)).status_code == 403
        assert post(client, "/admin/sla/hours", hours_form()).status_code == 403
    with app.app_context():
        assert db.session.scalars(select(SlaPolicy)).all() == []


def test_a_post_without_csrf_token_is_refused(app, admin):
    assert admin.post("/admin/sla/policies", data=policies_form(app)).status_code == 400
    assert admin.post("/admin/sla/hours", data=hours_form()).status_code == 400
    with app.app_context():
        assert db.session.scalars(select(SlaPolicy)).all() == []
        assert db.session.scalar(select(BusinessHours)) is None
