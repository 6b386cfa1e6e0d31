"""Course packs, catalog by audience, lessons and progress."""
