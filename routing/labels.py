"""The labels every part of Tawasul shares (DESIGN.md, "Intents"): one list, in DESIGN.md's order."""

INTENTS = (
    "billing", "balance_recharge", "network_coverage", "internet_speed", "plans_offers", "sim_number",
    "roaming", "device_delivery", "app_account", "cancellation", "service_complaint", "praise", "other",
)
LANGUAGES = ("ar", "en", "arabizi", "mixed")
SENTIMENTS = ("negative", "neutral", "positive")
