"""Test support code shared across the suite: real servers the tests start for themselves."""
