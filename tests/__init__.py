"""Tests for Kilowise."""
