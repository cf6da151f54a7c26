"""Case records: the plain-object model and the canonical Arrow schemas."""
