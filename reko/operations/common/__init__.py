"""What every operation family shares: the request context, image members, ratio coordinates."""
