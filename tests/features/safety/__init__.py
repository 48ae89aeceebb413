"""Tests of the safety checks (安否確認)."""
