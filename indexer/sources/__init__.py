"""Source readers: markdown lists and chat exports become resources, notes and warnings."""
