"""Supervisors see a live alerts area for conversations no agent could take; agents do not."""
from tests.conftest import login


def test_the_alerts_area_is_on_supervisors_pages_only(app, people):
    supervisor, agent = app.test_client(), app.test_client()
    login(supervisor, people.supervisor.email)
    login(agent, people.agent_a.email)
    page = supervisor.get("/").get_data(as_text=True)
    assert 'data-testid="alerts"' in page and "no_free_agent" in page  # the area and its label
    assert 'data-testid="alerts"' not in agent.get("/").get_data(as_text=True)
