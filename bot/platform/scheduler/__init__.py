"""The scheduler: periodic jobs derived from the project's tables, one scheduler at a time.

- `jobs`: the job bodies (plain functions of now, session and deps) and `register_job`.
- `runner`: APScheduler 3.x polling the jobs, `job_run` watermarks, start/stop.
- `lease`: the PostgreSQL advisory-lock lease (SQLite: single process).
- `reminders`: event reminder rules from content/reminders.yaml.
- `digest`: the officers' daily digest as words (figures from services/officer_digest.py).
- `pushes`: enqueueing from jobs under the send policy (quota, quiet hours, budget).
"""
