"""Certificates anyone can verify: printable, PDF, QR, signed Open Badges credential."""
