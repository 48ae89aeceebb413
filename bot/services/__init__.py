"""Business rules and queries, shared by the bot and the staff web; no LINE, no HTTP."""
