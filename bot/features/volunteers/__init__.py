"""Volunteering: residents' profiles, organisers' opportunities and slots, asks matched to
what each resident can comfortably give, shifts, hours and 地域活動ポイント."""
