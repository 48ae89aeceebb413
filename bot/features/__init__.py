"""The features, one folder each on the shared core: membership, events, notices, surveys,
volunteers. `bot/wiring.py` lists them (FEATURES) and wires them into the bot."""
