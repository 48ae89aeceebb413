"""Events: organisers create and publish them, residents answer on the event card (with
headcount and needs), waitlists with timed offers, reminders, check-in, calendar files."""
