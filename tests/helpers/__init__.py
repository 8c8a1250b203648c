"""What the tests share: an asyncio runner, free ports, and the outcome
recorders the differential tests (and fuzz/) compare."""
