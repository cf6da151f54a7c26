"""The version of mns (kept here, below every module, so that no module imports the face)."""

__version__ = "0.1.0"
