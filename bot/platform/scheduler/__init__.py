"""The scheduler: periodic jobs derived from the project's tables, one scheduler at a time.

- `jobs`: what a job is (`JobSpec`, cadences `Every` and `DailyAt`) and the platform's own job,
  the LINE quota check. Every feature declares its jobs on its `Feature` record.
- `runner`: APScheduler 3.x polling the jobs, `job_run` watermarks, start/stop.
- `lease`: the PostgreSQL advisory-lock lease (SQLite: single process).
- `models`: the `job_run` watermark table.
"""
