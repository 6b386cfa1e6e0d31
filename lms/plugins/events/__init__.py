"""Events: QR registration, tickets and check-in for hundreds of people at once."""
