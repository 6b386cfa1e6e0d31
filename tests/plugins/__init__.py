"""Test-only plugins, installed through the same entry point path as a real package."""
