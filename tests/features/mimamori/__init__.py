"""Tests of 見守り (weekly check-ins)."""
