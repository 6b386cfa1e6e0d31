"""A test plugin implementing every core hook."""
