"""Readable generated run names such as ``brave-otter``."""

from __future__ import annotations

import random

_ADJECTIVES = (
    "amber", "bold", "brave", "bright", "calm", "clever", "cosmic", "crisp", "daring", "eager",
    "fair", "fancy", "gentle", "glad", "golden", "grand", "happy", "hidden", "honest", "jolly",
    "keen", "kind", "lively", "lucky", "merry", "mighty", "misty", "nimble", "noble", "patient",
    "polar", "proud", "quick", "quiet", "rapid", "rosy", "rustic", "shiny", "silent", "silver",
    "smart", "snowy", "steady", "sunny", "swift", "tidy", "vivid", "warm", "wise", "zesty",
)
_NOUNS = (
    "badger", "beaver", "bison", "caribou", "cheetah", "condor", "coyote", "crane", "dolphin", "eagle",
    "falcon", "ferret", "finch", "fox", "gazelle", "gecko", "heron", "ibis", "jaguar", "kestrel",
    "koala", "lemur", "lynx", "marten", "meerkat", "mole", "moose", "narwhal", "ocelot", "orca",
    "otter", "owl", "panda", "puffin", "quail", "raven", "robin", "salmon", "seal", "sparrow",
    "stork", "swan", "tapir", "tiger", "toucan", "trout", "turtle", "walrus", "wombat", "yak",
)


def generate_run_name() -> str:
    """An adjective and an animal, e.g. ``quick-heron``."""
    return f"{random.choice(_ADJECTIVES)}-{random.choice(_NOUNS)}"
