"""Safety checks after a disaster (安否確認): one-tap answers per household, 班長 visits,
escalation to officers and ward staff, a live page and a printed list for door-to-door."""
