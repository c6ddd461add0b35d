"""Check-ins and visitor counts, on the local file or the shared store with its offline
outbox."""
