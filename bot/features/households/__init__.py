"""The household register (世帯名簿): import and export the officer's roster, a slip with a
join QR per household, each 班's progress (the table is core's: bot/core/models/households.py).
"""
