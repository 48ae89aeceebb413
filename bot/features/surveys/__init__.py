"""Participation surveys: waves from schedules, one-tap answers in LINE, paper answers, and
results per wave and district against the city's targets."""
