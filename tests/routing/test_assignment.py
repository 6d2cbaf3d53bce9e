"""Agent assignment: who is eligible, who goes first, how a long wait climbs the ladder."""
from datetime import datetime, timedelta

import pytest

from routing.assignment import (
    DEFAULT_LADDER,
    Agent,
    Ladder,
    Need,
    Step,
    Team,
    Weights,
    assign_waiting,
    choose,
    weight_for,
)

CARE, BILLING, TECH, FIBRE = 1, 2, 3, 4
TEAMS = [Team(CARE), Team(BILLING, parent_id=CARE), Team(TECH, parent_id=CARE), Team(FIBRE, parent_id=TECH)]
NOW = datetime(2024, 5, 5, 9, 0)


def agent(agent_id, team=BILLING, **kwargs):
    return Agent(agent_id, frozenset({team}), **kwargs)


def chosen(need, agents, ladder=DEFAULT_LADDER):
    return choose(need, agents, TEAMS, ladder).agent_id


def minutes(n):
    return timedelta(minutes=n)


# --- who is eligible ------------------------------------------------------------------------

def test_only_online_agents_of_the_team_are_chosen():
    agents = [agent(1, presence="away"), agent(2, presence="offline"), agent(3, team=TECH), agent(4)]
    assert chosen(Need(BILLING), agents) == 4


def test_a_team_includes_its_sub_teams():
    assert chosen(Need(TECH), [agent(5, team=FIBRE)]) == 5
    assert chosen(Need(FIBRE), [agent(6, team=TECH)]) is None


def test_an_agent_takes_work_only_while_it_fits_their_capacity():
    need = Need(BILLING, weight=3)
    assert chosen(need, [agent(1, capacity=8, load=5)]) == 1  # 5 + 3 fills it exactly
    assert chosen(need, [agent(1, capacity=8, load=6)]) is None


@pytest.mark.parametrize(
    ("language", "languages", "eligible"),
    [
        ("en", {"ar"}, False),
        ("en", {"ar", "en"}, True),
        ("arabizi", {"ar"}, True),  # Arabic speakers read Arabizi
        ("mixed", {"ar"}, True),
        ("ar", {"en"}, False),
        ("arabizi", {"arabizi"}, True),
        (None, {"en"}, True),
    ],
)
def test_the_agent_must_read_the_customers_language(language, languages, eligible):
    assert (chosen(Need(BILLING, language=language), [agent(1, languages=languages)]) == 1) is eligible


def test_the_agent_must_have_the_required_skills():
    need = Need(BILLING, required_skills={"billing"})
    assert chosen(need, [agent(1, skills={"roaming"}), agent(2, skills={"billing", "roaming"})]) == 2


# --- who goes first -------------------------------------------------------------------------

def test_the_least_loaded_share_of_capacity_goes_first():
    part_timer = agent(1, capacity=4, load=2)  # half full
    full_timer = agent(2, capacity=10, load=3)  # less than a third
    assert chosen(Need(BILLING), [part_timer, full_timer]) == 2


def test_among_equally_loaded_agents_the_longest_idle_goes_first():
    agents = [agent(1, load=2, idle_since=NOW - minutes(5)), agent(2, load=2, idle_since=NOW - minutes(30))]
    assert chosen(Need(BILLING), agents) == 2
    assert chosen(Need(BILLING), [*agents, agent(3, load=2, idle_since=None)]) == 3  # never assigned


def test_a_full_tie_goes_to_the_lowest_id():
    assert chosen(Need(BILLING), [agent(9, load=1, idle_since=NOW), agent(4, load=1, idle_since=NOW)]) == 4


def test_the_agent_a_rule_names_is_preferred_when_they_can_take_it():
    agents = [agent(1), agent(7, team=TECH, load=6)]
    choice = choose(Need(BILLING, preferred_agent_id=7), agents, TEAMS)
    assert (choice.agent_id, choice.reason) == (7, "preferred_agent")
    offline = [agent(1), agent(7, presence="offline")]
    fallback = choose(Need(BILLING, preferred_agent_id=7), offline, TEAMS)
    assert (fallback.agent_id, fallback.reason) == (1, "least_loaded")
    assert fallback.detail.startswith("preferred agent 7 cannot take it")


# --- weights --------------------------------------------------------------------------------

def test_a_public_complaint_weighs_more_than_a_direct_message():
    complaint = weight_for(is_public=True, intent="service_complaint", sentiment="negative")
    dm = weight_for(is_public=False, intent="billing", sentiment="neutral")
    assert (complaint, dm) == (4, 1)
    assert chosen(Need(BILLING, weight=complaint), [agent(1, capacity=8, load=5)]) is None
    assert chosen(Need(BILLING, weight=dm), [agent(1, capacity=8, load=5)]) == 1


def test_an_admin_sets_the_weights():
    weights = Weights.from_dict({"private": 1, "public": 3, "intents": {"cancellation": 2}, "negative": 0, "urgent": 2})
    assert weights.weight_for(is_public=True, intent="cancellation", sentiment="negative", priority=1) == 7
    assert Weights.from_dict(weights.to_dict()) == weights


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"public": 0}, "weights: public: expected a whole number of at least 1"),
        ({"intents": {"billling": 1}}, "weights: intents: unknown intent 'billling'"),
        ({"negative": -1}, "weights: negative: expected a whole number of at least 0"),
        ({"dm": 1}, "weights: unknown field 'dm'"),
    ],
)
def test_invalid_weights_are_refused(data, message):
    with pytest.raises(ValueError, match=message):
        Weights.from_dict(data)


# --- the ladder -----------------------------------------------------------------------------

def prepaid_need(waited, team=BILLING):
    return Need(team, required_skills={"billing"}, optional_skills={"prepaid"}, waiting_for=waited)


POSTPAID_ONLY = agent(1, skills={"billing", "postpaid"})


def test_optional_skills_are_required_until_the_drop_step():
    assert chosen(prepaid_need(minutes(5) - timedelta(seconds=1)), [POSTPAID_ONLY]) is None
    choice = choose(prepaid_need(minutes(5)), [POSTPAID_ONLY], TEAMS)
    assert (choice.agent_id, choice.ladder_steps) == (1, ("drop_optional_skills",))


def test_the_narrowest_pool_is_tried_first_even_once_the_ladder_allows_more():
    prepaid = agent(2, skills={"billing", "prepaid"}, load=5)
    choice = choose(prepaid_need(minutes(20)), [POSTPAID_ONLY, prepaid], TEAMS)
    assert (choice.agent_id, choice.ladder_steps, choice.alert_supervisor) == (2, (), False)


def test_a_long_wait_widens_to_the_parent_team_and_everything_under_it():
    tech_agent = agent(3, team=TECH, skills={"billing"})
    assert chosen(prepaid_need(minutes(9)), [tech_agent]) is None
    choice = choose(prepaid_need(minutes(10)), [tech_agent], TEAMS)
    assert (choice.agent_id, choice.ladder_steps) == (3, ("drop_optional_skills", "widen_to_parent_team"))


def test_each_widening_step_climbs_one_level():
    ladder = Ladder((Step(minutes(1), "widen_to_parent_team"), Step(minutes(2), "widen_to_parent_team")))
    billing_agent = agent(1, team=BILLING)
    assert chosen(Need(FIBRE, waiting_for=minutes(1)), [billing_agent], ladder) is None  # TECH only
    assert chosen(Need(FIBRE, waiting_for=minutes(2)), [billing_agent], ladder) == 1  # CARE and below


def test_the_supervisor_is_alerted_once_the_step_is_reached_while_nobody_is_free():
    busy = agent(1, skills={"billing", "prepaid"}, load=8)
    before = choose(prepaid_need(minutes(14)), [busy], TEAMS)
    after = choose(prepaid_need(minutes(15)), [busy], TEAMS)
    assert (before.agent_id, before.alert_supervisor) == (None, False)
    assert (after.agent_id, after.alert_supervisor, after.reason) == (None, True, "at_capacity")
    assert after.ladder_steps == ("drop_optional_skills", "widen_to_parent_team", "alert_supervisor")


def test_the_language_is_never_dropped():
    choice = choose(Need(BILLING, language="en", waiting_for=minutes(60)), [agent(1, languages={"ar"})], TEAMS)
    assert (choice.agent_id, choice.reason, choice.alert_supervisor) == (None, "no_language", True)


@pytest.mark.parametrize(
    ("agents", "reason"),
    [
        ([agent(1, team=TECH)], "no_team_member"),
        ([agent(1, presence="away")], "nobody_online"),
        ([agent(1, languages={"en"})], "no_language"),
        ([agent(1, skills={"roaming"})], "no_skills"),
        ([agent(1, skills={"billing"}, load=8)], "at_capacity"),
    ],
)
def test_when_nobody_can_take_it_the_choice_says_why(agents, reason):
    choice = choose(Need(BILLING, language="ar", required_skills={"billing"}), agents, TEAMS)
    assert (choice.agent_id, choice.reason) == (None, reason)


def test_a_ladder_survives_the_round_trip_and_is_kept_in_time_order():
    saved = {"steps": [{"after_seconds": 900, "action": "alert_supervisor"},
                       {"after_seconds": 300, "action": "drop_optional_skills"}]}
    ladder = Ladder.from_dict(saved)
    assert [step.action for step in ladder.steps] == ["drop_optional_skills", "alert_supervisor"]
    assert Ladder.from_dict(ladder.to_dict()) == ladder


@pytest.mark.parametrize(
    ("steps", "message"),
    [
        ([{"after_seconds": 60, "action": "page_everyone"}], "ladder step 1: action: unknown 'page_everyone'"),
        ([{"after_seconds": -5, "action": "alert_supervisor"}], "ladder step 1: after_seconds: expected a whole"),
        ([{"after_seconds": 60, "action": "alert_supervisor"}, {"after_seconds": 90, "action": "alert_supervisor"}],
         "ladder step 2: action: alert_supervisor is already a step"),
        ([{"after": 60, "action": "alert_supervisor"}], "ladder step 1: unknown field 'after'"),
    ],
)
def test_an_invalid_ladder_is_refused(steps, message):
    with pytest.raises(ValueError, match=message):
        Ladder.from_dict({"steps": steps})


# --- capacity frees -------------------------------------------------------------------------

def test_waiting_conversations_go_out_most_urgent_then_longest_waiting_first():
    needs = [
        Need(BILLING, priority=3, waiting_for=minutes(3), conversation_id="low"),
        Need(BILLING, priority=1, waiting_for=minutes(1), conversation_id="urgent"),
        Need(BILLING, priority=3, waiting_for=minutes(4), conversation_id="low-older"),
    ]
    results = assign_waiting(needs, [agent(1, capacity=2)], TEAMS, now=NOW)
    assert [(key, choice.agent_id) for key, choice in results] == [("urgent", 1), ("low-older", 1), ("low", None)]
    assert results[2][1].reason == "at_capacity"


def test_assigning_a_batch_fills_agents_evenly_without_over_filling_anyone():
    agents = [agent(1, capacity=3, load=1, idle_since=NOW - minutes(9)), agent(2, capacity=3, idle_since=NOW)]
    needs = [Need(BILLING, waiting_for=minutes(6 - n), conversation_id=n) for n in range(6)]
    results = assign_waiting(needs, agents, TEAMS, now=NOW)
    assert [(key, choice.agent_id) for key, choice in results] == [(0, 2), (1, 1), (2, 2), (3, 1), (4, 2), (5, None)]
    assert agents[0].load == 1  # the caller's agents are not changed


def test_an_agent_assigned_in_the_batch_is_no_longer_the_longest_idle():
    rested = agent(1, capacity=4, load=0, idle_since=NOW - minutes(30))
    busy = agent(2, capacity=4, load=1, idle_since=NOW - minutes(10))
    needs = [Need(BILLING, waiting_for=minutes(2), conversation_id="a"), Need(BILLING, conversation_id="b")]
    results = assign_waiting(needs, [rested, busy], TEAMS, now=NOW)
    assert [(key, choice.agent_id) for key, choice in results] == [("a", 1), ("b", 2)]
