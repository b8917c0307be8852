"""Test helpers shared by test modules (never imported by product code)."""
