"""Seeded mutation fuzzing of every reader family (``make fuzz``; a short run is part of ``make test``)."""
