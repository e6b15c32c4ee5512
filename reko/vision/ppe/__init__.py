"""Protective equipment: where a person's face and head are, and whether something covers them."""
