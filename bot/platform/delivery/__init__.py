"""The delivery outbox: pushes are stored with their cause, then sent in batches of 500.

`outbox.enqueue` writes a message in the caller's transaction; `sender.Sender` claims due
batches, calls LINE within its rate limits with each batch's stored retry key, and records
per-batch and per-recipient outcomes; `outbox.delivery_status` tells staff what became of it.
"""
