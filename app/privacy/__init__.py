"""Privacy: scrubbing, consent, subject keys, export and erasure."""
