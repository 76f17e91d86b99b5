"""Admin of the evidence app."""
