"""Admin routing rules: what they match, the order they apply in, triage, and the dry-run trace."""
import json

import pytest

from routing.rules import Action, Condition, Facts, Rule, evaluate, explain

BILLING_TEAM, TECH_TEAM, VIP_TEAM, GENERAL_TEAM = 10, 11, 12, 13


def rule(rule_id, conditions, actions, name=None, enabled=True):
    return Rule.from_dict({
        "id": rule_id, "name": name or f"rule {rule_id}", "enabled": enabled,
        "conditions": [dict(zip(("kind", "value", "negate"), c, strict=False)) for c in conditions],
        "actions": [dict(zip(("kind", "value"), a, strict=False)) for a in actions],
    })


def decide(rules, triage_below=0.6, **facts):
    facts = {"intent": "billing", "intent_confidence": 0.9, **facts}
    return evaluate(rules, Facts(**facts), triage_below=triage_below)


def fires(condition, **facts):
    return decide([rule(1, [condition], [("add_tags", ["hit"])])], **facts).tags == ("hit",)


# --- what an admin saves --------------------------------------------------------------------

def test_a_rule_survives_the_round_trip_through_json():
    saved = {
        "id": 3, "name": "VIP billing", "enabled": False,
        "conditions": [
            {"kind": "intent", "value": ["billing", "roaming"], "negate": False},
            {"kind": "public", "value": True, "negate": False},
            {"kind": "keywords", "value": ["فاتورة", "fatora*"], "negate": True},
            {"kind": "regex", "value": r"\b07\d{8}\b", "negate": False},
            {"kind": "channel", "value": [1, 2], "negate": False},
        ],
        "actions": [
            {"kind": "set_team", "value": 12}, {"kind": "set_priority", "value": 1},
            {"kind": "add_tags", "value": ["vip", "billing"]}, {"kind": "auto_reply", "value": 4},
            {"kind": "stop", "value": None},
        ],
    }
    loaded = Rule.from_dict(json.loads(json.dumps(saved)))
    assert loaded.to_dict() == saved
    assert Rule.from_dict(loaded.to_dict()) == loaded


@pytest.mark.parametrize(
    ("condition", "action", "message"),
    [
        ({"kind": "regex", "value": "[abc"}, None, "conditions[1]: condition 'regex': value: invalid pattern"),
        ({"kind": "regex", "value": "(a+)+$"}, None, "conditions[1]: condition 'regex': value: nested repetition"),
        ({"kind": "regex", "value": "x*"}, None, "condition 'regex': value: the pattern matches even an empty"),
        ({"kind": "regex", "value": "a" * 201}, None, "condition 'regex': value: pattern longer than 200"),
        ({"kind": "intent", "value": ["billling"]}, None, "condition 'intent': value: unknown 'billling'"),
        ({"kind": "language", "value": "ar"}, None, "condition 'language': value: expected a list"),
        ({"kind": "keywords", "value": []}, None, "condition 'keywords': value: the list is empty"),
        ({"kind": "keywords", "value": ["@orange_jo"]}, None, "'@orange_jo': use a regex for links"),
        ({"kind": "public", "value": "yes"}, None, "condition 'public': value: expected true or false"),
        ({"kind": "weather", "value": ["rain"]}, None, "conditions[1]: condition: kind: unknown 'weather'"),
        ({"kind": "intent", "valeu": ["billing"]}, None, "conditions[1]: condition: unknown field 'valeu'"),
        (None, {"kind": "set_priority", "value": 5}, "actions[1]: action 'set_priority': value: expected 1"),
        (None, {"kind": "set_team", "value": "10"}, "actions[1]: action 'set_team': value: expected a positive"),
        (None, {"kind": "add_tags", "value": ["x" * 65]}, "actions[1]: action 'add_tags': value: tags are"),
        (None, {"kind": "stop", "value": 1}, "actions[1]: action 'stop': value: takes no value"),
    ],
)
def test_an_invalid_rule_is_refused_naming_the_rule_and_the_field(condition, action, message):
    data = {
        "id": 7, "name": "Bills",
        "conditions": [condition] if condition else [],
        "actions": [action or {"kind": "set_team", "value": 10}],
    }
    with pytest.raises(ValueError) as refused:
        Rule.from_dict(data)
    assert str(refused.value).startswith("rule 7 'Bills': ")
    assert message in str(refused.value)


def test_a_rule_needs_a_name_and_an_action():
    with pytest.raises(ValueError, match=r"rule 7: name: required"):
        Rule.from_dict({"id": 7, "name": " ", "actions": [{"kind": "stop"}]})
    with pytest.raises(ValueError, match=r"rule \(new\) 'Bills': actions: at least one action"):
        Rule.from_dict({"name": "Bills", "conditions": [], "actions": []})


# --- conditions ---------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("keyword", "text"),
    [
        ("فاتورة", "وين الفاتوره تبعت هالشهر"),  # ة/ه and the article
        ("الفاتورة", "الفاتوره غلط"),
        ("فاتورة", "مشكلة بالفاتورة"),  # ب + ال
        ("فاتورة", "فَاتُورَة عالية"),  # diacritics
        ("إنترنت", "الانترنت مقطوع"),  # hamza forms
        ("مشكلة", "عندي مشكلههههه"),  # elongation
        ("فاتور*", "فاتورتي غلط"),  # a trailing * matches the start of a word
        ("رصيد صفر", "الرصيد صفر من امبارح"),  # a phrase: consecutive words
        ("حزمة انترن*", "بدي حزمه انترنت شهرية"),
        ("Fibre", "my FIBRE is down"),  # case
        ("5G", "الـ٥G مش شغال"),  # Arabic-Indic digits
        ("fatora", "el fatora 3alye kteer"),  # Arabizi
    ],
)
def test_keywords_match_whole_words_on_arabic_normalised_text(keyword, text):
    assert fires(("keywords", [keyword]), text=text)


@pytest.mark.parametrize(
    ("keyword", "text"),
    [
        ("net", "the network is down"),  # whole words only
        ("sim", "a simple question"),
        ("فاتورة", "فاتورتي غلط"),  # another word form needs a trailing *
        ("رصيد صفر", "صفر رصيد"),  # a phrase keeps its order
        ("فاتورة", ""),
    ],
)
def test_keywords_do_not_match_parts_of_other_words(keyword, text):
    assert not fires(("keywords", [keyword]), text=text)


def test_any_keyword_of_the_list_is_enough():
    assert fires(("keywords", ["roaming", "تجوال"]), text="بدي حزمة تجوال")


def test_a_regex_reads_the_folded_text_and_ignores_case():
    assert fires(("regex", r"\b07[789]\d{7}\b"), text="رقمي ٠٧٩١٢٣٤٥٦٧")  # Arabic-Indic digits folded
    assert fires(("regex", "فاتورة (شهر|الشهر)"), text="فاتوره الشهر")  # the pattern folds ة too
    assert fires(("regex", "ORDER-\\d+"), text="my order-123 is late")
    assert not fires(("regex", "ORDER-\\d+"), text="my order is late")


@pytest.mark.parametrize(
    ("condition", "facts", "holds"),
    [
        (("channel", [1, 2]), {"channel_id": 2}, True),
        (("channel", [1, 2]), {"channel_id": 3}, False),
        (("platform", ["twitter", "facebook"]), {"platform": "facebook"}, True),
        (("platform", ["twitter"]), {"platform": None}, False),
        (("public", True), {"is_public": True}, True),
        (("public", True), {"is_public": False}, False),
        (("language", ["ar", "arabizi"]), {"language": "arabizi"}, True),
        (("language", ["en"]), {"language": "ar"}, False),
        (("sentiment", ["negative"]), {"sentiment": "negative"}, True),
        (("sentiment", ["negative"]), {"sentiment": None}, False),
        (("urgent", True), {"urgent": True}, True),
        (("urgent", True), {"urgent": False}, False),
        (("business_hours", False), {"in_business_hours": False}, True),
        (("business_hours", False), {"in_business_hours": True}, False),
        (("customer_tag", ["VIP"]), {"customer_tags": frozenset({"vip", "postpaid"})}, True),
        (("customer_tag", ["VIP"]), {"customer_tags": frozenset()}, False),
        (("intent", ["billing", "roaming"]), {"intent": "roaming"}, True),
        (("intent", ["billing"]), {"intent": "roaming"}, False),
        (("intent", ["billing"], True), {"intent": "roaming"}, True),  # negated
        (("platform", ["twitter"], True), {"platform": "twitter"}, False),
    ],
)
def test_fact_conditions_hold_when_the_fact_is_any_of_the_values(condition, facts, holds):
    assert fires(condition, **facts) is holds


def test_a_rule_fires_only_when_all_its_conditions_hold():
    vip_complaint = rule(1, [("customer_tag", ["vip"]), ("sentiment", ["negative"])], [("set_team", VIP_TEAM)])
    assert decide([vip_complaint], customer_tags={"vip"}, sentiment="negative").team_id == VIP_TEAM
    assert decide([vip_complaint], customer_tags={"vip"}, sentiment="neutral").team_id is None


# --- order and actions ----------------------------------------------------------------------

def test_rules_apply_in_order_later_values_override_and_tags_accumulate():
    rules = [
        rule(1, [("intent", ["billing"])], [("set_team", BILLING_TEAM), ("set_priority", 3), ("add_tags", ["bill"])]),
        rule(2, [("customer_tag", ["vip"])], [("set_team", VIP_TEAM), ("add_tags", ["vip", "bill"])]),
        rule(3, [("urgent", True)], [("set_priority", 1), ("auto_reply", 5), ("assign_agent", 42)]),
    ]
    decision = decide(rules, customer_tags={"vip"}, urgent=True)
    assert decision.team_id == VIP_TEAM
    assert decision.priority == 1
    assert decision.tags == ("bill", "vip")
    assert (decision.auto_reply, decision.assignee_id) == (5, 42)
    assert decision.fired == (1, 2, 3)


def test_stop_ends_the_evaluation_after_its_own_actions():
    rules = [
        rule(1, [("customer_tag", ["vip"])], [("set_team", VIP_TEAM), ("stop",), ("add_tags", ["vip"])]),
        rule(2, [], [("set_team", GENERAL_TEAM)]),
    ]
    decision = decide(rules, customer_tags={"vip"})
    assert (decision.team_id, decision.tags) == (VIP_TEAM, ("vip",))
    assert [(t.rule_id, t.outcome) for t in decision.trace] == [(1, "fired"), (2, "not_reached")]
    assert decide(rules).team_id == GENERAL_TEAM  # not stopped when rule 1 does not fire


def test_disabled_rules_are_skipped():
    rules = [rule(1, [], [("set_team", BILLING_TEAM)], enabled=False), rule(2, [], [("add_tags", ["seen"])])]
    decision = decide(rules)
    assert decision.team_id is None
    assert [(t.rule_id, t.outcome) for t in decision.trace] == [(1, "disabled"), (2, "fired")]


def test_without_a_team_from_the_rules_a_confident_conversation_goes_to_the_channel_default():
    decision = decide([rule(1, [("intent", ["roaming"])], [("set_team", TECH_TEAM)])])
    assert (decision.team_id, decision.triage, decision.noise) == (None, False, False)


# --- confidence and triage ------------------------------------------------------------------

BY_INTENT = rule(1, [("intent", ["billing"])], [("set_team", BILLING_TEAM)], name="Billing")


def test_below_the_threshold_the_conversation_goes_to_triage_not_to_the_intents_team():
    decision = decide([BY_INTENT], intent_confidence=0.59, triage_below=0.6)
    assert decision.triage and decision.triage_reason == "low_confidence"
    assert decision.team_id is None
    assert decision.trace[0].reason == "intent billing is not confident (0.59)"
    assert decide([BY_INTENT], intent_confidence=0.6, triage_below=0.6).team_id == BILLING_TEAM


def test_without_an_intent_the_conversation_goes_to_triage():
    decision = decide([BY_INTENT], intent=None, intent_confidence=0.0)
    assert (decision.triage, decision.triage_reason) == (True, "no_intent")


def test_a_rule_on_facts_the_model_does_not_guess_routes_even_a_low_confidence_conversation():
    by_channel = rule(2, [("channel", [9])], [("set_team", VIP_TEAM)])
    decision = decide([BY_INTENT, by_channel], intent_confidence=0.2, channel_id=9)
    assert (decision.team_id, decision.triage) == (VIP_TEAM, False)


def test_a_catch_all_rule_does_not_keep_a_low_confidence_conversation_out_of_triage():
    catch_all = rule(9, [], [("set_team", GENERAL_TEAM), ("assign_agent", 42)])
    assert decide([catch_all]).team_id == GENERAL_TEAM
    decision = decide([catch_all], intent_confidence=0.3)
    assert decision.triage
    assert decision.team_id == GENERAL_TEAM  # the rules' suggestion for the triager
    assert decision.assignee_id is None  # nobody is assigned from triage


def test_route_to_triage_sends_even_a_confident_conversation_to_triage():
    decision = decide([BY_INTENT, rule(2, [("keywords", ["محامي"])], [("route_to_triage",)])], text="رح اكلم محامي")
    assert (decision.triage, decision.triage_reason) == (True, "rule")


@pytest.mark.parametrize("threshold", [-0.1, 1.5, True])
def test_the_threshold_is_a_confidence(threshold):
    with pytest.raises(ValueError, match="triage_below"):
        decide([], triage_below=threshold)


# --- public noise ---------------------------------------------------------------------------

NOISE = rule(5, [("public", True), ("intent", ["other"])], [("keep_out_of_queue",)], name="Public noise")


def test_public_noise_is_kept_out_of_every_queue():
    decision = decide([NOISE, rule(6, [], [("set_team", GENERAL_TEAM), ("assign_agent", 42)])],
                      intent="other", intent_confidence=0.95, is_public=True, text="@sara @lana بدي اربح 🤞")
    assert decision.noise and decision.tags == ("noise",)
    assert (decision.team_id, decision.assignee_id, decision.triage) == (None, None, False)


def test_noise_needs_a_confident_intent_or_a_fact_the_model_does_not_guess():
    unsure = decide([NOISE], intent="other", intent_confidence=0.4, is_public=True)
    assert (unsure.noise, unsure.triage) == (False, True)
    giveaway = rule(6, [("public", True), ("keywords", ["مسابقة", "giveaway"])], [("keep_out_of_queue",)])
    sure = decide([giveaway], intent="other", intent_confidence=0.4, is_public=True, text="المسابقه 🤞")
    assert (sure.noise, sure.triage) == (True, False)


# --- dry run --------------------------------------------------------------------------------

def test_the_dry_run_trace_says_for_every_rule_whether_it_fired_and_which_condition_failed():
    rules = [
        rule(1, [("public", False), ("keywords", ["فاتورة"])], [("set_team", BILLING_TEAM)], name="Bills"),
        rule(2, [("customer_tag", ["vip"])], [("set_priority", 1), ("stop",)], name="VIP"),
        rule(3, [], [("add_tags", ["old"])], name="Old", enabled=False),
        rule(4, [], [("set_team", GENERAL_TEAM)], name="Rest"),
    ]
    decision = decide(rules, text="كم الفاتورة؟", is_public=True, customer_tags={"VIP"}, model_version="m-7")
    assert [(t.rule_id, t.outcome, t.failed_condition, t.reason) for t in decision.trace] == [
        (1, "not_matched", 1, "public is true"),
        (2, "fired", None, ""),
        (3, "not_reached", None, "stopped by rule 2 'VIP'"),
        (4, "not_reached", None, "stopped by rule 2 'VIP'"),
    ]
    assert explain(decision) == [
        "rule 1 'Bills': not matched, condition 1: public is true",
        "rule 2 'VIP': fired: set_priority: 1; stop",
        "rule 3 'Old': not reached, stopped by rule 2 'VIP'",
        "rule 4 'Rest': not reached, stopped by rule 2 'VIP'",
        "outcome: the channel's default team",
        "priority: 1",
    ]


def test_a_draft_rule_can_be_dry_run_before_it_is_saved():
    draft = Rule(None, "Draft", (Condition("keywords", ["تجوال"]),), (Action("set_team", TECH_TEAM),))
    decision = decide([draft], text="التجوال ما اشتغل")
    assert decision.team_id == TECH_TEAM
    assert explain(decision)[0] == "rule (new) 'Draft': fired: set_team: 11"


def test_the_decision_records_why_for_the_conversation_event():
    decision = decide([BY_INTENT], intent_confidence=0.4, model_version="intent-2024-05")
    event = json.loads(json.dumps(decision.to_dict()))
    assert event["triage"] is True and event["triage_reason"] == "low_confidence"
    assert (event["intent"], event["confidence"], event["model_version"]) == ("billing", 0.4, "intent-2024-05")
    assert event["trace"][0]["outcome"] == "not_matched"
    assert explain(decision)[-1] == "outcome: triage, intent billing at 0.40 is below 0.60"
