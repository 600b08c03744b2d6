"""Source readers: every input (markdown lists today) becomes resources, notes and warnings."""
